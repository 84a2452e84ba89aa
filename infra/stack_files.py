"""Reads a stack's config the way Pulumi does: `Pulumi.yaml` defaults overlaid with `Pulumi.<stack>.yaml`.

Used where the Pulumi CLI is not (the offline plan) or not needed (the destroy warning). Secure values cannot be
decrypted without Pulumi, so they come back as a placeholder and their keys are listed as secret.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import SECRET_PLACEHOLDER
from infra.errors import InfraConfigError

PROJECT_FILE = "Pulumi.yaml"
_SCHEMA_ATTRIBUTES = frozenset({"type", "default", "value", "description", "secret", "items"})


@dataclass(frozen=True)
class StackConfig:
    project_name: str
    stack: str
    values: Mapping[str, Any]
    """Full keys (`gcp:project`, `tunedeck:endpoints`) to YAML values."""
    secret_keys: frozenset[str]

    def as_pulumi_config(self) -> dict[str, str]:
        """Values as the language host hands them to a program: strings, structured ones as JSON."""
        return {key: _as_text(value) for key, value in self.values.items()}


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InfraConfigError(f"Cannot read {path}: {exc}", "Fix the YAML or restore it from git.") from exc
    if not isinstance(data, dict):
        raise InfraConfigError(f"{path} is not a YAML map.", "See Pulumi.dev.yaml at the repository root.")
    return data


def _full_key(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _unsecure(value: Any, key: str, secret_keys: set[str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            secret_keys.add(key)
            return SECRET_PLACEHOLDER
        return {k: _unsecure(v, key, secret_keys) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecure(v, key, secret_keys) for v in value]
    return value


def load_project(work_dir: Path) -> dict[str, Any]:
    path = work_dir / PROJECT_FILE
    if not path.is_file():
        raise InfraConfigError(
            f"No {PROJECT_FILE} in {work_dir}.",
            "Point tunedeck at the directory holding the Pulumi project (`--work-dir`, or `[infra] work_dir`).",
        )
    project = _read_yaml(path)
    if not isinstance(project.get("name"), str):
        raise InfraConfigError(f"{path} has no project `name`.", "Restore Pulumi.yaml from version control.")
    return project


def stack_file(work_dir: Path, stack: str, project: Mapping[str, Any] | None = None) -> Path:
    project = project if project is not None else load_project(work_dir)
    return work_dir / str(project.get("stackConfigDir") or ".") / f"Pulumi.{stack}.yaml"


def load_stack_config(work_dir: Path, stack: str) -> StackConfig:
    project = load_project(work_dir)
    name = project["name"]
    values: dict[str, Any] = {}
    for key, declared in (project.get("config") or {}).items():
        if isinstance(declared, dict) and declared and set(declared) <= _SCHEMA_ATTRIBUTES:
            value = declared.get("value", declared.get("default"))
        else:
            value = declared
        if value is not None:
            values[_full_key(name, key)] = value
    path = stack_file(work_dir, stack, project)
    if not path.is_file():
        raise InfraConfigError(
            f"No stack file {path.name} in {path.parent}.",
            f"Write one for your own project with `tunedeck infra init DIR --stack {stack}`, then pass "
            "`--work-dir DIR` (or set [infra] work_dir in config.toml); or create it here with `config:` holding "
            "at least `gcp:project` and `gcp:region` (see Pulumi.dev.yaml).",
        )
    secret_keys: set[str] = set()
    for key, value in (_read_yaml(path).get("config") or {}).items():
        full = _full_key(name, key)
        values[full] = _unsecure(value, full, secret_keys)
    return StackConfig(project_name=name, stack=stack, values=values, secret_keys=frozenset(secret_keys))
