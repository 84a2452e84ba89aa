"""The one place infra touches tunedeck's store: saved stack outputs for machines without the Pulumi CLI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunedeck.settings import Settings

SAVED_AT_KEY = "saved_at"


def save_outputs(settings: Settings, stack: str, outputs: Mapping[str, Any]) -> None:
    from tunedeck.store.store import Store  # deferred: opening SQLite is not needed to start the CLI

    with Store.open(settings) as store:
        store.save_stack_outputs(stack, dict(outputs))


def load_outputs(settings: Settings, stack: str) -> tuple[dict[str, Any], datetime | None] | None:
    """The last saved outputs and when they were saved, or None when the stack was never saved."""
    from tunedeck.store.store import Store

    with Store.open(settings) as store:
        saved = store.get_stack_outputs(stack)
    if saved is None:
        return None
    stamp = saved.pop(SAVED_AT_KEY, None)
    return saved, datetime.fromisoformat(stamp) if isinstance(stamp, str) else None


def forget_outputs(settings: Settings, stack: str) -> None:
    from tunedeck.store.store import Store

    with Store.open(settings) as store:
        store.forget_stack_outputs(stack)
