"""Issue 11, items 1-2: "nothing is billing" is said only after every provider was checked; `endpoints teardown
--all` tears down everything of ours across providers; "already gone" says why; testing a torn-down model asks
before loading it again. In-process CLI over provider fakes handed in through Typer's context."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from providers.base import MANAGED_BY_LABEL, Endpoint, Provider
from providers.errors import ConfigurationError, UnavailableError
from tests.cli.test_jobs_cli import run as run_cli
from tests.core.fakes import FakeProvider
from tunedeck.exitcodes import ExitCode
from tunedeck.store.records import utcnow
from tunedeck.workspace import Workspace

OURS = {MANAGED_BY_LABEL: "tunedeck"}


class LocalFake(FakeProvider):
    name = "local"


class VertexFake(FakeProvider):
    name = "vertex"


def not_configured(name: str) -> Provider:
    raise ConfigurationError(
        "No Google Cloud project is configured.", "Set [vertex] project in config.toml.", provider=name
    )


class Providers:
    """name → a fake adapter, or a function raising what building that adapter would raise."""

    def __init__(self) -> None:
        self.local = LocalFake()
        self.vertex = VertexFake()
        self.vertex_build: Callable[[str], Provider] | None = None

    def __call__(self, name: str) -> Provider:
        if name == "vertex":
            return self.vertex_build(name) if self.vertex_build else self.vertex  # type: ignore[return-value]
        return self.local  # type: ignore[return-value]

    def run(self, *args: str) -> tuple[int, str, str]:
        return run_cli(*args, workspace=lambda: Workspace.open(provider_factory=self))


@pytest.fixture
def providers() -> Providers:
    return Providers()


def loaded(endpoint_id: str, rate: float = 0.0, provider: str = "local", **labels: str) -> Endpoint:
    started = utcnow() - timedelta(hours=2)
    return Endpoint(endpoint_id, provider, endpoint_id, f"ft:{endpoint_id}", rate, created_at=started, labels=labels)


# -- item 1: the all-clear is honest ----------------------------------------------------------------------


def test_all_clear_only_when_every_provider_was_checked_and_not_configured_is_said(providers: Providers) -> None:
    providers.vertex_build = not_configured
    code, out, err = providers.run("endpoints", "list")
    assert code == 0
    flat = " ".join(err.split())
    assert "local: checked" in flat
    assert "vertex: not configured" in flat and "No Google Cloud project" in flat
    assert "to set it up: Set [vertex] project" in flat
    assert "Nothing billed by the hour is running." in flat

    code, out, _ = providers.run("endpoints", "list", "--json")
    listing = json.loads(out)
    assert listing["providers"]["local"]["status"] == "checked"
    assert listing["providers"]["vertex"] == {
        "status": "not-configured",
        "detail": "No Google Cloud project is configured.",
        "hint": "Set [vertex] project in config.toml.",
    }
    assert listing["all_checked"] is True and listing["nothing_running"] is True and listing["errors"] == {}


def test_a_provider_that_could_not_be_checked_withholds_the_all_clear(providers: Providers) -> None:
    providers.vertex.failures.append(UnavailableError("503 from Vertex AI", "Try again later.", provider="vertex"))
    code, _, err = providers.run("endpoints", "list")
    flat = " ".join(err.split())
    assert code == 0 and "vertex: could not check: 503 from Vertex AI" in flat and "hint: Try again later." in flat
    assert "Nothing billed by the hour is running" not in flat
    assert "not every provider could be checked" in flat and "something may still be billing" in flat

    providers.vertex.failures.append(UnavailableError("503 from Vertex AI", provider="vertex"))
    listing = json.loads(providers.run("endpoints", "list", "--json")[1])
    assert listing["providers"]["vertex"]["status"] == "could-not-check"
    assert listing["errors"] == {"vertex": "503 from Vertex AI"}
    assert listing["all_checked"] is False and listing["nothing_running"] is False


def test_not_configured_any_more_with_endpoints_recorded_there_is_not_an_all_clear(providers: Providers) -> None:
    providers.vertex.endpoints = {"ep-1": loaded("ep-1", 1.5, "vertex", **OURS)}
    providers.run("endpoints", "list")  # recorded while Vertex was configured
    providers.vertex_build = not_configured  # then the project setting went away
    listing = json.loads(providers.run("endpoints", "list", "--json")[1])
    assert listing["providers"]["vertex"]["status"] == "could-not-check"
    assert "1 endpoint(s) recorded as running there" in listing["providers"]["vertex"]["detail"]
    assert [(v["provider"], v["id"], v["reachable"]) for v in listing["ours"]] == [("vertex", "ep-1", False)]
    assert listing["nothing_running"] is False


# -- item 2: tear down everything of mine, and say why something was already gone ---------------------------


def test_teardown_all_lists_each_with_rate_and_cost_then_removes_only_ours(providers: Providers) -> None:
    providers.local.endpoints = {"smol-a": loaded("smol-a", **OURS), "theirs": loaded("theirs", 3.0)}
    providers.vertex.endpoints = {"ep-1": loaded("ep-1", 1.5, "vertex", **OURS)}
    code, _, err = providers.run("endpoints", "teardown", "--all")
    assert code == ExitCode.USAGE and "--yes" in err  # no terminal to ask on: nothing is touched
    assert providers.local.torn_down == [] and providers.vertex.torn_down == []

    code, out, err = providers.run("endpoints", "teardown", "--all", "--yes", "--json")
    assert code == 0, err
    flat = " ".join(err.split())
    assert "vertex:ep-1 (ft:ep-1, $1.50/h, accrued ≈ $3.00)" in flat
    assert "local:smol-a (ft:smol-a, $0.00/h, accrued ≈ $0.00)" in flat
    assert sorted((r["provider"], r["endpoint_id"], r["outcome"]) for r in json.loads(out)) == [
        ("local", "smol-a", "done"),
        ("vertex", "ep-1", "done"),
    ]
    assert providers.local.endpoints.keys() == {"theirs"} and providers.vertex.endpoints == {}

    code, out, err = providers.run("endpoints", "teardown", "--all", "--yes", "--json")
    assert code == 0 and json.loads(out) == [] and "Nothing of ours is running." in err


def test_already_gone_says_why(providers: Providers) -> None:
    providers.local.endpoints = {"smol-a": loaded("smol-a", **OURS), "smol-b": loaded("smol-b", **OURS)}
    providers.run("endpoints", "list")
    del providers.local.endpoints["smol-a"]  # unloaded by the backend itself after the listing
    code, out, _ = providers.run("endpoints", "teardown", "smol-a", "--yes", "--json")
    (result,) = json.loads(out)
    assert code == 0 and result["outcome"] == "already-gone"
    assert "local no longer lists it" in result["detail"] and "idle unload, a restart" in result["detail"]

    code, out, _ = providers.run("endpoints", "teardown", "smol-a", "--yes", "--json")
    (again,) = json.loads(out)
    assert again["outcome"] == "already-gone" and again["detail"].startswith("already torn down at ")
    assert "requested by the user" in again["detail"]

    # The local backend stopped (with the command that started it): nothing is loaded, and none is started
    # just to find that out.
    providers.local.failures.append(UnavailableError("connection refused", provider="local"))
    code, out, err = providers.run("endpoints", "teardown", "smol-b", "--yes")
    assert code == 0, err
    flat = " ".join(err.split())
    assert "already-gone local:smol-b" in flat and "the local service is not running, so nothing is loaded" in flat


def test_testing_a_torn_down_model_asks_before_loading_it_again(providers: Providers) -> None:
    providers.local.endpoints = {"smol-a": loaded("smol-a", **OURS), "smol-b": loaded("smol-b", **OURS)}
    providers.run("endpoints", "list")
    assert providers.run("endpoints", "teardown", "smol-a", "--yes")[0] == 0

    code, _, err = providers.run("endpoints", "test", "smol-a")
    flat = " ".join(err.split())
    assert code == ExitCode.USAGE and "--yes" in flat
    assert "local:smol-a was torn down at" in flat and "makes local load ft:smol-a again" in flat
    assert "holds memory until you tear it down again" in flat
    assert "chat" not in providers.local.calls  # nothing was loaded

    code, out, err = providers.run("endpoints", "test", "smol-a", "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["reply"] == "Hello there" and providers.local.calls.count("chat") == 1

    code, out, err = providers.run("endpoints", "test", "smol-b", "--json")  # still loaded: nothing to ask
    assert code == 0 and "was torn down" not in err and json.loads(out)["model"] == "ft:smol-b"
