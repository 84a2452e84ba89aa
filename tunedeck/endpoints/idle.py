"""Idle rules: durations as users write them, which endpoints are idle, and the monitor's auto-teardown round."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from providers.base import Provider
from providers.errors import ProviderError
from tunedeck.endpoints.inventory import EndpointView, Inventory
from tunedeck.endpoints.teardown import TeardownResult, teardown_endpoint
from tunedeck.errors import UsageError
from tunedeck.store import Store
from tunedeck.store.records import utcnow

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """'30m', '2h', '1h30m', '45s', '1d'; a bare number means minutes."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return timedelta(minutes=float(text))
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise UsageError(f"Cannot read {text!r} as a duration.", "Write it like 30m, 2h, 1h30m or 45s.")
    return timedelta(seconds=sum(float(n) * _UNIT_S[u] for n, u in parts))


def idle_endpoints(inventory: Inventory, idle_for: timedelta, now: datetime | None = None) -> list[EndpointView]:
    now = now or utcnow()
    return [v for v in inventory.ours if v.record is not None and v.record.idle_s(now) >= idle_for.total_seconds()]


def auto_teardown_idle(
    store: Store, get_provider: Callable[[str], Provider], now: datetime | None = None
) -> list[TeardownResult]:
    """Tear down every endpoint whose own idle limit (`set_idle_teardown`) has passed; run from the monitor.

    The store's last use may be stale (someone else chatted with it), so a due endpoint's provider is asked
    again first: one used since is left alone.
    """
    now = now or utcnow()
    due = [r for r in store.list_endpoints() if r.idle_teardown_s is not None and r.idle_s(now) >= r.idle_teardown_s]
    results = []
    for record in due:
        provider = get_provider(record.provider)
        try:
            live = {e.id: e for e in provider.list_endpoints()}.get(record.id)
        except ProviderError:
            continue  # cannot confirm it is idle: try again next round rather than act on old data
        if live is not None:
            record = store.upsert_endpoint(live)
            if record.idle_s(now) < (record.idle_teardown_s or 0):
                continue
        limit_min = (record.idle_teardown_s or 0) / 60
        reason = f"idle auto-teardown: unused for {record.idle_s(now) / 60:.0f} min (limit {limit_min:.0f} min)"
        results.append(teardown_endpoint(store, provider, record.id, reason=reason))
    return results
