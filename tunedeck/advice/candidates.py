"""The candidates `advise` compares and what each costs: measured latency and tokens, price, training cost.

Candidates share one evaluation run (same held-out items, cached answers reused): the base model with the
dataset's own prompt, the base model with a profile (its few-shot, memory and retrieval make longer prompts),
and the tuned model with the dataset's own prompt (the held-out file is in the format it was trained on).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tunedeck.advice.costs import RequestPrice, cost_per_1000, request_price
from tunedeck.errors import TunedeckError, UsageError

if TYPE_CHECKING:
    from tunedeck.evaluation.report import EvalReport
    from tunedeck.settings import Settings
    from tunedeck.store import JobRecord, Store
    from tunedeck.store.evals import EvalSample

BASE, PROFILE, TUNED = "base", "profile", "tuned"
ROLES = {
    BASE: "the base model with the dataset's own system prompt",
    PROFILE: "the base model with the profile (its prompt, few-shot, memory and retrieval)",
    TUNED: "the tuned model with the short prompt it was trained with (the dataset's own)",
}


@dataclass(frozen=True)
class Quality:
    metric: str
    kind: str
    value: float | None
    low: float | None
    high: float | None
    n: int


@dataclass(frozen=True)
class TrainingCost:
    usd: float | None
    source: str
    """`job actual`, `job estimate`, `training file estimate`, `local` or why it is unknown."""


@dataclass
class Candidate:
    label: str
    role: str
    provider: str
    model: str
    profile: str | None = None
    quality: list[Quality] = field(default_factory=list)
    answers: int = 0
    latency_median_s: float | None = None
    latency_p90_s: float | None = None
    prompt_tokens_per_request: float | None = None
    completion_tokens_per_request: float | None = None
    price: str = "unknown"
    """The price used, in words (with its date and source), or why there is none."""
    cost_per_1000_usd: float | None = None
    training: TrainingCost | None = None
    """Tuned model only: the one-time training cost."""


def measure(
    report: EvalReport, samples: list[EvalSample], settings: Settings | None, tuned_label: str | None
) -> list[Candidate]:
    """Candidates with quality (from the report), latency and tokens (per answer, from the records) and cost."""
    candidates = []
    for model in report.models:
        label = model["label"]
        answered = [s for s in samples if s.model == label and s.error is None]
        candidate = Candidate(label, ROLES.get(label, model["description"]), model["provider"], model["model"],
                              model.get("profile"))  # fmt: skip
        candidate.quality = [
            Quality(s.metric, s.kind, s.value, s.low, s.high, s.n) for s in report.summaries if s.model == label
        ]
        candidate.answers = len(answered)
        candidate.latency_median_s, candidate.latency_p90_s = latency(
            [s.latency_s for s in answered if s.latency_s is not None]
        )
        candidate.prompt_tokens_per_request = _mean([s.prompt_tokens for s in answered])
        candidate.completion_tokens_per_request = _mean([s.completion_tokens for s in answered])
        price = request_price(settings, candidate.provider, candidate.model, tuned=label == tuned_label)
        candidate.price = price.describe() if price else _unpriced(candidate, label == tuned_label)
        candidate.cost_per_1000_usd = cost_per_1000(
            price, candidate.prompt_tokens_per_request, candidate.completion_tokens_per_request
        )
        candidates.append(candidate)
    return candidates


def _unpriced(candidate: Candidate, tuned: bool) -> str:
    which = "fine-tuned inference" if tuned else "base-model inference"
    return (
        f"unknown: the price table has no {which} price for {candidate.provider}:{candidate.model} "
        f"(add it under [prices.{candidate.provider}] in config.toml)"
    )


def latency(values: list[float]) -> tuple[float | None, float | None]:
    """Median and 90th percentile (inclusive method: the p90 of one answer is that answer)."""
    if not values:
        return None, None
    if len(values) == 1:
        return values[0], values[0]
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def _mean(values: list[int | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def training_cost(
    store: Store, settings: Settings, provider: str, model: str, job: JobRecord | None, training_file: Path | None
) -> TrainingCost:
    """The job's billed cost, else its estimate, else an estimate from the training file; local training is free."""
    if provider == "local":
        return TrainingCost(0.0, "local: trained on this machine, no bill")
    if job is not None and job.actual_cost_usd is not None:
        return TrainingCost(job.actual_cost_usd, f"job {job.id}: actual cost")
    if job is not None and job.estimated_cost_usd is not None:
        return TrainingCost(job.estimated_cost_usd, f"job {job.id}: estimated before training")
    if training_file is None and job is not None:
        from tunedeck.evaluation.leakage import training_path

        training_file = training_path(store, job)
    if training_file is None:
        return TrainingCost(None, "unknown: no tunedeck job and no --training file to estimate it from")
    base = job.base_model if job is not None else model
    epochs = job.spec.get("n_epochs") if job is not None else None
    return _estimate_from_file(settings, provider, base, training_file, epochs if isinstance(epochs, int) else None)


def _estimate_from_file(settings: Settings, provider: str, model: str, path: Path, epochs: int | None) -> TrainingCost:
    if not path.is_file():
        raise UsageError(f"Training file {path} does not exist.", "Give the file the model was trained on.")
    from tunedeck.data.validate import validate_file

    try:
        stats = validate_file(path, provider=provider, model=model, epochs=epochs, settings=settings).stats
    except TunedeckError as exc:
        return TrainingCost(None, f"unknown: {exc.title}")
    if stats.cost is None:
        return TrainingCost(None, f"unknown: {stats.cost_note or 'no estimate for this file'}")
    return TrainingCost(stats.cost.estimated_usd, f"estimated from {path.name}: {stats.cost.describe()}")


__all__ = ["BASE", "PROFILE", "TUNED", "Candidate", "Quality", "RequestPrice", "TrainingCost", "measure"]
