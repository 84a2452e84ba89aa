"""An evaluation's results, computed from its stored records: scores with intervals, paired tests, flips, verdicts.

Everything here is derived from the store (never from a live run), so `eval report RUN` shows exactly what the
run printed, and a rescore changes the report without asking a model.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from tunedeck.evaluation import stats
from tunedeck.evaluation.gates import GateResult
from tunedeck.evaluation.metrics import Kind, Metric
from tunedeck.evaluation.targets import Target
from tunedeck.store.evals import EvalItemRecord, EvalRunRecord, EvalSample, Judgement

FLIPS_SHOWN = 50
"""Flipped items kept per pair and metric (the counts are always complete)."""


@dataclass(frozen=True)
class Summary:
    model: str
    metric: str
    kind: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    method: str
    passed: int | None = None


@dataclass(frozen=True)
class Flip:
    item: int
    line: int
    direction: str
    """`pass→fail` (A passed, B failed) or `fail→pass`."""
    question: str
    reference: str
    output_a: str
    output_b: str


@dataclass(frozen=True)
class Comparison:
    metric: str
    kind: str
    a: str
    b: str
    n: int
    diff: float | None
    low: float | None
    high: float | None
    p_value: float | None
    test: str
    outcome: str
    """`b-better`, `a-better`, `b-higher`, `a-higher`, `no-clear-difference` or `too-few-items`."""
    verdict: str
    pass_to_fail: int | None = None
    fail_to_pass: int | None = None
    flips: list[Flip] = field(default_factory=list)


@dataclass(frozen=True)
class Usage:
    model: str
    answers: int
    errors: int
    cached: int
    latency_mean_s: float | None
    latency_p95_s: float | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    """Of this run's calls (cached answers cost nothing now); None when a paid answer had no known price."""


@dataclass
class EvalReport:
    run_id: str
    status: str
    created_at: str
    data: dict[str, Any]
    models: list[dict[str, Any]]
    metrics: list[dict[str, str]]
    items: int
    repeat: int
    judge: dict[str, Any] | None
    summaries: list[Summary]
    comparisons: list[Comparison]
    verdicts: list[str]
    usage: list[Usage]
    judge_cost_usd: float | None
    errors: list[dict[str, Any]]
    leakage: list[str]
    loss_curves: dict[str, list[dict[str, float]]]
    gates: list[GateResult] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    """Per item: question, reference and each model's first answer with its scores (for HTML and JUnit)."""

    @property
    def gates_crossed(self) -> list[GateResult]:
        return [gate for gate in self.gates if gate.crossed]

    def value(self, model: str, metric: str) -> float | None:
        for summary in self.summaries:
            if summary.model == model and summary.metric == metric:
                return summary.value
        return None


def build_report(
    run: EvalRunRecord,
    items: list[EvalItemRecord],
    samples: list[EvalSample],
    judgements: list[Judgement],
    loss_curves: dict[str, list[dict[str, float]]],
) -> EvalReport:
    spec = run.spec
    targets = [Target.from_dict(t) for t in spec["targets"]]
    labels = [t.label for t in targets]
    metrics = [Metric.from_dict(m) for m in spec["metrics"]]
    repeat = int(spec.get("repeat", 1))
    by_item = {item.item: item for item in items}
    per_item = _per_item_values(samples, metrics)
    summaries = [
        _summary(label, metric, per_item[label][metric.name], repeat) for label in labels for metric in metrics
    ]
    first = _first_answers(samples)
    comparisons = [
        _compare(metric, a, b, per_item[a][metric.name], per_item[b][metric.name], repeat, by_item, first)
        for metric in metrics
        for a, b in combinations(labels, 2)
    ]
    comparisons += _pairwise(judgements, labels)
    # Per-order rows of a pairwise verdict only serve as its cache; the verdict's row carries both orders' cost.
    judge_costs = [j.cost_usd for j in judgements if j.kind in ("rubric", "pairwise")]
    return EvalReport(
        run_id=run.id,
        status=run.status,
        created_at=run.created_at.isoformat(),
        data=spec.get("data", {}),
        models=[{**t.to_dict(), "description": t.describe()} for t in targets],
        metrics=[m.to_dict() for m in metrics],
        items=len(items),
        repeat=repeat,
        judge=spec.get("judge"),
        summaries=summaries,
        comparisons=comparisons,
        verdicts=[c.verdict for c in comparisons],
        usage=[_usage(label, [s for s in samples if s.model == label]) for label in labels],
        judge_cost_usd=None if any(c is None for c in judge_costs) else sum(c or 0.0 for c in judge_costs),
        errors=[{"model": s.model, "item": s.item, "repeat": s.repeat, "error": s.error} for s in samples if s.error],
        leakage=list(spec.get("leakage", [])),
        loss_curves=loss_curves,
        samples=_sample_rows(items, first, labels),
    )


