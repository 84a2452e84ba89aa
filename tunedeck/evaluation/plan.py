"""Planning an evaluation before anything is asked: targets, items, prompts, what is already answered, the cost.

A plan decides whether the run is new or continues an unfinished one (same models, data and parameters, or
`--resume RUN`), which answers the cache already has, which still need a model, and what those may cost, so the
front end can show the estimate and ask before a paid run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from providers.base import ChatMessage
from tunedeck.errors import UsageError
from tunedeck.evaluation.costs import CostEstimate, count_prompt_tokens, inference_price
from tunedeck.evaluation.gates import Gate, parse_gate
from tunedeck.evaluation.items import Item, cache_key, digest, file_digest, load_items
from tunedeck.evaluation.judge import JUDGE_MAX_TOKENS, JudgeConfig, read_rubric, rubric_messages
from tunedeck.evaluation.metrics import Metric, judge_metrics, parse_metrics
from tunedeck.evaluation.targets import ModelRef, Target, infer_provider, resolve_targets
from tunedeck.store.evals import EvalRunRecord, EvalSample

if TYPE_CHECKING:
    from tunedeck.evaluation.actions import EvalWorkspace

DEFAULT_MAX_TOKENS = 256
DEFAULT_CONCURRENCY = 4


@dataclass
class EvalRequest:
    """What `eval run` was asked (from flags, an eval file, or `profile eval`)."""

    models: list[ModelRef] = field(default_factory=list)
    data: Path | None = None
    metrics: list[str] = field(default_factory=list)
    judge_model: str | None = None
    judge_provider: str | None = None
    rubric: str | None = None
    pairwise: bool = False
    concurrency: int = DEFAULT_CONCURRENCY
    repeat: int = 1
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    limit: int | None = None
    no_cache: bool = False
    retry_errors: bool = False
    resume: str | None = None
    fail_if: list[str] = field(default_factory=list)
    base_dir: Path = field(default_factory=Path.cwd)
    """Relative paths (json-schema files, a rubric file) are read from here: the eval file's folder or the cwd."""


@dataclass(frozen=True)
class Unit:
    """One answer to obtain: `cached` holds a stored answer to the very same request when there is one."""

    target: Target
    item: Item
    repeat: int
    messages: list[ChatMessage]
    cache_key: str
    cached: EvalSample | None = None
    twin: bool = False
    """An earlier unit of this run sends the very same request: its answer is copied once it is in."""


@dataclass
class EvalPlan:
    run: EvalRunRecord | None
    """The unfinished run this continues, or None for a new one."""
    fingerprint: str
    spec: dict[str, Any]
    targets: list[Target]
    items: list[Item]
    metrics: list[Metric]
    judge: JudgeConfig | None
    gates: list[Gate]
    units: list[Unit]
    prompts: dict[str, list[list[ChatMessage]]]
    """label → the messages sent for each item (profiles assemble their own)."""
    estimate: CostEstimate
    recorded: int
    """Answers the continued run already has."""
    concurrency: int
    no_cache: bool
    retry_errors: bool
    leakage: list[str] = field(default_factory=list)

    @property
    def to_ask(self) -> int:
        return sum(1 for unit in self.units if unit.cached is None and not unit.twin)

    @property
    def from_cache(self) -> int:
        return sum(1 for unit in self.units if unit.cached is not None or unit.twin)


def build_plan(ws: EvalWorkspace, request: EvalRequest) -> EvalPlan:
    if request.repeat < 1 or request.concurrency < 1 or request.max_tokens < 1:
        raise UsageError("--repeat, --concurrency and --max-tokens must be at least 1.")
    run = _resumed(ws, request)
    if run is not None:
        spec = dict(run.spec)
        targets = [Target.from_dict(t) for t in spec["targets"]]
        items = [Item.from_record(record) for record in ws.store.eval_items(run.id)]
        base_dir = Path(spec.get("base_dir", "."))
        metric_specs = request.metrics or [m["name"] for m in spec["metrics"] if m["family"] != "judge"]
        judge = JudgeConfig.from_dict(spec["judge"]) if spec.get("judge") else None
    else:
        if request.data is None:
            raise UsageError("No held-out data given.", "Pass --data FILE (or `data:` in the eval file).")
        targets = resolve_targets(request.models, ws.settings, ws.store)
        items = load_items(request.data, request.limit)
        base_dir = request.base_dir
        metric_specs = request.metrics
        judge = _judge(ws, request)
        spec = _spec(request, targets, items, judge)
    metrics = parse_metrics(metric_specs, base_dir)
    if judge is not None:
        metrics += judge_metrics(judge.label)
    spec["metrics"] = [m.to_dict() for m in metrics]
    spec["base_dir"] = str(base_dir.resolve())
    fingerprint = run.fingerprint if run is not None else _fingerprint(spec)
    if run is None and not request.no_cache:
        run = ws.store.unfinished_eval_run(fingerprint)  # the same command again continues a killed run
    labels = [t.label for t in targets]
    gate_texts = request.fail_if or list(spec.get("fail_if", []))
    gates = [parse_gate(text, labels, [(m.name, m.family) for m in metrics]) for text in gate_texts]
    spec["fail_if"] = gate_texts
    prompts = _prompts(ws, targets, items)
    existing = {(s.model, s.item, s.repeat): s for s in ws.store.eval_samples(run.id)} if run else {}
    units = _units(ws, request, spec, targets, items, prompts, existing)
    plan = EvalPlan(
        run, fingerprint, spec, targets, items, metrics, judge, gates, units, prompts, CostEstimate(),
        sum(1 for s in existing.values() if s.error is None), request.concurrency, request.no_cache,
        request.retry_errors,
    )  # fmt: skip
    plan.estimate = estimate(ws, plan)
    if run is None:
        plan.leakage = _leakage(ws, targets, items)
        spec["leakage"] = plan.leakage
    else:
        plan.leakage = list(spec.get("leakage", []))
    return plan


