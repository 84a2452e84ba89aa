"""Validation inside a threaded app (the TUI, a server) keeps its tokenizer worker processes and counts the same."""

from __future__ import annotations

import threading
from pathlib import Path

import orjson

from tunedeck.data import tokencount
from tunedeck.data.validate import validate_file


def _write(path: Path, n: int) -> Path:
    rows = [
        {"messages": [{"role": "user", "content": f"question {i} " * 7}, {"role": "assistant", "content": f"ok {i}"}]}
        for i in range(n)
    ]
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    return path


def _in_thread_with_another_running(work):
    """Run `work` while a second thread is alive, as under Textual or uvicorn."""
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    result: dict = {}
    try:
        runner = threading.Thread(target=lambda: result.setdefault("value", work()))
        runner.start()
        runner.join(120)
    finally:
        release.set()
    return result["value"]


def test_threads_switch_workers_to_forkserver_instead_of_dropping_them():
    alone = threading.active_count() == 1  # other tests may leave daemon threads behind
    assert tokencount.worker_start_method() == ("fork" if alone else "forkserver")
    method, workers = _in_thread_with_another_running(
        lambda: (tokencount.worker_start_method(), tokencount.default_workers(tokencount.PARALLEL_MIN_BYTES))
    )
    assert method == "forkserver"
    assert workers >= 2


def test_counts_with_workers_in_a_threaded_process_equal_in_process_counts(tmp_path):
    data = _write(tmp_path / "train.jsonl", 400)
    alone = validate_file(data, provider="openai", workers=0)
    threaded = _in_thread_with_another_running(lambda: validate_file(data, provider="openai", workers=2))
    assert threaded.stats.billable_tokens == alone.stats.billable_tokens > 0
    assert threaded.stats.n_valid_examples == alone.stats.n_valid_examples == 400
