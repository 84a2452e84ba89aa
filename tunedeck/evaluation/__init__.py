"""Evaluation: models (and profiles) answer held-out items; paired statistics say which is better, and how sure.

Front ends use `EvalActions` (actions.py); the modules beside it are its parts: metrics, stats, items, targets,
plan/execute/runner (asking), report (results), report_html and junit (files), gates, leakage, evalfile.
"""

from tunedeck.evaluation.actions import EvalActions, EvalWorkspace
from tunedeck.evaluation.plan import EvalPlan, EvalRequest
from tunedeck.evaluation.report import EvalReport
from tunedeck.evaluation.targets import ModelRef

__all__ = ["EvalActions", "EvalPlan", "EvalReport", "EvalRequest", "EvalWorkspace", "ModelRef"]
