"""Teardown touches only tunedeck's endpoints, is idempotent, and reports partial failure for a retry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from providers.base import MANAGED_BY_LABEL, Endpoint
from providers.errors import UnavailableError
from tests.core.fakes import FakeProvider
from tunedeck.endpoints.idle import auto_teardown_idle, idle_endpoints, parse_duration
from tunedeck.endpoints.inventory import refresh_endpoints
from tunedeck.endpoints.teardown import teardown_endpoint, teardown_many
from tunedeck.errors import UsageError
from tunedeck.settings import load_settings
from tunedeck.store import Store, TeardownOutcome
from tunedeck.store.records import utcnow

OURS = {MANAGED_BY_LABEL: "tunedeck"}


def endpoint(eid: str, labels: dict[str, str] | None = None, rate: float | None = 1.5) -> Endpoint:
    created = utcnow() - timedelta(hours=2)
    return Endpoint(eid, "fake", f"name-{eid}", f"model-{eid}", rate, created_at=created, labels=labels or {})


@pytest.fixture
def store() -> Store:
    return Store.open(load_settings())


@pytest.fixture
def provider() -> FakeProvider:
    p = FakeProvider()
    p.endpoints = {"a": endpoint("a", OURS), "b": endpoint("b", OURS), "x": endpoint("x", {"team": "ml"})}
    return p


def test_inventory_splits_ours_from_foreign_and_records_only_ours(store: Store, provider: FakeProvider) -> None:
    inventory = refresh_endpoints(store, [provider])
    assert sorted(v.id for v in inventory.ours) == ["a", "b"]
    assert [v.id for v in inventory.not_ours] == ["x"]
    assert sorted(r.id for r in store.list_endpoints()) == ["a", "b"]
    record = store.get_endpoint("fake", "a")
    assert record is not None and (record.accrued_cost_usd() or 0) > 0


def test_foreign_endpoint_is_never_torn_down(store: Store, provider: FakeProvider) -> None:
    result = teardown_endpoint(store, provider, "x", reason="user")
    assert result.outcome is TeardownOutcome.NOT_OURS and not result.ok
    assert "x" in provider.endpoints and "teardown:x" not in provider.calls


def test_endpoint_in_store_is_ours_even_if_its_label_was_lost(store: Store, provider: FakeProvider) -> None:
    refresh_endpoints(store, [provider])
    provider.endpoints["a"] = endpoint("a", {})  # someone stripped the labels in the console
    assert teardown_endpoint(store, provider, "a", reason="user").outcome is TeardownOutcome.DONE


def test_teardown_is_idempotent_and_recorded(store: Store, provider: FakeProvider) -> None:
    refresh_endpoints(store, [provider])
    first = teardown_endpoint(store, provider, "a", reason="user")
    second = teardown_endpoint(store, provider, "a", reason="user")
    assert (first.outcome, second.outcome) == (TeardownOutcome.DONE, TeardownOutcome.ALREADY_GONE)
    assert provider.torn_down == ["a"]
    record = store.get_endpoint("fake", "a")
    assert record is not None and record.torn_down_at is not None
    assert [t.outcome for t in store.list_teardowns("a")] == [TeardownOutcome.DONE, TeardownOutcome.ALREADY_GONE]
    assert first.accrued_cost_usd and first.accrued_cost_usd > 0
    with pytest.raises(UsageError):
        teardown_endpoint(store, provider, "never-heard-of", reason="user")


def test_partial_failure_is_reported_and_retry_finishes(store: Store, provider: FakeProvider) -> None:
    refresh_endpoints(store, [provider])
    provider.teardown_failures["a"] = UnavailableError("503 from undeploy", provider="fake", status=503)
    results = teardown_many(store, [(provider, "a"), (provider, "b")], reason="bulk")
    assert [(r.endpoint_id, r.outcome) for r in results] == [("a", TeardownOutcome.FAILED), ("b", TeardownOutcome.DONE)]
    assert "503" in results[0].detail
    assert [r.id for r in store.list_endpoints()] == ["a"]  # still billed, still listed
    again = teardown_many(store, [(provider, "a"), (provider, "b")], reason="bulk retry")
    assert all(r.ok for r in again) and provider.endpoints.keys() == {"x"}


def test_endpoint_gone_behind_our_back_stops_accruing(store: Store, provider: FakeProvider) -> None:
    refresh_endpoints(store, [provider])
    del provider.endpoints["b"]
    refresh_endpoints(store, [provider])
    assert [r.id for r in store.list_endpoints()] == ["a"]
    assert store.list_teardowns("b")[0].outcome is TeardownOutcome.ALREADY_GONE


def test_idle_selection_and_auto_teardown_respect_last_use(store: Store, provider: FakeProvider) -> None:
    inventory = refresh_endpoints(store, [provider])
    assert {v.id for v in idle_endpoints(inventory, timedelta(minutes=30))} == {"a", "b"}  # created 2 h ago, never used
    store.touch_endpoints_serving("fake", "model-a")  # what a chat with model-a records
    inventory = refresh_endpoints(store, [provider])
    assert {v.id for v in idle_endpoints(inventory, timedelta(minutes=30))} == {"b"}
    store.set_idle_teardown("fake", "a", 60.0)
    store.set_idle_teardown("fake", "b", 60.0)
    results = auto_teardown_idle(store, lambda name: provider)
    assert [(r.endpoint_id, r.outcome) for r in results] == [("b", TeardownOutcome.DONE)]
    assert "idle auto-teardown" in store.list_teardowns("b")[-1].reason
    assert "a" in provider.endpoints


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("1h30m", 5400), ("45s", 45), ("2", 120), ("1d", 86400)])
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_parse_duration_rejects_garbage() -> None:
    with pytest.raises(UsageError):
        parse_duration("30 minutes")


def test_stopped_local_backend_means_nothing_loaded_but_an_outage_elsewhere_keeps_last_known(
    store: Store, provider: FakeProvider
) -> None:
    refresh_endpoints(store, [provider])
    provider.failures = [UnavailableError("connection refused", provider="fake")]
    inventory = refresh_endpoints(store, [provider])
    assert inventory.errors == {"fake": "connection refused"}
    assert sorted(v.id for v in inventory.ours) == ["a", "b"] and all(v.live is None for v in inventory.ours)
    assert len(store.list_endpoints()) == 2  # unknown is not gone: still counted
    provider.failures = [UnavailableError("connection refused", provider="fake")]
    inventory = refresh_endpoints(store, [provider], gone_when_unreachable={"fake"})
    assert inventory.errors == {} and inventory.ours == [] and store.list_endpoints() == []


def test_auto_teardown_asks_the_provider_before_acting_on_a_stale_last_use(
    store: Store, provider: FakeProvider
) -> None:
    refresh_endpoints(store, [provider])
    store.set_idle_teardown("fake", "a", 600.0)
    # Used a minute ago through some other client: the store does not know yet, the provider does.
    used = provider.endpoints["a"]
    provider.endpoints["a"] = Endpoint(
        used.id, used.provider, used.display_name, used.model, used.hourly_rate_usd,
        created_at=used.created_at, last_used_at=utcnow() - timedelta(minutes=1), labels=used.labels,
    )  # fmt: skip
    assert auto_teardown_idle(store, lambda name: provider) == []
    assert "a" in provider.endpoints


def test_monitor_tick_notices_new_endpoints_and_applies_configured_default(isolated_home: Path) -> None:
    from tunedeck.workspace import Workspace

    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[endpoints]\nidle_teardown = "30m"\n')

    class LocalFake(FakeProvider):
        name = "local"

    fake = LocalFake()
    fake.endpoints = {"a": Endpoint("a", "local", "a", "m", 0.0, created_at=utcnow() - timedelta(hours=1), labels=OURS)}
    workspace = Workspace.open(provider_factory=lambda name: fake)
    workspace.monitor.round()
    assert fake.torn_down == ["a"]
    [teardown] = workspace.store.list_teardowns("a")
    assert teardown.outcome is TeardownOutcome.DONE and "idle auto-teardown" in teardown.reason
    assert workspace.store.get_endpoint("local", "a").idle_teardown_s == 1800  # type: ignore[union-attr]
