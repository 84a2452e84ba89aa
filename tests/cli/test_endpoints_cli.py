"""`tunedeck endpoints` over an in-process provider fake: listing, ownership, idempotent and partial teardown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from providers.base import MANAGED_BY_LABEL, ChatChunk, ChatMessage, Endpoint
from providers.errors import UnavailableError
from tests.cli.test_jobs_cli import run as run_cli
from tests.core.fakes import FakeProvider
from tunedeck.cli.context import CliState
from tunedeck.exitcodes import ExitCode
from tunedeck.store.records import utcnow
from tunedeck.workspace import Workspace


class LocalFake(FakeProvider):
    name = "local"


_fake: FakeProvider | None = None


def run(*args: str) -> tuple[int, str, str]:
    """The CLI with a workspace whose every adapter is this test's fake, handed in through Typer's context."""
    fake = _fake
    assert fake is not None
    return run_cli(*args, workspace=lambda: Workspace.open(provider_factory=lambda name: fake))


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    global _fake
    fake = LocalFake()
    old = utcnow() - timedelta(hours=2)
    ours = {MANAGED_BY_LABEL: "tunedeck"}
    fake.endpoints = {
        "ours-1": Endpoint("ours-1", "local", "ours-1", "ft:smol:a", 0.25, created_at=old, labels=ours),
        "ours-2": Endpoint("ours-2", "local", "ours-2", "ft:smol:b", 0.25, created_at=old, labels=ours),
        "theirs": Endpoint("theirs", "local", "theirs", "other", 3.0, created_at=old),
    }
    _fake = fake
    yield fake
    _fake = None


def test_list_shows_ours_with_cost_and_foreign_as_not_ours(provider: FakeProvider) -> None:
    code, out, _ = run("endpoints", "list", "--json")
    assert code == 0
    listing = json.loads(out)
    assert sorted(v["id"] for v in listing["ours"]) == ["ours-1", "ours-2"]
    assert [v["id"] for v in listing["not_ours"]] == ["theirs"]
    first = listing["ours"][0]
    assert first["uptime_s"] >= 7200 and first["accrued_usd"] == pytest.approx(0.5, rel=0.01)
    code, out, _ = run("endpoints", "list")
    assert "not ours" in out and "ours-1" in out


def test_teardown_foreign_refused_ours_idempotent(provider: FakeProvider) -> None:
    run("endpoints", "list")
    code, _, err = run("endpoints", "teardown", "theirs", "--yes")
    assert code == ExitCode.BAD_INPUT and "not-ours" in err and "theirs" in provider.endpoints
    code, out, _ = run("endpoints", "teardown", "ours-1", "--yes", "--json")
    assert code == 0 and json.loads(out)[0]["outcome"] == "done"
    code, out, _ = run("endpoints", "teardown", "ours-1", "--yes", "--json")
    assert code == 0 and json.loads(out)[0]["outcome"] == "already-gone"
    assert provider.torn_down == ["ours-1"]


def test_teardown_without_yes_needs_a_terminal(provider: FakeProvider) -> None:
    run("endpoints", "list")
    code, _, _ = run("endpoints", "teardown", "ours-1")
    assert code == ExitCode.USAGE and "ours-1" in provider.endpoints


def test_all_idle_bulk_with_partial_failure_then_retry(provider: FakeProvider) -> None:
    provider.teardown_failures["ours-2"] = UnavailableError("503 while unloading", provider="local", status=503)
    code, _, err = run("endpoints", "teardown", "--all-idle", "30m", "--yes")
    assert code == ExitCode.UNAVAILABLE and "run the same command again" in err and "503" in err
    assert provider.endpoints.keys() == {"ours-2", "theirs"}
    code, _, err = run("endpoints", "teardown", "--all-idle", "30m", "--yes")
    assert code == 0 and provider.endpoints.keys() == {"theirs"}


def test_chat_marks_endpoint_used_so_it_is_not_idle(provider: FakeProvider) -> None:
    run("endpoints", "list")
    code, out, _ = run("chat", "--model", "ft:smol:a", "--provider", "local", "--message", "hi")
    assert code == 0 and out.strip() == "Hello there"
    code, out, _ = run("endpoints", "teardown", "--all-idle", "30m", "--yes", "--json")
    assert [r["endpoint_id"] for r in json.loads(out)] == ["ours-2"]


def test_autostop_is_run_by_the_monitor(provider: FakeProvider) -> None:
    run("endpoints", "list")
    code, _, _ = run("endpoints", "autostop", "ours-2", "1m")
    assert code == 0
    Workspace.open(provider_factory=lambda name: provider).endpoints.auto_teardown_round()
    assert "ours-2" not in provider.endpoints and "ours-1" in provider.endpoints


def test_endpoint_test_reports_reply_and_latency(provider: FakeProvider) -> None:
    run("endpoints", "list")
    code, out, _ = run("endpoints", "test", "ours-1", "--json")
    result = json.loads(out)
    assert code == 0 and result["reply"] == "Hello there" and result["model"] == "ft:smol:a"
    assert result["completion_tokens"] == 2 and result["total_s"] >= 0


def test_chat_repl_keeps_history_and_resets(provider: FakeProvider) -> None:
    from typer.testing import CliRunner

    from tunedeck.cli.main import app

    seen: list[list[str]] = []
    original = provider.chat

    def recording_chat(model: str, messages: list[ChatMessage], **kw: object) -> Iterator[ChatChunk]:
        seen.append([m.content for m in messages])
        return original(model, messages)

    provider.chat = recording_chat  # type: ignore[method-assign]
    args = ["chat", "-m", "ft:smol:a", "-p", "local", "--system", "Be brief."]
    state = CliState(lambda: Workspace.open(provider_factory=lambda name: provider))
    result = CliRunner().invoke(app, args, input="one\ntwo\n/reset\nthree\n/exit\n", obj=state)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("Hello there") == 3
    assert seen == [
        ["Be brief.", "one"],
        ["Be brief.", "one", "Hello there", "two"],
        ["Be brief.", "three"],
    ]