def _per_item_values(samples: list[EvalSample], metrics: list[Metric]) -> dict[str, dict[str, dict[int, float]]]:
    """label → metric → item → mean over the item's repeats that have a score."""
    collected: dict[str, dict[str, dict[int, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for sample in samples:
        if sample.error is not None:
            continue
        for metric in metrics:
            value = sample.scores.get(metric.name)
            if value is not None:
                collected[sample.model][metric.name][sample.item].append(float(value))
    result: dict[str, dict[str, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for label, by_metric in collected.items():
        for name, by_item in by_metric.items():
            result[label][name] = {item: sum(v) / len(v) for item, v in by_item.items()}
    return result


def _binary(metric: Metric, repeat: int) -> bool:
    """Pass/fail statistics apply per answer only without repeats; with repeats an item's pass rate is a score."""
    return metric.kind is Kind.PASS and repeat == 1


def _summary(label: str, metric: Metric, values: dict[int, float], repeat: int) -> Summary:
    scored = list(values.values())
    if _binary(metric, repeat):
        passed = sum(1 for v in scored if v >= 0.5)
        est = stats.wilson(passed, len(scored))
    else:
        passed = None
        est = stats.bootstrap_mean(scored)
    value = None if math.isnan(est.value) else est.value
    return Summary(label, metric.name, str(metric.kind), value, est.low, est.high, est.n, est.method, passed)


def _first_answers(samples: list[EvalSample]) -> dict[tuple[str, int], EvalSample]:
    first: dict[tuple[str, int], EvalSample] = {}
    for sample in sorted(samples, key=lambda s: s.repeat):
        first.setdefault((sample.model, sample.item), sample)
    return first


def _compare(
    metric: Metric,
    a: str,
    b: str,
    values_a: dict[int, float],
    values_b: dict[int, float],
    repeat: int,
    items: dict[int, EvalItemRecord],
    first: dict[tuple[str, int], EvalSample],
) -> Comparison:
    shared = sorted(set(values_a) & set(values_b))
    xs, ys = [values_a[i] for i in shared], [values_b[i] for i in shared]
    flips: list[Flip] = []
    if _binary(metric, repeat):
        result = stats.mcnemar_paired([x >= 0.5 for x in xs], [y >= 0.5 for y in ys])
        for item, x, y in zip(shared, xs, ys, strict=True):
            if (x >= 0.5) != (y >= 0.5) and len(flips) < FLIPS_SHOWN:
                flips.append(_flip(items[item], "pass→fail" if x >= 0.5 else "fail→pass", first, a, b))
    else:
        result = stats.paired_scores(xs, ys)
    outcome, verdict = _verdict(metric, a, b, result)
    return Comparison(
        metric.name, str(metric.kind), a, b, result.n, _finite(result.diff), result.low, result.high,
        result.p_value if result.n else None, result.test, outcome, verdict, result.pass_to_fail, result.fail_to_pass,
        flips,
    )  # fmt: skip


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def _flip(item: EvalItemRecord, direction: str, first: dict[tuple[str, int], EvalSample], a: str, b: str) -> Flip:
    question = item.messages[-1]["content"] if item.messages else ""
    out_a, out_b = first.get((a, item.item)), first.get((b, item.item))
    return Flip(
        item.item, item.line, direction, question, item.reference,
        (out_a.output or "") if out_a else "", (out_b.output or "") if out_b else "",
    )  # fmt: skip


def _verdict(metric: Metric, a: str, b: str, result: stats.Paired, name: str | None = None) -> tuple[str, str]:
    name = name or metric.name
    if result.n == 0:
        return "too-few-items", f"{a} vs {b} on {name}: no item has an answer from both, nothing to compare"
    if not result.decidable:
        need = stats.min_items_for_a_verdict()
        return "too-few-items", (
            f"{a} vs {b} on {name}: too few items to tell ({result.differing} of {result.n} differ; "
            f"at least {need} must differ before p < {stats.ALPHA:g} is possible)"
        )
    figures = f"({stats.format_diff(result.diff)}, {stats.format_p(result.p_value)})"
    if not result.significant:
        return "no-clear-difference", f"no clear difference between {a} and {b} on {name} {figures}"
    higher, lower = (b, a) if result.diff > 0 else (a, b)
    figures = f"({stats.format_diff(result.diff if higher == b else -result.diff)}, {stats.format_p(result.p_value)})"
    if metric.higher_is_better is None:
        return f"{'b' if higher == b else 'a'}-higher", f"{higher} is higher than {lower} on {name} {figures}"
    return f"{'b' if higher == b else 'a'}-better", f"{higher} beats {lower} on {name} {figures}"


def _pairwise(judgements: list[Judgement], labels: list[str]) -> list[Comparison]:
    from tunedeck.evaluation.metrics import JUDGE

    results = []
    for a, b in combinations(labels, 2):
        verdicts = [j.verdict for j in judgements if j.kind == "pairwise" and j.subject == f"{a}|{b}" and j.verdict]
        if not verdicts:
            continue
        wins_a = sum(1 for v in verdicts if v.get("winner") == "A")
        wins_b = sum(1 for v in verdicts if v.get("winner") == "B")
        result = stats.sign_test(wins_a, wins_b, len(verdicts) - wins_a - wins_b)
        metric = Metric("pairwise-judge", JUDGE, Kind.PASS, "pairwise judge")
        outcome, verdict = _verdict(metric, a, b, result, "the pairwise judge's opinion")
        comparison = Comparison(
            "pairwise-judge", "pairwise", a, b, result.n, _finite(result.diff), None, None, result.p_value,
            "sign test (both orders must agree)", outcome, verdict, wins_a, wins_b,
        )  # fmt: skip
        results.append(comparison)
    return results


def _usage(label: str, samples: list[EvalSample]) -> Usage:
    answered = [s for s in samples if s.error is None]
    fresh = [s for s in answered if s.cached_from is None]
    latencies = sorted(s.latency_s for s in fresh if s.latency_s is not None)
    costs = [s.cost_usd for s in fresh]
    p95 = latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)] if latencies else None
    return Usage(
        model=label,
        answers=len(answered),
        errors=len(samples) - len(answered),
        cached=len(answered) - len(fresh),
        latency_mean_s=statistics.fmean(latencies) if latencies else None,
        latency_p95_s=p95,
        prompt_tokens=sum(s.prompt_tokens or 0 for s in answered),
        completion_tokens=sum(s.completion_tokens or 0 for s in answered),
        cost_usd=None if any(c is None for c in costs) else sum(c or 0.0 for c in costs),
    )


def _sample_rows(
    items: list[EvalItemRecord], first: dict[tuple[str, int], EvalSample], labels: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        answers = {}
        for label in labels:
            sample = first.get((label, item.item))
            if sample is not None:
                answers[label] = {"output": sample.output, "error": sample.error, "scores": sample.scores}
        question = item.messages[-1]["content"] if item.messages else ""
        rows.append({"item": item.item, "line": item.line, "question": question, "reference": item.reference,
                     "answers": answers})  # fmt: skip
    return rows
