"""The job store: one SQLite database recording everything tunedeck creates, with migrations."""

from tunedeck.store.records import (
    DatasetRecord,
    EndpointRecord,
    EventRecord,
    JobRecord,
    ModelRecord,
    StateChange,
    Submission,
    TeardownOutcome,
    TeardownRecord,
)
from tunedeck.store.store import Store

__all__ = [
    "DatasetRecord",
    "EndpointRecord",
    "EventRecord",
    "JobRecord",
    "ModelRecord",
    "StateChange",
    "Store",
    "Submission",
    "TeardownOutcome",
    "TeardownRecord",
]
