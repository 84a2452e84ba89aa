"""Bounded concurrency that backs off together on rate limits, retries, and errors that stop a run."""

from __future__ import annotations

import threading
import time

import pytest

from providers import errors as perr
from providers.base import ChatMessage
from tests.evaluation.conftest import ScriptedChat, failure
from tunedeck.evaluation.runner import MAX_ATTEMPTS, Request, Stopped, Throttle, ask, run_parallel

REQUEST = Request("fake", "m", [ChatMessage("user", "hi")], 8, 0.0)


def _chat(provider: ScriptedChat):  # type: ignore[no-untyped-def]
    def chat(_provider: str, model: str, messages: list[ChatMessage], **kw: object):  # type: ignore[no-untyped-def]
        return provider.chat(model, messages, **kw)  # type: ignore[arg-type]

    return chat


def test_throttle_halves_on_a_rate_limit_pauses_everyone_then_grows_back() -> None:
    throttle = Throttle(8, base_s=0.05)
    burst = [throttle.acquire() for _ in range(8)]
    assert throttle.active == 8 and throttle.peak == 8
    assert throttle.release(burst[0], rate_limited=True) == pytest.approx(0.05) and throttle.limit == 4
    # A second 429 from the same burst does not cut again; the burst's successes earn nothing back.
    throttle.release(burst[1], rate_limited=True)
    for ticket in burst[2:]:
        throttle.release(ticket)
    assert throttle.limit == 4 and throttle.active == 0
    started = time.monotonic()
    ticket = throttle.acquire()  # waits out the pause
    assert time.monotonic() - started >= 0.04
    # Still limited: cut again, and the pause doubles while 429s continue.
    assert throttle.release(ticket, rate_limited=True) == pytest.approx(0.1) and throttle.limit == 2
    # A run of successes as long as the limit earns one slot back, up to the configured maximum.
    for _ in range(2):
        throttle.release(throttle.acquire())
    assert throttle.limit == 3 and throttle.rate_limited == 3


def test_throttle_honours_retry_after() -> None:
    throttle = Throttle(2)
    assert throttle.release(throttle.acquire(), rate_limited=True, retry_after=0.2) == 0.2
    started = time.monotonic()
    throttle.acquire()
    assert time.monotonic() - started >= 0.18


def test_stop_wakes_waiters() -> None:
    throttle = Throttle(1)
    throttle.acquire()
    raised: list[BaseException] = []

    def waiter() -> None:
        try:
            throttle.acquire()
        except Stopped as exc:
            raised.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.05)
    throttle.stop()
    thread.join(2)
    assert raised and not thread.is_alive()


def test_ask_retries_rate_limits_then_answers() -> None:
    provider = ScriptedChat(
        lambda model, messages: "ok then",
        failures=[failure(perr.RateLimitedError, retry_after=0.01), failure(perr.RateLimitedError, retry_after=0.01)],
    )
    throttle = Throttle(4)
    reply = ask(_chat(provider), throttle, REQUEST)
    assert reply.text == "ok then" and reply.error is None and reply.completion_tokens == 2
    # 4 → 2 → 1 slots after the two 429s; the success that followed earned one back.
    assert len(provider.calls) == 3 and throttle.rate_limited == 2 and throttle.limit == 2


def test_ask_gives_up_after_max_attempts_and_records_why() -> None:
    provider = ScriptedChat(
        lambda m, msgs: "never", failures=[failure(perr.RateLimitedError, "slow down", retry_after=0.0)] * MAX_ATTEMPTS
    )
    reply = ask(_chat(provider), Throttle(1), REQUEST)
    assert reply.text is None and reply.error is not None and "slow down" in reply.error
    assert len(provider.calls) == MAX_ATTEMPTS


def test_item_errors_are_recorded_and_fatal_errors_raise() -> None:
    provider = ScriptedChat(lambda m, msgs: "x", failures=[failure(perr.InvalidRequestError, "prompt too long")])
    reply = ask(_chat(provider), Throttle(1), REQUEST)
    assert reply.error == "prompt too long" and reply.text is None
    provider = ScriptedChat(lambda m, msgs: "x", failures=[failure(perr.AuthenticationError, "bad key")])
    with pytest.raises(perr.AuthenticationError):
        ask(_chat(provider), Throttle(1), REQUEST)


def test_run_parallel_bounds_concurrency_and_reports_each_result() -> None:
    provider = ScriptedChat(lambda m, msgs: "ok", delay_s=0.05)
    throttle = Throttle(3)
    seen: list[str] = []
    tasks = [lambda i=i: (ask(_chat(provider), throttle, REQUEST), str(i))[1] for i in range(12)]
    run_parallel(tasks, 3, throttle, seen.append)
    assert sorted(seen, key=int) == [str(i) for i in range(12)]
    assert provider.peak == 3 and len(provider.calls) == 12


def test_a_fatal_error_stops_the_run_and_requests_in_flight_finish() -> None:
    provider = ScriptedChat(lambda m, msgs: "ok", delay_s=0.05, failures=[failure(perr.NotFoundError, "no such model")])
    throttle = Throttle(2)
    finished: list[str] = []
    tasks = [lambda: ask(_chat(provider), throttle, REQUEST).text or "" for _ in range(20)]
    with pytest.raises(perr.NotFoundError):
        run_parallel(tasks, 2, throttle, finished.append)
    assert len(provider.calls) < 20  # stopped early: no new request after the fatal one
