"""Dated hourly rates for Vertex AI dedicated endpoints (machine type + accelerators), for what bills per hour."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from tunedeck.errors import UsageError


@dataclass(frozen=True)
class NodeRate:
    """What one replica of a deployed model costs per hour, and how sure we are of it."""

    usd_per_hour: float
    machine_type: str
    accelerator_type: str = ""
    accelerator_count: int = 0
    as_of: str = ""
    source: str = ""
    verified: bool = False
    from_user_config: bool = False

    def describe(self) -> str:
        parts = [self.machine_type] + (
            [f"{self.accelerator_count}× {self.accelerator_type}"] if self.accelerator_count else []
        )
        origin = "your config" if self.from_user_config else self.source
        check = "" if self.verified or self.from_user_config else ", unverified"
        return f"${self.usd_per_hour:.4f}/node-hour ({' + '.join(parts)}; as of {self.as_of}{check}; {origin})"


@functools.cache
def _table() -> dict[str, Any]:
    text = resources.files("tunedeck.costs").joinpath("endpoint_rates.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def vertex_node_rate(
    machine_type: str,
    accelerator_type: str = "",
    accelerator_count: int = 0,
    overrides: Mapping[str, Any] | None = None,
) -> NodeRate | None:
    """The hourly rate of one node, or None when the machine type (or its accelerator) is not in the table.

    `overrides` is config.toml's `[endpoint_rates.vertex]` section: {machine or accelerator: {usd_per_hour,
    as_of, source}}. None is returned rather than a guess: an unknown rate is shown as unknown.
    """
    table, meta = _table(), _table().get("meta", {})
    overrides = overrides or {}
    from_user = False

    def lookup(name: str, section: str) -> float | None:
        nonlocal from_user
        if isinstance(overrides.get(name), Mapping) and "usd_per_hour" in overrides[name]:
            from_user = True
            return _user_rate(name, overrides[name]["usd_per_hour"])
        value = table.get(section, {}).get(name)
        return float(value) if value is not None else None

    machine = lookup(machine_type, "machine_types")
    if machine is None:
        return None
    total = machine
    accelerator = (accelerator_type or "").upper()
    if accelerator and accelerator != "ACCELERATOR_TYPE_UNSPECIFIED" and accelerator_count:
        per_gpu = lookup(accelerator, "accelerators")
        if per_gpu is None:
            return None
        total += per_gpu * accelerator_count
    else:
        accelerator, accelerator_count = "", 0
    user: Mapping[str, Any] = next(
        (overrides[n] for n in (machine_type, accelerator) if isinstance(overrides.get(n), Mapping)), {}
    )
    return NodeRate(
        usd_per_hour=round(total, 4),
        machine_type=machine_type,
        accelerator_type=accelerator,
        accelerator_count=accelerator_count,
        as_of=str(user.get("as_of", meta.get("as_of", ""))),
        source=str(user.get("source", meta.get("source", ""))),
        verified=bool(meta.get("verified", False)),
        from_user_config=from_user,
    )


def rates_as_of() -> str:
    """When the shipped table's figures were read (shown beside an unknown rate, so its age is visible)."""
    return str(_table().get("meta", {}).get("as_of", ""))


def _user_rate(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f'[endpoint_rates.vertex."{name}"] usd_per_hour is not a number ({value!r}).',
            "Give usd_per_hour in config.toml as a number of US dollars.",
        ) from exc
