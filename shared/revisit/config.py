"""Loading tenant files. Errors name the file and the field; nothing is half-loaded."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from revisit.errors import ConfigError
from revisit.models.tenant import TenantConfig


def describe_validation_error(source: str, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        location = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{source}: {location or '(top level)'}: {message}")
    return "\n".join(lines)


def parse_tenant(data: object, source: str) -> TenantConfig:
    try:
        return TenantConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(source, exc)) from None


def load_tenant(path: str | Path) -> TenantConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read tenant file: {exc.strerror}") from None
    import yaml  # a deployed tenant's file is JSON: PyYAML only for the repository's YAML files (cold start)

    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from None
    return parse_tenant(data, str(path))


def tenant_files(folder: str | Path) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.suffix in (".yaml", ".yml", ".json"))
