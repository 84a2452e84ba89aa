"""The job store: one SQLite database recording everything tunedeck creates, with migrations.

The records are plain dataclasses; `Store` (SQLite and every table's code) is imported on first use, so a front
end that only names records (the terminal UI before its first frame) does not pay for it.
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from tunedeck.store.store import Store


def __getattr__(name: str) -> Any:
    if name == "Store":
        from tunedeck.store.store import Store

        return Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
