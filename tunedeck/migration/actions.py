"""`MigrationActions` (`ws.migrate`): list, export, retrain and compare, one method each, for every front end."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from tunedeck.migration.export import ExportRequest, ExportResult, export_job
from tunedeck.migration.listing import FineTuneList, list_fine_tunes
from tunedeck.migration.retrain import RetrainPlan, RetrainRequest, plan_retrain, submit_retrain

if TYPE_CHECKING:
    from tunedeck.evaluation import EvalPlan, EvalRequest
    from tunedeck.store import JobRecord
    from tunedeck.workspace import Workspace


class MigrationActions:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def list(self, provider: str = "openai", on: date | None = None) -> FineTuneList:
        """The provider's fine-tuning jobs and models, with shutdown dates and the days left for new jobs."""
        self.ws.require_known_provider(provider)
        known = {j.provider_job_id: j.id for j in self.ws.store.list_jobs(provider=provider) if j.provider_job_id}
        return list_fine_tunes(self.ws.provider(provider), known, on)

    def export(self, request: ExportRequest) -> ExportResult:
        """Files, metrics, hyperparameters, the job record and golden answers, into one folder."""
        self.ws.require_known_provider(request.provider)
        return export_job(self.ws, request)

    def plan_retrain(self, request: RetrainRequest) -> RetrainPlan:
        """Convert, map and estimate; nothing is uploaded or billed (show the plan, then `retrain`)."""
        return plan_retrain(self.ws, request)

    def retrain(self, plan: RetrainPlan) -> JobRecord:
        return submit_retrain(self.ws, plan)

    def compare_request(self, folder: Path) -> EvalRequest:
        from tunedeck.migration.compare import compare_request

        return compare_request(self.ws, folder)

    def compare_plan(self, folder: Path) -> EvalPlan:
        """The evaluation of the retrained model and its base against the golden answers, planned, not run."""
        return self.ws.evals.plan(self.compare_request(folder))
