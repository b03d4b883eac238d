# Every target sets up what it needs itself (a local virtualenv, the npm tools, the Lambda layer)
# and reuses it on the next run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
export PYTHONDONTWRITEBYTECODE := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export TZ := UTC

.PHONY: demo test lint synth bench layer serve clean

demo: $(VENV)/.installed
	$(BIN)/revisit demo --out out

test: $(VENV)/.installed node_modules/.installed layers/build/.installed
	$(PY) -m pytest -n 2 --dist loadgroup

lint: $(VENV)/.installed
	$(BIN)/ruff check shared functions infra tests bench app.py
	$(BIN)/ruff format --check shared functions infra tests bench app.py

synth: $(VENV)/.installed node_modules/.installed layers/build/.installed
	npx --no-install cdk synth --quiet

bench: $(VENV)/.installed
	$(PY) bench/run.py

layer: layers/build/.installed

serve: $(VENV)/.installed
	$(BIN)/revisit serve

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The Lambda layer: third-party packages for the Lambda runtime (Linux x86_64, Python 3.12)
# plus the revisit package. Built here so that `cdk synth` never needs Docker.
layers/build/.installed: layers/requirements.txt $(VENV)/.installed $(shell find shared/revisit -name '*.py' -o -name '*.j2' -o -name '*.json' 2>/dev/null)
	$(PY) layers/build_layer.py
	touch $@

clean:
	rm -rf $(VENV) node_modules layers/build cdk.out out
