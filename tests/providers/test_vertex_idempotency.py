"""Issue 14.0 on Vertex: a retried submit never creates a second paid job, through the real submit path (store +
adapter) against the loopback stand-in. (a) The client key is normalised once, before it is stored, so the
label Vertex keeps and every lookup agree. (b) google-genai does not resend a create POST that timed out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers import errors
from providers.base import CLIENT_KEY_LABEL
from providers.vertex.adapter import VertexProvider
from tests.providers.fake_vertex import FakeVertex, fake_vertex_server
from tests.providers.vertex_support import SPEC, vertex_config
from tunedeck.jobs.submit import submit_job
from tunedeck.store import Store, Submission


class Crash(Exception):
    pass


@pytest.fixture
def fake() -> Iterator[FakeVertex]:
    with fake_vertex_server() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open_path(tmp_path / "tunedeck.db") as opened:
        yield opened


def test_a_key_vertex_would_rewrite_is_normalised_once_so_a_retry_adopts_the_first_job(
    fake: FakeVertex, store: Store
) -> None:
    vertex = VertexProvider(vertex_config(fake.url))
    spec = dataclasses.replace(SPEC, client_key="MyRun.v2")

    def crash_after_create(point: str) -> None:
        if point == "remote-created":
            raise Crash  # the job exists at Vertex, the store never heard back

    with pytest.raises(Crash):
        submit_job(store, vertex, spec, hook=crash_after_create)
    (first,) = fake.jobs.values()
    assert first.labels[CLIENT_KEY_LABEL] == "myrun-v2"

    again = submit_job(store, vertex, spec)  # the user retries with the same --client-key
    assert again.submission is Submission.SUBMITTED and again.provider_job_id == first.name
    assert again.client_key == "myrun-v2"  # the store holds the form the label holds
    assert len(fake.tune_requests) == 1


def test_a_client_key_too_long_for_a_label_is_refused_before_anything_is_stored(fake: FakeVertex, store: Store) -> None:
    vertex = VertexProvider(vertex_config(fake.url))
    with pytest.raises(errors.InvalidRequestError, match="cannot be a Vertex label"):
        submit_job(store, vertex, dataclasses.replace(SPEC, client_key="k" * 64))
    assert store.list_jobs() == [] and fake.tune_requests == []


def test_a_create_vertex_accepted_but_answered_late_is_sent_once(fake: FakeVertex, store: Store) -> None:
    # Vertex stores the job, then the answer arrives after the client's timeout. With SDK retries on
    # (attempts = max_retries + 1 = 3) google-genai would POST it twice more and Vertex would bill three jobs.
    fake.create_delay_s = 3.0
    vertex = VertexProvider(vertex_config(fake.url, timeout_s=0.5, max_retries=2))
    with pytest.raises(errors.UnavailableError):
        submit_job(store, vertex, SPEC)
    assert len(fake.tune_requests) == 1
    (intent,) = store.list_jobs()
    assert intent.submission is Submission.INTENT  # maybe sent: kept for reconciliation, not retried blindly

    fake.create_delay_s = 0.0
    settled = submit_job(store, vertex, SPEC)  # the retry reconciles by client key and adopts the job
    assert settled.submission is Submission.SUBMITTED and settled.provider_job_id in fake.jobs
    assert len(fake.tune_requests) == 1 and len(fake.jobs) == 1


def test_reads_keep_the_sdk_retries(fake: FakeVertex) -> None:
    # Only the create is sent once: a GET is safe to repeat, so a transient 503 on it is retried by the SDK.
    job = VertexProvider(vertex_config(fake.url)).create_job(SPEC)
    fake.fail_next = [(503, "UNAVAILABLE", {})]
    assert VertexProvider(vertex_config(fake.url, max_retries=1)).get_job(job.id).id == job.id
