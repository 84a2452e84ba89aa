"""Hostile input at the local server's edge: each test is one reproduced bug (issue 14, items 2, 3, 4 and 10).

A real uvicorn server on 127.0.0.1 with the real job runner; the trainer is the fast fake and the chat engine
a stand-in that tokenizes as strictly as the real one, so nothing here loads a model.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localbackend.basemodel import BASE_MODEL_ID
from localbackend.server.state import ServerConfig
from tests.backend.fake_engine import EchoEngine
from tests.backend.test_server_support import ThreadServer, jsonl, openai_client, raw, wait_until
from tests.conftest import MODEL_CACHE

GOOD = [[{"role": "user", "content": f"Q{i}?"}, {"role": "assistant", "content": f"A{i}."}] for i in range(4)]
FAKE_TRAIN_FN = "tests.backend.test_server_support:fake_train"
LONE = "\\ud800"  # as a client writes it in JSON: an escape that decodes to an unpaired UTF-16 half
LEGACY_METADATA = '{"k":"\\ud800","a\\u0000":"v"}'  # what the server stored before strings were checked


@pytest.fixture(scope="module")
def engine() -> EchoEngine:
    return EchoEngine()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, engine: EchoEngine) -> Iterator[ThreadServer]:
    config = ServerConfig(data_dir=tmp_path_factory.mktemp("hardening"), cache_dir=MODEL_CACHE, train_fn=FAKE_TRAIN_FN)
    srv = ThreadServer(config, engine=engine)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def training_file(server: ThreadServer) -> str:
    return str(openai_client(server.base_url).files.create(file=("t.jsonl", jsonl(GOOD)), purpose="fine-tune").id)


def post_json(server: ThreadServer, path: str, text: str) -> httpx.Response:
    """POST a JSON body written by hand, so it can hold escapes a JSON encoder would never produce."""
    return raw(server.base_url, "POST", path, content=text.encode(), headers={"content-type": "application/json"})


def job_count(server: ThreadServer) -> int:
    response = raw(server.base_url, "GET", "/v1/fine_tuning/jobs?limit=100")
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


def assert_openai_400(response: httpx.Response, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param, error
    return dict(error)


# --- item 2: one bad character must not break the job list ------------------------------------------------------
@pytest.mark.parametrize(
    ("metadata", "param"),
    [
        (f'{{"k": "{LONE}"}}', "metadata.k"),
        (f'{{"{LONE}": "v"}}', "metadata"),
        ('{"k": "a\\u0000b"}', "metadata.k"),
        ('{"a\\u0000": "v"}', "metadata"),
    ],
)
def test_a_bad_string_in_job_metadata_is_a_400_and_leaves_no_job(
    server: ThreadServer, training_file: str, metadata: str, param: str
) -> None:
    before = job_count(server)
    body = f'{{"model": "{BASE_MODEL_ID}", "training_file": "{training_file}", "metadata": {metadata}}}'
    error = assert_openai_400(post_json(server, "/v1/fine_tuning/jobs", body), param)
    assert "surrogate" in error["message"] or "NUL" in error["message"]
    time.sleep(1.2)  # the scheduler polls every second: a stored job would be picked up by now
    assert job_count(server) == before


def test_a_bad_string_anywhere_in_a_json_body_is_refused_with_its_place(server: ThreadServer) -> None:
    body = (
        f'{{"model": "{BASE_MODEL_ID}", "training_file": "f", "suffix": "ok", "integrations": [{{"a": ["{LONE}"]}}]}}'
    )
    assert_openai_400(post_json(server, "/v1/fine_tuning/jobs", body), "integrations[0].a[0]")
    nul_path = raw(server.base_url, "GET", "/v1/files/file-%00")
    assert_openai_400(nul_path, "file_id")


def test_rows_stored_before_the_fix_cannot_break_listing(server: ThreadServer, training_file: str) -> None:
    db = Path(server.server.config.app.state.services.config.db_path)  # type: ignore[attr-defined]
    conn = sqlite3.connect(db)
    try:
        conn.execute(
            "INSERT INTO jobs (id, created_at, model, training_file, suffix, seed, metadata, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'cancelled')",
            [
                "ftjob-legacybad",
                int(time.time()),
                BASE_MODEL_ID,
                training_file,
                "x",
                1,
                '{"k":"\\ud800","a\\u0000":"v"}',
            ],
        )
        conn.commit()
    finally:
        conn.close()
    listed = raw(server.base_url, "GET", "/v1/fine_tuning/jobs?limit=100")
    assert listed.status_code == 200, listed.text
    job = next(j for j in listed.json()["data"] if j["id"] == "ftjob-legacybad")
    assert job["metadata"]["k"] == "\ufffd"
    assert raw(server.base_url, "GET", "/v1/fine_tuning/jobs/ftjob-legacybad").status_code == 200
    assert_openai_400(raw(server.base_url, "POST", "/v1/fine_tuning/jobs/ftjob-legacybad/cancel"))
    filtered = raw(server.base_url, "GET", "/v1/fine_tuning/jobs", params={"metadata[k]": "x"})
    assert filtered.status_code == 200 and filtered.json()["data"] == []


# --- item 3: lone surrogates in chat content ------------------------------------------------------------------------
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions",
         f'{{"model": "{BASE_MODEL_ID}", "messages": [{{"role": "user", "content": "hi {LONE}"}}]'),
        (
            "/v1/chat/completions",
            f'{{"model": "{BASE_MODEL_ID}", "messages": [{{"role": "user", "content": '
            f'[{{"type": "text", "text": "{LONE}"}}]}}]',
        ),
        ("/v1/chat/completions", f'{{"model": "{BASE_MODEL_ID}", "messages": [{{"role": "user", "content": "hi"}}], '
         f'"stop": ["{LONE}"]'),
        ("/v1/messages", f'{{"model": "{BASE_MODEL_ID}", "max_tokens": 5, "messages": [{{"role": "user", '
         f'"content": "hi {LONE}"}}]'),
        ("/v1/messages", f'{{"model": "{BASE_MODEL_ID}", "max_tokens": 5, "system": "{LONE}", '
         f'"messages": [{{"role": "user", "content": "hi"}}]'),
    ],
)  # fmt: skip
def test_lone_surrogates_in_chat_are_400s_in_the_api_s_own_shape(
    server: ThreadServer, engine: EchoEngine, path: str, body: str, stream: bool
) -> None:
    asked = len(engine.counted)
    response = post_json(server, path, body + f', "stream": {json.dumps(stream)}}}')
    assert response.status_code == 400, response.text
    if path == "/v1/messages":
        assert response.json()["type"] == "error"
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert "surrogate" in response.json()["error"]["message"]
    else:
        assert "surrogate" in assert_openai_400(response)["message"]
    assert len(engine.counted) == asked  # refused before the tokenizer saw it


def test_the_stand_in_engine_still_answers_good_chat(server: ThreadServer) -> None:
    reply = openai_client(server.base_url).chat.completions.create(
        model=BASE_MODEL_ID, messages=[{"role": "user", "content": "echo this 🙂 back"}]
    )
    assert reply.choices[0].message.content == "echo this 🙂 back"


# --- item 4: NUL in a metadata filter key, and keys SQLite's JSON paths would misread ------------------------------
def test_nul_in_a_metadata_filter_key_is_a_400(server: ThreadServer) -> None:
    assert_openai_400(raw(server.base_url, "GET", "/v1/fine_tuning/jobs?metadata[a%00]=x"), "metadata[a\x00]")
    assert_openai_400(raw(server.base_url, "GET", "/v1/fine_tuning/jobs?after=%00"), "after")


def test_metadata_filters_match_keys_with_quotes_dots_and_brackets(server: ThreadServer, training_file: str) -> None:
    client = openai_client(server.base_url)
    odd = {'we"ird': "1", "a.b": "2", "c[0]": "3", "back\\slash": "4", "$": "5"}
    job = client.fine_tuning.jobs.create(model=BASE_MODEL_ID, training_file=training_file, metadata=odd)
    client.fine_tuning.jobs.cancel(job.id)
    for key, value in odd.items():
        found = raw(server.base_url, "GET", "/v1/fine_tuning/jobs", params={f"metadata[{key}]": value})
        assert found.status_code == 200, (key, found.text)
        assert [j["id"] for j in found.json()["data"]] == [job.id], key


# --- item 10: smaller contract gaps -----------------------------------------------------------------------------
def test_a_chat_seed_out_of_range_names_seed_and_the_range(server: ThreadServer, engine: EchoEngine) -> None:
    asked = len(engine.counted)
    for seed in (2**64, -(2**63) - 1):
        body = {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": "hi"}], "seed": seed}
        error = assert_openai_400(raw(server.base_url, "POST", "/v1/chat/completions", json=body), "seed")
        assert str(-(2**63)) in error["message"] and str(2**63 - 1) in error["message"], error
    assert len(engine.counted) == asked
    ok = {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": "hi"}], "seed": -(2**63)}
    assert raw(server.base_url, "POST", "/v1/chat/completions", json=ok).status_code == 200


def test_a_job_seed_out_of_range_names_seed_and_the_range(server: ThreadServer, training_file: str) -> None:
    body = {"model": BASE_MODEL_ID, "training_file": training_file, "seed": 2**31}
    error = assert_openai_400(raw(server.base_url, "POST", "/v1/fine_tuning/jobs", json=body), "seed")
    assert "0" in error["message"] and str(2**31 - 1) in error["message"], error


@pytest.mark.parametrize("suffix", ["abc\n", "abc\r\n", "a\nb"])
def test_a_suffix_with_a_newline_is_refused(server: ThreadServer, training_file: str, suffix: str) -> None:
    body = {"model": BASE_MODEL_ID, "training_file": training_file, "suffix": suffix}
    assert_openai_400(raw(server.base_url, "POST", "/v1/fine_tuning/jobs", json=body), "suffix")


@pytest.mark.parametrize(
    ("hyperparameters", "param"),
    [
        ({"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 0}}}},
         "method.supervised.hyperparameters.n_epochs"),
        ({"hyperparameters": {"n_epochs": 0}}, "hyperparameters.n_epochs"),
        ({"hyperparameters": {"batch_size": "big"}}, "hyperparameters.batch_size"),
        ({"hyperparameters": {"learning_rate_multiplier": -1}}, "hyperparameters.learning_rate_multiplier"),
    ],
)  # fmt: skip
def test_bad_hyperparameters_name_the_param_plainly(
    server: ThreadServer, training_file: str, hyperparameters: dict[str, Any], param: str
) -> None:
    body = {"model": BASE_MODEL_ID, "training_file": training_file, **hyperparameters}
    error = assert_openai_400(raw(server.base_url, "POST", "/v1/fine_tuning/jobs", json=body), param)
    for internal in ("literal", "Literal", "Input should", ".int", "union"):
        assert internal not in error["message"] and internal not in error["param"], error
    assert '"auto"' in error["message"], error


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
def test_a_huge_prompt_is_refused_before_it_is_tokenized(server: ThreadServer, engine: EchoEngine, path: str) -> None:
    asked = len(engine.counted)
    body: dict[str, Any] = {"model": BASE_MODEL_ID, "messages": [{"role": "user", "content": "word " * 400_000}]}
    if path == "/v1/messages":
        body["max_tokens"] = 16
    started = time.monotonic()
    response = raw(server.base_url, "POST", path, json=body)
    assert response.status_code == 400, response.text[:300]
    assert "context length" in response.text and time.monotonic() - started < 5
    if path == "/v1/chat/completions":
        assert response.json()["error"]["code"] == "context_length_exceeded"
    assert len(engine.counted) == asked


def _multipart(filename: bytes, content: bytes, purpose: bytes = b"fine-tune") -> tuple[bytes, str]:
    """A multipart body written by hand: clients differ in how they encode a filename, the raw bytes do not."""
    boundary = "tunedeckboundary"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n".encode() + purpose + b"\r\n"
        + f"--{boundary}\r\n".encode() + b'Content-Disposition: form-data; name="file"; filename="' + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + f"\r\n--{boundary}--\r\n".encode()
    )  # fmt: skip
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("raw_name", "stored"),
    [
        ("café-日本.jsonl".encode(), "café-日本.jsonl"),
        (b"caf\xe9-\xff.jsonl", "caf\ufffd-\ufffd.jsonl"),  # latin-1 bytes: not UTF-8, so not guessable
    ],
)
def test_upload_filenames_are_stored_as_sent_or_marked_unreadable(
    server: ThreadServer, raw_name: bytes, stored: str
) -> None:
    body, content_type = _multipart(raw_name, jsonl(GOOD))
    response = raw(server.base_url, "POST", "/v1/files", content=body, headers={"content-type": content_type})
    assert response.status_code == 200, response.text
    assert response.json()["filename"] == stored
    listed = raw(server.base_url, "GET", f"/v1/files/{response.json()['id']}")
    assert listed.json()["filename"] == stored


def test_nul_in_an_upload_filename_or_purpose_is_a_400(server: ThreadServer) -> None:
    for name, purpose, param in ((b"a\x00b.jsonl", b"fine-tune", "file"), (b"ok.jsonl", b"fine-\x00tune", "purpose")):
        body, content_type = _multipart(name, jsonl(GOOD), purpose)
        response = raw(server.base_url, "POST", "/v1/files", content=body, headers={"content-type": content_type})
        assert_openai_400(response, param)


def test_a_deleted_training_file_is_reported_without_server_paths(tmp_path: Path) -> None:
    """The worker reads the training file when it starts; one deleted in between must not leak where it lived."""
    from localbackend.worker import run

    sent: list[dict[str, Any]] = []

    class Pipe:
        def send(self, event: dict[str, Any]) -> None:
            sent.append(event)

        def close(self) -> None:
            pass

    class Never:
        def is_set(self) -> bool:
            return False

    import os

    missing = tmp_path / "data" / "files" / "file-gone.jsonl"
    payload = {"job_id": "ftjob-x", "training_file": "file-gone", "training_path": str(missing),
               "validation_file": None, "validation_path": None, "output_dir": str(tmp_path / "out"),
               "cache_dir": str(tmp_path / "cache"), "seed": 1, "hyperparameters": {}, "options": {},
               "train_fn": FAKE_TRAIN_FN}  # fmt: skip
    with pytest.raises(SystemExit):
        run(payload, Pipe(), Never(), os.getppid())  # type: ignore[arg-type]
    error = sent[-1]
    assert error["type"] == "error" and "file-gone" in error["message"], error
    assert str(tmp_path) not in error["message"] and "/files/" not in error["message"], error


def leaky_train(request: Any, emit: Any, should_stop: Any) -> dict[str, Any]:
    """A trainer that fails with an error naming a server path, as an OSError deep in a library would."""
    raise FileNotFoundError(2, "No such file or directory", str(Path(request.output_dir) / "final" / "x.bin"))


def test_job_errors_never_show_server_paths(tmp_path: Path) -> None:
    config = ServerConfig(
        data_dir=tmp_path / "leaky", cache_dir=MODEL_CACHE, train_fn="tests.backend.test_server_hardening:leaky_train"
    )
    srv = ThreadServer(config)
    try:
        client = openai_client(srv.base_url)
        file_id = client.files.create(file=("t.jsonl", jsonl(GOOD)), purpose="fine-tune").id
        job = client.fine_tuning.jobs.create(model=BASE_MODEL_ID, training_file=file_id)
        done = wait_until(
            lambda: (j := client.fine_tuning.jobs.retrieve(job.id)).status in {"failed", "succeeded"} and j, 60, "end"
        )
        assert done.status == "failed" and "No such file or directory" in done.error.message, done.error
        assert str(tmp_path) not in done.error.message, done.error.message
        events = [e.message for e in client.fine_tuning.jobs.list_events(job.id, limit=100)]
        assert not any(str(tmp_path) in message for message in events), events
    finally:
        srv.stop()
