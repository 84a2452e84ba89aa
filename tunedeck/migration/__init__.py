"""Carrying fine-tunes off a closing platform: list them, export what can be downloaded with golden answers of
the tuned model, retrain a comparable job elsewhere, and compare the new model with the golden answers."""

from tunedeck.migration.actions import MigrationActions
from tunedeck.migration.export import ExportRequest, ExportResult
from tunedeck.migration.listing import FineTune, FineTuneList
from tunedeck.migration.retrain import RetrainPlan, RetrainRequest

__all__ = [
    "ExportRequest",
    "ExportResult",
    "FineTune",
    "FineTuneList",
    "MigrationActions",
    "RetrainPlan",
    "RetrainRequest",
]
