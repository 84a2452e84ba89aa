"""`EvalActions`: the one entry point front ends use to plan, run, rescore and report evaluations.

It needs only what a workspace offers: `settings`, `store`, `provider(name)`, `publish(event)` and
`chat(provider, model, messages, max_tokens=, temperature=)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tunedeck.errors import TunedeckError, UsageError
from tunedeck.evaluation.gates import evaluate_gate, parse_gate
from tunedeck.evaluation.metrics import Metric, judge_metrics, parse_metrics, score_all
from tunedeck.evaluation.plan import EvalPlan, EvalRequest, build_plan
from tunedeck.evaluation.report import EvalReport, build_report
from tunedeck.evaluation.targets import Target
from tunedeck.exitcodes import ExitCode

if TYPE_CHECKING:
    from providers.base import ChatChunk, ChatMessage, Provider
    from tunedeck.settings import Settings
    from tunedeck.store import JobRecord, Store
    from tunedeck.store.evals import EvalRunRecord


class EvalWorkspace(Protocol):
    settings: Settings

    @property
    def store(self) -> Store: ...

    def provider(self, name: str) -> Provider: ...

    def publish(self, event: Any) -> None: ...

    def chat(
        self, provider: str, model: str, messages: list[ChatMessage], *, max_tokens: int = ..., temperature: float = ...
    ) -> Iterator[ChatChunk]: ...


class EvalActions:
    def __init__(self, workspace: EvalWorkspace) -> None:
        self.ws = workspace

    def plan(self, request: EvalRequest) -> EvalPlan:
        """Everything decided, nothing asked: show `plan.estimate` and ask before `execute` when it costs money."""
        return build_plan(self.ws, request)

    def execute(self, plan: EvalPlan, stop: Callable[[], bool] | None = None) -> EvalReport:
        """Ask what the plan still needs. `stop` (a front end's "stop" key) is polled as answers land: once true
        the run ends as interrupted, raising a CANCELLED error, and can be resumed."""
        from tunedeck.evaluation.execute import Execution

        run = Execution(self.ws, plan, stop)()
        return self.report(run.id)

    def run(self, request: EvalRequest, confirm: Callable[[EvalPlan], bool] | None = None) -> EvalReport:
        """Plan, ask `confirm` when the run costs money (no callback: proceed), execute."""
        plan = self.plan(request)
        if plan.estimate.costs_money and confirm is not None and not confirm(plan):
            raise TunedeckError("Evaluation not started.", exit_code=ExitCode.CANCELLED)
        return self.execute(plan)

    def runs(self, limit: int | None = None) -> list[EvalRunRecord]:
        return self.ws.store.list_eval_runs(limit)

    def require_run(self, run_id: str) -> EvalRunRecord:
        run = self.ws.store.get_eval_run(run_id)
        if run is None:
            raise UsageError(f"No evaluation run {run_id!r} in the store.", "See `tunedeck eval list`.")
        return run

    def validation_file(self, job: JobRecord) -> Path | None:
        """The local file a job's validation set was uploaded from: the held-out data a front end offers first
        when evaluating the job's model (None: the job had none, or the file is no longer there)."""
        file_id = job.spec.get("validation_file")
        if not file_id:
            return None
        for dataset in self.ws.store.list_datasets():
            path = Path(dataset.path)
            if dataset.provider == job.provider and dataset.provider_file_id == file_id and path.is_file():
                return path
        return None

    def report(self, run_id: str, fail_if: list[str] | None = None) -> EvalReport:
        """The run's results from its records; `fail_if` replaces the gates the run was started with."""
        store = self.ws.store
        run = self.require_run(run_id)
        report = build_report(
            run, store.eval_items(run.id), store.eval_samples(run.id), store.judgements(run.id), self._losses(run)
        )
        labels = [m["label"] for m in report.models]
        metrics = [(m["name"], m["family"]) for m in report.metrics]
        texts = fail_if if fail_if else list(run.spec.get("fail_if", []))
        report.gates = [evaluate_gate(parse_gate(t, labels, metrics), report.value) for t in texts]
        return report

    def rescore(self, run_id: str, metrics: list[str], base_dir: Path | None = None) -> EvalReport:
        """Score the stored answers with `metrics` instead of the run's; no model is asked."""
        store = self.ws.store
        run = self.require_run(run_id)
        parsed = parse_metrics(metrics, base_dir or Path.cwd())
        judge = run.spec.get("judge")
        kept: list[Metric] = judge_metrics(f"{judge['provider']}:{judge['model']}") if judge else []
        references = {item.item: item.reference for item in store.eval_items(run.id)}
        updates = {}
        for sample in store.eval_samples(run.id):
            if sample.id is None or sample.output is None:
                continue
            judged = {k: v for k, v in sample.scores.items() if k in {m.name for m in kept}}
            updates[sample.id] = {**score_all(parsed, sample.output, references[sample.item]), **judged}
        store.update_eval_scores(updates)
        spec = {**run.spec, "metrics": [m.to_dict() for m in parsed + kept], "base_dir": str(base_dir or Path.cwd())}
        # Gates naming metrics the run no longer has would fail on every report: keep only those that still parse.
        spec["fail_if"] = [t for t in run.spec.get("fail_if", []) if _parses(t, spec)]
        store.update_eval_run_spec(run.id, spec)
        return self.report(run.id)

    def _losses(self, run: EvalRunRecord) -> dict[str, list[dict[str, float]]]:
        from tunedeck.evaluation.leakage import job_for_model, loss_curve

        curves = {}
        for target in (Target.from_dict(t) for t in run.spec["targets"]):
            if target.profile is not None:
                continue
            job = job_for_model(self.ws.store, target.model)
            if job is not None:
                points = loss_curve(self.ws.store, job)
                if points:
                    curves[target.label] = points
        return curves


def _parses(text: str, spec: dict[str, Any]) -> bool:
    labels = [t["label"] for t in spec["targets"]]
    try:
        parse_gate(text, labels, [(m["name"], m["family"]) for m in spec["metrics"]])
    except UsageError:
        return False
    return True
