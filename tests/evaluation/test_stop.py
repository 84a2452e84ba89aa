"""`EvalActions.execute(plan, stop)`: a front end's stop key ends a run as interrupted, keeping every answer that
came back, and the same plan asked again asks only the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evaluation.conftest import ScriptedChat
from tunedeck.errors import TunedeckError
from tunedeck.evaluation import EvalRequest, ModelRef
from tunedeck.exitcodes import ExitCode
from tunedeck.workspace import Workspace


def _request(data: Path) -> EvalRequest:
    models = [ModelRef.parse("base", "local"), ModelRef.parse("tuned", "local")]
    return EvalRequest(models=models, data=data, metrics=["exact"], concurrency=1)


def test_stop_interrupts_after_the_answers_in_flight_and_the_rest_is_asked_on_resume(
    workspace: Workspace, chat: ScriptedChat, heldout: Path
) -> None:
    plan = workspace.evals.plan(_request(heldout))
    with pytest.raises(TunedeckError) as stopped:
        workspace.evals.execute(plan, stop=lambda: len(chat.calls) >= 5)
    assert stopped.value.exit_code is ExitCode.CANCELLED and stopped.value.title == "Evaluation stopped."
    assert plan.run is not None and plan.run.id in stopped.value.hint
    run = workspace.store.get_eval_run(plan.run.id)
    assert run is not None and run.status == "interrupted"
    assert len(workspace.store.eval_samples(run.id)) == len(chat.calls) == 5

    report = workspace.evals.execute(workspace.evals.plan(EvalRequest(resume=run.id)))
    assert report.status == "finished" and report.run_id == run.id
    assert len(chat.calls) == 24 and len(workspace.store.eval_samples(run.id)) == 24


def test_a_stop_that_never_fires_changes_nothing(workspace: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    report = workspace.evals.execute(workspace.evals.plan(_request(heldout)), stop=lambda: False)
    assert report.status == "finished" and len(chat.calls) == 24
