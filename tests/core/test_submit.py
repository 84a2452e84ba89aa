"""Submission is idempotent: the intent precedes the remote call, retries and reconciliation never duplicate."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from providers.base import CLIENT_KEY_LABEL, MANAGED_BY_LABEL, TuningSpec
from providers.errors import InvalidRequestError, RateLimitedError, UnavailableError
from tests.core.fakes import FakeProvider
from tunedeck.jobs.submit import (
    ReconcileOutcome,
    dataset_paths_spec,
    reconcile,
    retry_submission,
    submit_job,
)
from tunedeck.settings import load_settings
from tunedeck.store import Store, Submission


@pytest.fixture
def store() -> Store:
    return Store.open(load_settings())


def spec(**kw: object) -> TuningSpec:
    return TuningSpec(base_model="gpt-4o-mini-2024-07-18", training_file="file-1", **kw)  # type: ignore[arg-type]


def test_submit_records_intent_then_job_with_ownership_labels(store: Store) -> None:
    provider = FakeProvider()
    seen_at_hook: list[Submission] = []

    def hook(point: str) -> None:
        if point == "intent-recorded":
            # The intent is committed (visible to a second connection) before the remote call.
            other = Store.open_path(store.path)
            [job] = other.list_jobs()
            seen_at_hook.append(job.submission)
            assert provider.jobs == {}

    job = submit_job(store, provider, spec(), estimated_tokens=500, estimated_cost_usd=0.01, hook=hook)
    assert seen_at_hook == [Submission.INTENT]
    assert job.submission is Submission.SUBMITTED and job.provider_job_id == "ftjob-1"
    remote = provider.jobs["ftjob-1"]
    assert remote.labels[MANAGED_BY_LABEL] == "tunedeck"
    assert remote.labels[CLIENT_KEY_LABEL] == job.client_key
    assert job.estimated_cost_usd == 0.01


def test_same_client_key_twice_creates_one_job(store: Store) -> None:
    provider = FakeProvider()
    first = submit_job(store, provider, spec(client_key="tdk-fixed"))
    second = submit_job(store, provider, spec(client_key="tdk-fixed"))
    assert first.id == second.id and len(provider.jobs) == 1


def test_crash_after_remote_create_is_reconciled_not_resubmitted(store: Store) -> None:
    provider = FakeProvider()

    class Crash(Exception):
        pass

    def crash(point: str) -> None:
        if point == "remote-created":
            raise Crash

    with pytest.raises(Crash):
        submit_job(store, provider, spec(client_key="tdk-a"), hook=crash)
    [job] = store.list_jobs()
    assert job.submission is Submission.INTENT and len(provider.jobs) == 1
    # Re-running the same submission settles the intent from the provider instead of creating again.
    again = submit_job(store, provider, spec(client_key="tdk-a"))
    assert again.id == job.id and again.provider_job_id == "ftjob-1" and len(provider.jobs) == 1


def test_reconcile_marks_old_orphan_intent_not_submitted_and_retry_reuses_key(store: Store) -> None:
    provider = FakeProvider()

    class Crash(Exception):
        pass

    def crash(point: str) -> None:
        if point == "intent-recorded":
            raise Crash

    with pytest.raises(Crash):
        submit_job(store, provider, spec(client_key="tdk-b"), hook=crash)
    # A young intent may still be in flight in another process: left alone.
    [pending] = reconcile(store, lambda name: provider, stale_after=timedelta(minutes=10))
    assert pending.outcome is ReconcileOutcome.PENDING
    [settled] = reconcile(store, lambda name: provider, stale_after=timedelta(0))
    assert settled.outcome is ReconcileOutcome.NOT_SUBMITTED
    assert store.require_job(settled.job.id).submission is Submission.NOT_SUBMITTED
    retried = retry_submission(store, provider, settled.job.id)
    assert retried.submission is Submission.SUBMITTED and retried.client_key == "tdk-b"
    assert len(provider.jobs) == 1 and len(store.list_jobs()) == 1


def test_unreachable_provider_keeps_intent_and_refuses_blind_resend(store: Store) -> None:
    provider = FakeProvider(failures=[UnavailableError("connection reset", provider="fake")])
    with pytest.raises(UnavailableError):
        submit_job(store, provider, spec(client_key="tdk-c"))
    assert store.list_jobs()[0].submission is Submission.INTENT
    [result] = reconcile(
        store,
        lambda name: FakeProvider(failures=[UnavailableError("still down", provider="fake")]),
        stale_after=timedelta(0),
    )
    assert result.outcome is ReconcileOutcome.UNREACHABLE
    provider.failures = [UnavailableError("lookup down", provider="fake")]
    with pytest.raises(UnavailableError, match="Cannot tell"):
        submit_job(store, provider, spec(client_key="tdk-c"))
    assert provider.calls.count("create") == 1


def test_refused_request_is_not_submitted_and_retryable(store: Store) -> None:
    provider = FakeProvider(failures=[InvalidRequestError("bad model", provider="fake", status=400)])
    with pytest.raises(InvalidRequestError):
        submit_job(store, provider, spec(client_key="tdk-d"))
    assert store.list_jobs()[0].submission is Submission.NOT_SUBMITTED
    job = submit_job(store, provider, spec(client_key="tdk-d"))
    assert job.submission is Submission.SUBMITTED and len(provider.jobs) == 1


def test_rate_limited_create_is_not_submitted_and_the_detail_says_why(store: Store) -> None:
    provider = FakeProvider(failures=[RateLimitedError("too many requests", provider="fake", retry_after=5)])
    with pytest.raises(RateLimitedError):
        submit_job(store, provider, spec(client_key="tdk-e"))
    [job] = store.list_jobs()
    assert job.submission is Submission.NOT_SUBMITTED and job.state_detail == "rate limited: too many requests"
    assert submit_job(store, provider, spec(client_key="tdk-e")).id == job.id and len(provider.jobs) == 1


def test_dataset_upload_deduplicated_by_content_hash(store: Store, tmp_path: Path) -> None:
    provider = FakeProvider()
    a = tmp_path / "a.jsonl"
    b = tmp_path / "copy.jsonl"
    a.write_text('{"messages": []}\n')
    b.write_text('{"messages": []}\n')
    first = dataset_paths_spec(store, provider, spec(), a, None)
    second = dataset_paths_spec(store, provider, spec(), b, a)
    assert first.training_file == second.training_file == second.validation_file == "file-1"
    assert provider.uploads == [a]
    b.write_text('{"messages": [1]}\n')
    assert dataset_paths_spec(store, provider, spec(), b, None).training_file == "file-2"


def test_reconcile_skips_a_provider_that_cannot_be_built(store: Store) -> None:
    from providers.errors import AuthenticationError

    provider = FakeProvider(failures=[UnavailableError("down", provider="fake")])
    with pytest.raises(UnavailableError):
        submit_job(store, provider, spec(client_key="tdk-e"))

    def unbuildable(name: str) -> FakeProvider:
        raise AuthenticationError("No key for fake.", provider="fake")

    [result] = reconcile(store, unbuildable, stale_after=timedelta(0))
    assert result.outcome is ReconcileOutcome.UNREACHABLE and "No key" in result.detail
    assert store.list_jobs()[0].submission is Submission.INTENT
