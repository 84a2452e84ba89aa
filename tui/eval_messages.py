"""Messages the `:eval` screen's workers post back to it (small dataclasses, past-tense names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from tunedeck.advice import Advice
    from tunedeck.evaluation import EvalPlan, EvalReport
    from tunedeck.store.evals import EvalRunRecord


@dataclass
class EvalRunsListed(Message):
    runs: list[EvalRunRecord]
    select: str | None = None
    """A run to select once listed (the one just finished)."""


@dataclass
class EvalReportLoaded(Message):
    report: EvalReport


@dataclass
class EvalPlanned(Message):
    """A plan to show and, when it costs money, to confirm; `advise` carries the advise request and its job."""

    plan: EvalPlan
    advise: tuple[Any, Any] | None = None


@dataclass
class EvalFinished(Message):
    """An execution ended: `report` None when it failed (and was reported); `advice` for an advise run."""

    report: EvalReport | None
    advice: Advice | None = None
    run_id: str | None = None
    """The run it wrote to, when known (so an interrupted one can be selected for `r`)."""
