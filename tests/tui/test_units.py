"""The UI's pure parts: formatting, provider health, the keymap from config, coalescing, `:` names."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from providers.base import JobState
from tests.core.fakes import T0
from tui import format as fmt
from tui.destinations import find
from tui.feed import EventFeed
from tui.health import Health, HealthBoard
from tui.keys import keymap_from_config
from tui.messages import WorkspaceEventsArrived
from tunedeck.endpoints.inventory import CheckStatus, Inventory, ProviderCheck
from tunedeck.events import EndpointsListed, JobEventsArrived, JobUnknown
from tunedeck.store import JobRecord, Submission


def job(**changes: object) -> JobRecord:
    base = JobRecord("td-1", "tdk-1", "openai", "gpt-4o-mini", {"suffix": "s"}, Submission.SUBMITTED,
                     JobState.RUNNING, T0, T0, provider_job_id="ftjob-1")  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_formats_fit_a_narrow_column() -> None:
    assert fmt.money(None) == "—" and fmt.money(0.00421) == "$0.0042" and fmt.money(1234.5) == "$1,234.50"
    assert fmt.rate(None) == "per token" and fmt.rate(2.5) == "$2.50/h"
    assert [fmt.duration(s) for s in (5, 185, 7800, 3 * 86400 + 4 * 3600)] == ["5s", "3m05s", "2h10m", "3d04h"]
    assert fmt.ago(None, T0) == "never" and fmt.ago(T0 - timedelta(minutes=2), T0) == "2m00s ago"
    assert fmt.middle("ft:smollm2-135m-instruct:local:tmux:ckpt-step-4", 20) == "ft:smollm2…pt-step-4"
    assert fmt.middle("short", 20) == "short"
    assert [fmt.span(s) for s in (90, 2700, 5400, 7200)] == ["1m30s", "45m", "1h30m", "2h"]
    assert fmt.progress(None, 10) == "—" and fmt.progress(3, 10) == "3/10" and fmt.progress(3, None) == "3"


def test_unknown_state_says_since_when_and_elapsed_stops_at_the_end() -> None:
    now = T0 + timedelta(hours=1)
    unknown = job(state=JobState.UNKNOWN, unknown_since=T0 + timedelta(minutes=5))
    assert fmt.job_state(unknown, now) == "unknown since 12:05:00"
    assert fmt.job_state(unknown, now + timedelta(days=2)) == "unknown since 11-25 12:05"
    assert fmt.job_elapsed_s(job(), now) == 3600
    done = job(state=JobState.SUCCEEDED, finished_at=T0 + timedelta(minutes=10))
    assert fmt.job_elapsed_s(done, now) == 600


def test_health_from_inventory_and_polls_keeps_the_first_failure_time() -> None:
    board = HealthBoard()
    board.expect(["local", "openai", "vertex"])
    assert {s.health for s in board.statuses()} == {Health.CHECKING} and len(board.statuses()) == 3
    inventory = Inventory(checks={
        "local": ProviderCheck("local", CheckStatus.CHECKED),
        "vertex": ProviderCheck("vertex", CheckStatus.NOT_CONFIGURED, "no project"),
    })  # fmt: skip
    assert board.apply(EndpointsListed(inventory), T0)
    first = T0 + timedelta(minutes=1)
    assert board.apply(JobUnknown(job(unknown_since=first), "openai unreachable", retry_in_s=4.0), first)
    later = T0 + timedelta(minutes=9)
    assert not board.apply(JobUnknown(job(unknown_since=first), "still down", retry_in_s=8.0), later)
    statuses = {s.provider: s for s in board.statuses()}
    assert statuses["openai"].health is Health.UNKNOWN and statuses["openai"].since == first
    assert statuses["openai"].label(later) == "openai unknown since 12:01:00"
    assert statuses["openai"].label(later, short=True) == "openai ? 12:01:00"
    assert statuses["vertex"].label(later) == "vertex not configured"
    # A job gone at the provider says nothing about the provider; an answer makes it reachable again.
    assert not board.apply(JobUnknown(job(provider="local"), "no such job", retry_in_s=None), later)
    assert board.apply(JobEventsArrived(job(), ()), later)
    assert {s.provider: s.health for s in board.statuses()}["openai"] is Health.REACHABLE


def test_keymap_from_config_accepts_tables_and_lists_and_reports_mistakes() -> None:
    known = {"app.quit", "jobs.cancel", "endpoints.teardown"}
    section = {"endpoints.teardown": "x", "jobs": {"cancel": ["ctrl+k", "K"]}, "app.qiut": "z", "app.quit": 3}
    keymap, problems = keymap_from_config(section, known)
    assert keymap == {"endpoints.teardown": "x", "jobs.cancel": "ctrl+k,K"}
    assert len(problems) == 2 and "'app.qiut' is not a binding id" in problems[0] and "app.quit" in problems[1]


def test_destinations_by_name_alias_and_unambiguous_prefix() -> None:
    assert find(":endpoints").name == "endpoints"  # type: ignore[union-attr]
    assert find("end").name == "endpoints"  # type: ignore[union-attr]
    assert find("ep").name == "endpoints"  # type: ignore[union-attr]
    assert find("JOBS").name == "jobs"  # type: ignore[union-attr]
    assert find("nope") is None and find("") is None


class _Target:
    def __init__(self) -> None:
        self.posted: list[object] = []
        self.lock = threading.Lock()

    def post_message(self, message: object) -> bool:
        with self.lock:
            self.posted.append(message)
        return True


def test_a_burst_from_many_threads_becomes_few_messages_and_nothing_is_lost() -> None:
    target = _Target()
    feed = EventFeed(target)  # type: ignore[arg-type]
    start = threading.Barrier(4)

    def publish(offset: int) -> None:
        start.wait()
        for n in range(500):
            feed(offset + n)

    threads = [threading.Thread(target=publish, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drained = feed.drain()
    assert sorted(drained) == sorted(k * 1000 + n for k in range(4) for n in range(500))
    assert len(target.posted) == 1 and isinstance(target.posted[0], WorkspaceEventsArrived)  # nobody drained yet
    feed("after")
    assert len(target.posted) == 2 and feed.drain() == ["after"]


def test_a_closed_target_does_not_let_the_queue_grow() -> None:
    class Closed(_Target):
        def post_message(self, message: object) -> bool:
            return False

    feed = EventFeed(Closed())  # type: ignore[arg-type]
    for n in range(10):
        feed(n)
    assert feed.drain() == []


def test_now_is_utc() -> None:
    from tui.deck import utc_clock

    assert utc_clock().tzinfo is UTC and abs((utc_clock() - datetime.now(UTC)).total_seconds()) < 5


def test_every_screen_s_bindings_can_be_rebound() -> None:
    """The ids `[keys]` accepts come from every screen and widget under tui/, so a new screen's keys (`:models`'
    deploy, the job page's deploy) are rebindable without a list to keep up to date."""
    from tui.app import _binding_ids
    from tui.destinations import DESTINATIONS

    ids = _binding_ids()
    assert {"models.deploy", "models.delete", "job.deploy", "app.quit", "wizard.next", "playground.tie"} <= ids
    prefixes = {i.split(".")[0] for i in ids}
    prefix_of = {"new": "wizard"}  # the screens whose id prefix is not their `:` name
    for destination in DESTINATIONS:  # each screen `:` reaches has at least one rebindable key
        assert prefix_of.get(destination.name, destination.name) in prefixes, destination.name