def _resumed(ws: EvalWorkspace, request: EvalRequest) -> EvalRunRecord | None:
    if request.resume is None:
        return None
    if request.models or request.data is not None:
        raise UsageError(
            "--resume continues a stored run: its models and data are fixed.", "Drop --model/--data, or start anew."
        )
    run = ws.store.get_eval_run(request.resume)
    if run is None:
        raise UsageError(f"No evaluation run {request.resume!r} in the store.", "See `tunedeck eval list`.")
    return run


def _judge(ws: EvalWorkspace, request: EvalRequest) -> JudgeConfig | None:
    if request.judge_model is None:
        if request.rubric or request.pairwise:
            raise UsageError("--rubric and --pairwise need --judge MODEL.", "e.g. --judge gpt-4o-mini --rubric '…'")
        return None
    if not request.rubric:
        raise UsageError("--judge needs --rubric TEXT or FILE: what makes an answer good.")
    provider = request.judge_provider or infer_provider(ws.store, request.judge_model)
    if provider is None:
        raise UsageError(
            f"Cannot tell which provider serves the judge {request.judge_model!r}.", "Add --judge-provider."
        )
    return JudgeConfig(request.judge_model, provider, read_rubric(request.rubric, request.base_dir), request.pairwise)


def _spec(request: EvalRequest, targets: list[Target], items: list[Item], judge: JudgeConfig | None) -> dict[str, Any]:
    assert request.data is not None
    return {
        "targets": [t.to_dict() for t in targets],
        "data": {"path": str(request.data), "sha256": file_digest(request.data), "items": len(items)},
        "limit": request.limit,
        "repeat": request.repeat,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "judge": judge.to_dict() if judge else None,
    }


def _fingerprint(spec: dict[str, Any]) -> str:
    keys = ("targets", "limit", "repeat", "max_tokens", "temperature", "judge")
    return digest({**{key: spec.get(key) for key in keys}, "data": spec["data"]["sha256"]})


def _prompts(ws: EvalWorkspace, targets: list[Target], items: list[Item]) -> dict[str, list[list[ChatMessage]]]:
    prompts: dict[str, list[list[ChatMessage]]] = {}
    for target in targets:
        if target.profile_path is None:
            prompts[target.label] = [item.messages for item in items]
            continue
        from tunedeck.profiles.evaluate import ProfilePrompter

        with ProfilePrompter(Path(target.profile_path), ws.settings, target.provider) as prompter:
            prompts[target.label] = [prompter.messages(item.question, item.history) for item in items]
    return prompts


def _units(
    ws: EvalWorkspace,
    request: EvalRequest,
    spec: dict[str, Any],
    targets: list[Target],
    items: list[Item],
    prompts: dict[str, list[list[ChatMessage]]],
    existing: dict[tuple[str, int, int], EvalSample],
) -> list[Unit]:
    units = []
    pending: set[str] = set()
    temperature = float(spec.get("temperature", request.temperature))
    for position, item in enumerate(items):
        for target in targets:
            max_tokens = target.max_tokens or int(spec.get("max_tokens", DEFAULT_MAX_TOKENS))
            messages = prompts[target.label][position]
            for repeat in range(int(spec.get("repeat", 1))):
                done = existing.get((target.label, item.index, repeat))
                if done is not None and (done.error is None or not request.retry_errors):
                    continue
                key = cache_key(target.provider, target.model, messages, max_tokens, temperature, repeat)
                cached = None if request.no_cache else ws.store.cached_eval_sample(key)
                units.append(Unit(target, item, repeat, messages, key, cached, cached is None and key in pending))
                pending.add(key)
    return units


def estimate(ws: EvalWorkspace, plan: EvalPlan) -> CostEstimate:
    """The calls still to make: answers not cached, then (roughly) the judge's calls on them."""
    result = CostEstimate()
    max_tokens = int(plan.spec.get("max_tokens", DEFAULT_MAX_TOKENS))
    prices = {t.label: inference_price(ws.settings, t.provider, t.model) for t in plan.targets}
    for unit in plan.units:
        if unit.cached is None and not unit.twin:
            tokens = count_prompt_tokens(unit.target.model, unit.messages)
            where = f"{unit.target.provider}:{unit.target.model}"
            limit = unit.target.max_tokens or max_tokens
            result.add(prices[unit.target.label], where, unit.target.provider != "local", tokens, limit)
    judge = plan.judge
    if judge is not None:
        price = inference_price(ws.settings, judge.provider, judge.model)
        # One rubric verdict per answer; pairwise, two orders for each of the other models, shared by the pair.
        per_answer = 1 + (len(plan.targets) - 1 if judge.pairwise else 0)
        ceiling = "x " * max_tokens  # an answer at its max_tokens: the judge's prompt at its largest
        for unit in plan.units:
            prompt = rubric_messages(judge.rubric, unit.messages, unit.item.reference, ceiling)
            tokens = count_prompt_tokens(judge.model, prompt)
            for _ in range(per_answer):
                result.add(price, judge.label, judge.provider != "local", tokens, JUDGE_MAX_TOKENS)
    return result


def _leakage(ws: EvalWorkspace, targets: list[Target], items: list[Item]) -> list[str]:
    from tunedeck.evaluation.leakage import check_leakage

    warnings = []
    for target in targets:
        if target.profile is not None:
            continue
        report = check_leakage(ws.store, target.label, target.model, items)
        if report is not None and (report.leaks or report.note):
            warnings.append(report.describe())
    return warnings
