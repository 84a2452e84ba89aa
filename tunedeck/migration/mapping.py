"""From an OpenAI job's hyperparameters to a comparable job on another provider, saying where they do not map.

OpenAI resolves `auto` when the job starts, so a finished job's record holds the numbers it trained with. Epochs
mean the same everywhere. A learning-rate multiplier scales each provider's own default rate (OpenAI's is not
published, the local backend's is 2e-3 for LoRA, Vertex's depends on the model), so it carries the intent
("twice the default") but not the absolute rate. Batch size means examples per optimiser step on OpenAI and the
local backend; Vertex takes none for Gemini.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TARGETS = ("local", "vertex")
DEFAULT_BASE_MODELS = {"local": "smollm2-135m-instruct", "vertex": "gemini-2.5-flash"}


@dataclass(frozen=True)
class MappedHyperparameters:
    n_epochs: int | str = "auto"
    batch_size: int | str = "auto"
    learning_rate_multiplier: float | str = "auto"
    notes: list[str] = field(default_factory=list)
    """One plain sentence per hyperparameter that did not carry over exactly."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "n_epochs": self.n_epochs,
            "batch_size": self.batch_size,
            "learning_rate_multiplier": self.learning_rate_multiplier,
            "notes": list(self.notes),
        }


def source_hyperparameters(job: Mapping[str, Any]) -> dict[str, Any]:
    """The three OpenAI hyperparameters from a job record (the method's when present, else the legacy field)."""
    method = job.get("method") or {}
    supervised = (method.get("supervised") or {}).get("hyperparameters") if isinstance(method, dict) else None
    found = dict(job.get("hyperparameters") or {})
    if isinstance(supervised, dict):
        found.update({k: v for k, v in supervised.items() if v is not None})
    return {k: found.get(k, "auto") for k in ("n_epochs", "batch_size", "learning_rate_multiplier")}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def map_hyperparameters(
    source: Mapping[str, Any], target: str, overrides: Mapping[str, Any] | None = None
) -> MappedHyperparameters:
    """`source` (OpenAI's n_epochs, batch_size, learning_rate_multiplier) for `target`; `overrides` (the user's
    flags) win over anything mapped and silence that parameter's note."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    notes: list[str] = []
    epochs: int | str = "auto"
    if (value := _number(source.get("n_epochs"))) is not None:
        epochs = int(value)
    elif "n_epochs" not in given:
        notes.append("epochs: the OpenAI job did not record a number; the target chooses (auto).")

    rate: float | str = "auto"
    if (value := _number(source.get("learning_rate_multiplier"))) is not None:
        rate = value
        if "learning_rate_multiplier" not in given:
            default = "2e-3 (LoRA)" if target == "local" else "Vertex's default for the model"
            notes.append(
                f"learning-rate multiplier {value:g}: carried over, but it scales the target's own default rate "
                f"({default}), not OpenAI's unpublished one, so the absolute rate differs."
            )

    batch: int | str = "auto"
    openai_batch = _number(source.get("batch_size"))
    if target == "vertex" and "batch_size" not in given:
        if openai_batch is not None:
            notes.append(
                f"batch size {int(openai_batch)}: not carried over; Vertex takes no batch size for Gemini tuning."
            )
    elif openai_batch is not None:
        batch = int(openai_batch)
        if "batch_size" not in given:
            notes.append(
                f"batch size {batch}: carried over (examples per step on both), but steps per epoch differ when "
                "the data is split differently; check the step count in the plan."
            )
    mapped = {"n_epochs": epochs, "batch_size": batch, "learning_rate_multiplier": rate, **given}
    return MappedHyperparameters(
        n_epochs=mapped["n_epochs"],
        batch_size=mapped["batch_size"],
        learning_rate_multiplier=mapped["learning_rate_multiplier"],
        notes=notes,
    )
