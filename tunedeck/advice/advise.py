"""`advise`: prompt or fine-tune? Quality from paired tests, cost per request, and the break-even volume.

Runs one evaluation (through `EvalActions`, so answers are cached and statistics are the evaluation's own) of
up to three candidates, then reads the verdict off the paired comparisons: the best are the candidates no
other beats significantly on any quality metric; among them, the cheapest per request is named, never a
quality winner; the tuned model's saving per request against the prompting candidate of equal quality gives
the volume that repays its training.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunedeck.advice.candidates import BASE, PROFILE, TUNED, Candidate, measure, training_cost
from tunedeck.advice.costs import DEFAULT_MONTHS, BreakEven, break_even, format_usd
from tunedeck.errors import UsageError

if TYPE_CHECKING:
    from tunedeck.evaluation import EvalActions, EvalPlan, EvalReport
    from tunedeck.evaluation.actions import EvalWorkspace
    from tunedeck.evaluation.report import Comparison

QUALITY_WINS = {"a-better", "b-better"}


@dataclass
class AdviseRequest:
    data: Path
    base: str
    provider: str | None = None
    profile: str | None = None
    tuned: str | None = None
    tuned_provider: str | None = None
    job: str | None = None
    training_file: Path | None = None
    metrics: list[str] = field(default_factory=list)
    volume_per_month: int | None = None
    months: int = DEFAULT_MONTHS
    max_tokens: int | None = None
    limit: int | None = None
    concurrency: int | None = None


@dataclass
class Advice:
    run_id: str
    items: int
    candidates: list[Candidate]
    comparisons: list[dict[str, Any]]
    """Each quality comparison: metric, a, b, outcome, diff, p_value, verdict (the evaluation's own)."""
    indistinguishable: list[list[str]]
    """Pairs no quality metric separates (no significant difference, or too few items to tell)."""
    best: list[str]
    """Candidates no other beats significantly on any quality metric."""
    cheapest_among_best: str | None
    """None when a price is unknown, or when the cheapest are tied (they cost the same per request)."""
    outcome: str
    """`too-few-items`, `prompting-enough`, `fine-tuning-wins`, `fine-tuning-pays-off`, `cost-unknown` (equal quality,
    a price or the training cost unknown) or `no-tuned-model`."""
    recommendation: str
    against: str | None = None
    """The prompting candidate of equal quality the break-even is computed against."""
    break_even: BreakEven | None = None
    volume_per_month: int | None = None
    paragraph: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def plan_request(request: AdviseRequest, ws: EvalWorkspace) -> tuple[Any, Any]:
    """The evaluation request for the candidates, and the tuned model's job (or None)."""
    from tunedeck.evaluation import EvalRequest, ModelRef

    job, tuned, tuned_provider = _tuned(request, ws)
    if request.profile is None and tuned is None:
        raise UsageError("Nothing to compare the base model with.", "Give --profile NAME, --tuned MODEL or --job JOB.")
    refs = [ModelRef(model=request.base, provider=request.provider, label=BASE)]
    if request.profile is not None:
        refs.append(ModelRef(model=request.base, provider=request.provider, profile=request.profile, label=PROFILE))
    if tuned is not None:
        refs.append(ModelRef(model=tuned, provider=tuned_provider, label=TUNED))
    eval_request = EvalRequest(models=refs, data=request.data, metrics=list(request.metrics), limit=request.limit)
    if request.max_tokens is not None:
        eval_request.max_tokens = request.max_tokens
    if request.concurrency is not None:
        eval_request.concurrency = request.concurrency
    return eval_request, job


def _tuned(request: AdviseRequest, ws: EvalWorkspace) -> tuple[Any, str | None, str | None]:
    from tunedeck.evaluation.leakage import job_for_model

    if request.job is not None and request.tuned is not None:
        raise UsageError("Give --tuned MODEL or --job JOB, not both.")
    if request.job is not None:
        job = ws.store.find_job(request.job)
        if job is None:
            raise UsageError(f"No job {request.job!r} in the store.", "See `tunedeck jobs list`.")
        if not job.fine_tuned_model:
            raise UsageError(f"Job {job.id} has no fine-tuned model yet ({job.display_state}).",
                             f"Wait for it: `tunedeck jobs watch {job.id}`.")  # fmt: skip
        return job, job.fine_tuned_model, request.tuned_provider or job.provider
    if request.tuned is None:
        return None, None, None
    return job_for_model(ws.store, request.tuned), request.tuned, request.tuned_provider or request.provider


def advise(actions: EvalActions, request: AdviseRequest, confirm: Callable[[EvalPlan], bool] | None = None) -> Advice:
    """Evaluate the candidates (asking `confirm` before a paid run) and read the advice off the results."""
    eval_request, job = plan_request(request, actions.ws)
    report = actions.run(eval_request, confirm)
    return advice_from_report(actions.ws, report, request, job)


def advice_from_report(ws: EvalWorkspace, report: EvalReport, request: AdviseRequest, job: Any) -> Advice:
    labels = [m["label"] for m in report.models]
    tuned_label = TUNED if TUNED in labels else None
    candidates = measure(report, ws.store.eval_samples(report.run_id), ws.settings, tuned_label)
    by_label = {c.label: c for c in candidates}
    if tuned_label is not None:
        tuned = by_label[tuned_label]
        tuned.training = training_cost(ws.store, ws.settings, tuned.provider, tuned.model, job, request.training_file)
    quality = [c for c in report.comparisons if c.kind != "value"]
    return decide(report.run_id, report.items, candidates, quality, request.volume_per_month, request.months)


def decide(
    run_id: str,
    items: int,
    candidates: list[Candidate],
    quality: list[Comparison],
    volume_per_month: int | None = None,
    months: int = DEFAULT_MONTHS,
) -> Advice:
    labels = [c.label for c in candidates]
    by_label = {c.label: c for c in candidates}
    wins = [c for c in quality if c.outcome in QUALITY_WINS]
    losers = {(c.a if c.outcome == "b-better" else c.b) for c in wins}
    best = [label for label in labels if label not in losers] or labels
    separated = {frozenset((c.a, c.b)) for c in wins}
    pairs = [[a, b] for i, a in enumerate(labels) for b in labels[i + 1 :] if frozenset((a, b)) not in separated]
    cheapest = _cheapest([by_label[label] for label in best])
    advice = Advice(
        run_id, items, candidates,
        [{"metric": c.metric, "a": c.a, "b": c.b, "outcome": c.outcome, "diff": c.diff, "p_value": c.p_value,
          "verdict": c.verdict} for c in quality],
        pairs, best, cheapest, "", "", volume_per_month=volume_per_month,
    )  # fmt: skip
    decidable = [c for c in quality if c.outcome != "too-few-items"]
    prompting = [label for label in best if label != TUNED]
    if TUNED in by_label and prompting:
        advice.against = _cheapest([by_label[label] for label in prompting]) or prompting[0]
        tuned, other = by_label[TUNED], by_label[advice.against]
        training = tuned.training.usd if tuned.training else None
        advice.break_even = break_even(tuned.cost_per_1000_usd, other.cost_per_1000_usd, training, months=months,
                                       volume_per_month=volume_per_month)  # fmt: skip
    advice.outcome, advice.recommendation = _recommend(advice, by_label, wins, decidable)
    advice.paragraph = paragraph(advice)
    return advice


def _cheapest(candidates: list[Candidate]) -> str | None:
    priced = [c for c in candidates if c.cost_per_1000_usd is not None]
    if not priced or len(priced) < len(candidates):
        return None  # one unknown price: the cheapest cannot be named
    lowest = min(c.cost_per_1000_usd or 0.0 for c in priced)
    cheapest = [c.label for c in priced if c.cost_per_1000_usd == lowest]
    return cheapest[0] if len(cheapest) == 1 else None  # a tie (all local, say): none is cheaper


def _recommend(
    advice: Advice, by_label: dict[str, Candidate], wins: list[Comparison], decidable: list[Comparison]
) -> tuple[str, str]:
    if not decidable:
        return "too-few-items", (
            f"too few items to tell: on {advice.items} held-out item(s) no comparison could reach p < 0.05; "
            "add held-out items before deciding on quality"
        )
    if TUNED not in by_label:
        if len(advice.best) == 1:
            return (
                "no-tuned-model",
                f"{_win_text(wins, advice.best[0])}; prompting with {advice.best[0]} is enough here",
            )
        return "no-tuned-model", "prompting is enough here: " + _indistinct(advice)
    if TUNED not in advice.best:
        winner = advice.best[0]
        return "prompting-enough", f"prompting is enough here: {_win_text(wins, winner)}"
    if advice.best == [TUNED]:
        return "fine-tuning-wins", f"fine-tuning wins on quality: {_win_text(wins, TUNED)}"
    be = advice.break_even
    assert be is not None and advice.against is not None
    head = _indistinct(advice)
    if be.status == "never":
        more = "costs more" if (be.savings_per_1000_usd or 0) < 0 else "saves nothing"
        return "prompting-enough", f"prompting is enough here: {head}, and the tuned model {more} per request"
    if be.status == "unknown":
        return "cost-unknown", f"{head}; whether fine-tuning pays off is unknown: {be.describe()}"
    if be.status == "immediately":
        return (
            "fine-tuning-pays-off",
            f"{head}; fine-tuning pays off from the first request (its training cost nothing)",
        )
    volume = advice.volume_per_month
    text = f"{head}; fine-tuning pays off above {be.per_month:,} requests/month (over {be.months} months)"
    if volume is not None:
        verdict = "it pays off" if volume >= (be.per_month or 0) else "prompting stays cheaper"
        text += f"; at {volume:,} requests/month {verdict}"
    return "fine-tuning-pays-off", text


def _win_text(wins: list[Comparison], winner: str) -> str:
    won = [c.verdict for c in wins if (c.b if c.outcome == "b-better" else c.a) == winner]
    return "; ".join(won) if won else f"{winner} is not beaten on any metric"


def _indistinct(advice: Advice) -> str:
    best = advice.best
    names = " and ".join(best) if len(best) <= 2 else ", ".join(best[:-1]) + f" and {best[-1]}"
    return f"{names} are statistically indistinguishable on quality"


def paragraph(advice: Advice) -> str:
    parts = []
    for c in advice.candidates:
        cost = (
            "free (runs locally)"
            if c.cost_per_1000_usd == 0
            else f"{format_usd(c.cost_per_1000_usd)} per 1,000 requests"
        )
        tokens = f"{c.prompt_tokens_per_request:.0f}" if c.prompt_tokens_per_request is not None else "unknown"
        latency = f"{c.latency_median_s:.2f}s" if c.latency_median_s is not None else "unknown"
        quality = ", ".join(f"{q.metric} {q.value:.2f}" for q in c.quality if q.value is not None)
        parts.append(f"{c.label} ({quality}; {tokens} prompt tokens/request, median latency {latency}, {cost})")
    text = f"On {advice.items} held-out item(s): " + "; ".join(parts) + "."
    if advice.indistinguishable:
        text += " Indistinguishable on quality: " + ", ".join(" ~ ".join(p) for p in advice.indistinguishable) + "."
    if len(advice.best) > 1:
        best = [c for c in advice.candidates if c.label in advice.best]
        if advice.cheapest_among_best:
            text += f" Cheapest per request among the best ({', '.join(advice.best)}): {advice.cheapest_among_best}."
        elif any(c.cost_per_1000_usd is None for c in best):
            text += " The cheapest among the best cannot be named: a price is unknown."
        else:
            text += f" Among the best, {' and '.join(advice.best)} cost the same per request."
    tuned = next((c for c in advice.candidates if c.label == TUNED), None)
    if tuned is not None and tuned.training is not None:
        text += f" Training cost {format_usd(tuned.training.usd)} ({tuned.training.source})."
    if advice.break_even is not None:
        text += f" Against {advice.against}: {advice.break_even.describe()}."
    return text + f" Recommendation: {advice.recommendation}."
