"""The entry point of one fine-tuning job's worker process (spawned, never forked: torch and fork don't mix).

The worker owns nothing but its output dir: it loads the data, calls the trainer and sends every event, then
one terminal message (`result`, `cancelled` or `error`), over a pipe to the server, which records them.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from localbackend.device import PASSIVE_WAIT_ENV

DEFAULT_TRAIN_FN = "localbackend.trainer:train"


def load_callable(spec: str) -> Callable[..., Any]:
    """`module:attribute` → the object; a string crosses the spawn boundary where a function may not."""
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


class JobInputError(Exception):
    """A job's file could not be read; the message names the file by its API id, never by its server path."""


def _load(payload: dict[str, Any], which: str) -> list[list[dict[str, Any]]] | None:
    from tunedeck.data.reader import load_conversations

    path, file_id = payload.get(f"{which}_path"), payload.get(f"{which}_file") or "(unknown)"
    if not path:
        return None
    if not Path(path).is_file():  # deleted between the server's check and this worker's start
        raise JobInputError(f"The {which} file {file_id} no longer exists; it was deleted after the job started.")
    try:
        return load_conversations(Path(path))
    except Exception as exc:
        raise JobInputError(f"The {which} file {file_id} could not be read: {str(exc).replace(path, file_id)}") from exc


def build_request(payload: dict[str, Any]) -> Any:
    from localbackend.trainer import TrainRequest  # deferred: imports torch

    return TrainRequest(
        training=_load(payload, "training") or [],
        validation=_load(payload, "validation"),
        output_dir=Path(payload["output_dir"]),
        cache_dir=Path(payload["cache_dir"]),
        seed=payload.get("seed"),
        **payload.get("hyperparameters", {}),
        **payload.get("options", {}),
    )


class _Threads:
    """Keeps torch's thread pool at the share of the cores the server gives this job (`share.value`)."""

    def __init__(self, share: Any) -> None:
        self.share = share
        self.applied = 0
        # Before torch loads, or OpenMP ignores them: start at the current share, and wait passively.
        for name, value in PASSIVE_WAIT_ENV.items():
            os.environ.setdefault(name, value)  # a user's own choice wins
        if share is not None:
            os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(max(1, int(share.value)))

    def apply(self) -> None:
        """Called between training steps, on the thread that trains: set_num_threads rules the calling thread."""
        torch = sys.modules.get("torch")
        wanted = max(1, int(self.share.value)) if self.share is not None else 0
        if torch is not None and wanted and wanted != self.applied:
            torch.set_num_threads(wanted)
            self.applied = wanted


def run(payload: dict[str, Any], conn: Connection, stop: Any, parent_pid: int, threads: Any = None) -> None:
    """Process target. `stop` is a multiprocessing Event set by the server's cancel; `threads` a shared int,
    this job's share of the CPU cores (None: torch's default)."""
    pool = _Threads(threads)

    def emit(event: dict[str, Any]) -> None:
        conn.send(event)

    def should_stop() -> bool:
        pool.apply()  # the trainer asks before every step: the moment to follow a changed share
        # A server that died (SIGKILL, OOM) can't set `stop`; being re-parented is the sign to quit.
        return bool(stop.is_set()) or os.getppid() != parent_pid

    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), name="orphan-watch", daemon=True).start()
    code = 0
    try:
        request = build_request(payload)
        pool.apply()
        train = load_callable(payload.get("train_fn") or DEFAULT_TRAIN_FN)
        from localbackend.trainer import resolve_hyperparameters

        resolved = resolve_hyperparameters(len(request.training), request)
        emit({"type": "hyperparameters", "hyperparameters": resolved})
        if (payload.get("train_fn") or DEFAULT_TRAIN_FN) == DEFAULT_TRAIN_FN:
            prepare_base_model(Path(payload["cache_dir"]), emit)
        result = train(request, emit, should_stop)
        emit({"type": "result", **result})
    except BaseException as exc:
        if should_stop():
            _send_quietly(conn, {"type": "cancelled"})
        else:
            message = str(exc) if isinstance(exc, JobInputError) else f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            _send_quietly(conn, {"type": "error", "message": message, "traceback": traceback.format_exc()})
            code = 1
    finally:
        conn.close()
    if code:
        sys.exit(code)


def prepare_base_model(cache_dir: Path, emit: Callable[[dict[str, Any]], None]) -> None:
    """Convert the GGUF base model if no job did yet, saying so as two job events (start, and done with its
    duration): the first run spends ~20-30 s here, which the job's events used to pass over in silence."""
    from localbackend.basemodel import converted_model_dir
    from tunedeck.events import ProgressAdvanced

    started = time.monotonic()

    def said(event: Any) -> None:
        if not isinstance(event, ProgressAdvanced):
            return
        if event.done == 0:
            text = f"First run: converting the base model from GGUF to safetensors ({event.message})"
        else:
            text = (
                f"Converted the base model in {time.monotonic() - started:.1f} s (first run only; later jobs "
                "load it in under a second)"
            )
        emit({"type": "message", "level": "info", "message": text})

    converted_model_dir(cache_dir, progress=said)


def _exit_when_orphaned(parent_pid: int, period_s: float = 1.0) -> None:
    """Quit promptly if the server dies, even mid-load where should_stop is not polled. Safe: the trainer
    writes adapters atomically, so nothing half-written is left behind."""
    while True:
        time.sleep(period_s)
        if os.getppid() != parent_pid:
            os._exit(3)


def _send_quietly(conn: Connection, event: dict[str, Any]) -> None:
    with contextlib.suppress(OSError, ValueError):  # the server is gone; nobody is left to tell
        conn.send(event)
