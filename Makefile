# Every target sets up what it needs itself (a local virtualenv)
# and reuses it on the next run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
export PYTHONDONTWRITEBYTECODE := 1
export TZ := UTC
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
# 5,000 is the issue's size; it takes about 8 minutes offline here (README), 1,500 about three.
DEMO_PATIENTS ?= 600
DEMO_DAYS ?= 100

NODE_TOOLS := node_modules/.installed
# checkov pins an older boto3: it gets a virtualenv of its own.
CHECKOV := .venv-checkov/bin/checkov
CHROMIUM := /usr/bin/chromium

.PHONY: demo test lint synth deploy bench fuzz clean

# Then a screenshot of every patient and staff page in out/screens/ (Chromium is installed where missing;
# where it cannot be, the step says so and the demo still passes).
demo: $(VENV)/.installed $(CHROMIUM)
	$(BIN)/revisit demo --out out --patients $(DEMO_PATIENTS) --days $(DEMO_DAYS)
	$(BIN)/revisit screens --out out/screens

# DynamoDB Local (npm) is the data layer's second engine in the tests.
# The suite records every AWS call the offline code makes (by function, state machine and schedule); then
# tests/infra/test_iam_calls.py checks them against the synthesized roles (allowed, and no grant unused).
AWS_CALLS := .aws-calls
test: $(VENV)/.installed $(NODE_TOOLS) $(CHECKOV) $(CHROMIUM)
	rm -rf $(AWS_CALLS)
	REVISIT_RECORD_AWS_CALLS=$(CURDIR)/$(AWS_CALLS) $(PY) -m pytest -q -n 2
	$(PY) -m pytest -q -p no:xdist tests/infra/test_iam_calls.py --aws-calls $(AWS_CALLS)

# The CDK CLI synthesizes one stack per tenant file into cdk.out (no Docker, no AWS account).
synth: $(VENV)/.installed $(NODE_TOOLS)
	$(PY) layers/build_layer.py
	npx --no-install cdk synth --quiet

# One tenant's stack to the account and region its file names: refuses without credentials for that account
# (before building anything), then the layer, synth with cdk-nag, diff and deploy (docs/deploy.md).
TENANT ?=
deploy: $(VENV)/.installed $(NODE_TOOLS)
	@test -n "$(TENANT)" || { echo "make deploy: name the tenant, e.g. make deploy TENANT=demo (tenants/demo.yaml)"; exit 2; }
	$(BIN)/revisit deploy --tenant tenants/$(TENANT).yaml $(if $(YES),--yes)

# The rule set pyproject.toml selects (functions/ruff.toml adds the handlers' banned imports), then the
# import rules between layers (import-linter contracts in pyproject.toml).
lint: $(VENV)/.installed
	$(BIN)/ruff check shared functions tests bench infra app.py layers
	PYTHONPATH=shared:. $(BIN)/lint-imports --no-cache --no-logo

bench: $(VENV)/.installed
	$(PY) bench/run.py
	$(PY) bench/night.py 15000

# schemathesis at full size: over 1,000 generated requests, none a 5xx, an undocumented status or body.
fuzz: $(VENV)/.installed
	FUZZ_EXAMPLES=70 $(PY) -m pytest -q -s -p no:xdist tests/api/test_schemathesis.py

$(NODE_TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests (tests/browser) drive Debian's Chromium with Playwright: no browser download.
$(CHROMIUM):
	command -v chromium >/dev/null || { $$(test "$$(id -u)" = 0 || echo sudo) apt-get update -qq && \
		$$(test "$$(id -u)" = 0 || echo sudo) apt-get install -y -qq --no-install-recommends chromium; }

$(CHECKOV):
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check "checkov==3.3.30"

# constraints.txt pins every package to the versions the suite last passed with.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .venv-checkov node_modules out cdk.out
