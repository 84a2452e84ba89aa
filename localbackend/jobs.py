"""Fine-tuning jobs: the state machine, a queue with a concurrency limit, and one worker process per job.

States move `validating_files → queued → running → succeeded | failed | cancelled`. The runner's scheduler
thread starts queued jobs while fewer than `max_jobs` (never more than the cores) run, each with its share of
the cores from the server's ThreadBudget; a monitor thread per job turns the worker's
events into database rows and its exit into the final state, so a crash in training only fails that job.
A job interrupted by a server stop or crash resumes after its last checkpoint on the next start (or fails
with a clear error when it saved none): it is never left `running`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localbackend.db import Database, new_id, now
from localbackend.device import ThreadBudget
from localbackend.registry import ModelRegistry, checkpoint_model_id, fine_tuned_model_id
from localbackend.worker import DEFAULT_TRAIN_FN, run

log = logging.getLogger("localbackend.jobs")

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
# An absolute path of two or more parts, after a space, quote or bracket: any other path on the server.
_ABSOLUTE_PATH = re.compile(r"""(^|[\s'"(\[=])/(?:[^\s'"/]+/)+([^\s'"/)\]]*)""")
TRANSITIONS: dict[str, frozenset[str]] = {
    "validating_files": frozenset({"queued", "failed", "cancelled"}),
    "queued": frozenset({"running", "failed", "cancelled"}),
    "running": frozenset({"succeeded", "failed", "cancelled"}),  # (+ back to queued to resume, see recover)
}


class JobNotFoundError(LookupError):
    pass


class JobFinishedError(RuntimeError):
    """The job already reached a final state; it can't be cancelled or changed."""


def check_transition(old: str, new: str) -> None:
    if new not in TRANSITIONS.get(old, frozenset()):
        raise JobFinishedError(f"A job in state {old!r} cannot move to {new!r}.")


def describe_exit(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}"
    return f"exit code {exitcode}"


@dataclass
class _Running:
    process: Any
    stop: Any
    cancel_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class JobRunner:
    """Owns the job queue and the worker processes. Thread-safe; one per server (per data dir)."""

    def __init__(
        self,
        db: Database,
        registry: ModelRegistry,
        jobs_dir: Path,
        cache_dir: Path,
        *,
        max_jobs: int = 1,
        train_fn: str = DEFAULT_TRAIN_FN,
        cancel_grace_s: float = 20.0,
        budget: ThreadBudget | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.jobs_dir = jobs_dir
        self.cache_dir = cache_dir
        self.budget = budget or ThreadBudget()
        # More jobs than cores would need more busy threads than cores: the extra ones wait in the queue.
        self.max_jobs = max(1, min(max_jobs, self.budget.cores))
        if self.max_jobs < max_jobs:
            log.warning("running at most %d jobs at once: this machine has %d cores", self.max_jobs, self.budget.cores)
        self.train_fn = train_fn
        self.cancel_grace_s = cancel_grace_s
        self._ctx = multiprocessing.get_context("spawn")
        self._running: dict[str, _Running] = {}
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._closing = False
        self._scheduler: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        self.recover()
        self._scheduler = threading.Thread(target=self._schedule_loop, name="tunedeck-jobs", daemon=True)
        self._scheduler.start()

    def recover(self) -> None:
        """After a restart: a job left `running` lost its worker with the old server. It resumes from its last
        checkpoint when it has one, else fails with a clear error; queued and validating jobs simply run again."""
        for job in self.db.query("SELECT * FROM jobs WHERE status = 'running'"):
            self._resume_or_fail(job["id"], "server_restarted", "The server stopped while this job was running.")

    def _resume_or_fail(self, job_id: str, code: str, why: str) -> None:
        """Re-queue an interrupted job to resume after its last saved checkpoint, or fail it if it has none."""
        ckpts = self.db.query("SELECT * FROM checkpoints WHERE job_id = ? ORDER BY step DESC", [job_id])
        last = next((c for c in ckpts if Path(c["path"]).is_dir()), None)
        if last is None:
            error = {"code": code, "param": None, "message": f"{why} No checkpoint was saved yet, so training "
                     "cannot resume. Create a new job to train again."}  # fmt: skip
            self._finish(job_id, "failed", error=error)
            return
        with self.db.transaction():
            job = self.db.get("jobs", job_id)
            if job is None or job["status"] != "running":
                return
            options = {**job["options"], "resume_from": last["path"]}
            self.db.update("jobs", job_id, status="queued", options=options, worker_pid=None)
        self._add_event(job_id, "warn", f"{why} The job is queued again and will resume after step {last['step']} "
                        f"({last['model_id']}).")  # fmt: skip

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the scheduler and every worker; running jobs resume on the next start (or fail if they can't)."""
        with self._lock:
            self._closing = True
            running = dict(self._running)
            self._wake.notify_all()
        for job_id, entry in running.items():
            self._add_event(job_id, "warn", "The server is shutting down; stopping training.")
            entry.stop.set()
        deadline = time.monotonic() + timeout
        for entry in running.values():
            entry.process.join(max(0.0, deadline - time.monotonic()))
            if entry.process.is_alive():
                entry.process.kill()
                entry.process.join(5)
        for entry in running.values():
            entry.done.wait(5)

    # --- public operations ------------------------------------------------------------------------------
    def output_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id / "adapters"

    def submit(self, job_id: str) -> None:
        self._add_event(job_id, "info", "Validating training file")
        with self._lock:
            self._wake.notify_all()

    def cancel(self, job_id: str, wait_s: float = 5.0) -> dict[str, Any]:
        job = self.db.get("jobs", job_id)
        if job is None:
            raise JobNotFoundError(job_id)
        with self._lock:
            entry = self._running.get(job_id)
            if entry is None:
                status = self.db.get("jobs", job_id)["status"]  # type: ignore[index]
                if status in FINISHED:
                    raise JobFinishedError(f"Job {job_id} has already completed with status '{status}'.")
                self._finish(job_id, "cancelled")
                return self.db.get("jobs", job_id)  # type: ignore[return-value]
            entry.cancel_requested = True
            entry.stop.set()
        self._add_event(job_id, "info", "Cancellation requested; stopping training at the next step.")
        threading.Thread(target=self._enforce_cancel, args=(entry,), daemon=True).start()
        entry.done.wait(wait_s)  # usually quick: the trainer checks should_stop every step
        return self.db.get("jobs", job_id)  # type: ignore[return-value]

    def redact(self, text: str) -> str:
        """`text` without the server's paths: API clients learn what went wrong, not where the server keeps
        its files (the server log has the whole traceback)."""
        for root, name in ((self.jobs_dir.parent, "<data dir>"), (self.cache_dir, "<cache dir>")):
            for form in {str(root), str(root.resolve())}:
                text = text.replace(form, name)
        return _ABSOLUTE_PATH.sub(lambda m: f"{m.group(1)}…/{m.group(2)}", text)

    def running_jobs(self) -> list[str]:
        with self._lock:
            return list(self._running)

    # --- internals ----------------------------------------------------------------------------------------
    def _enforce_cancel(self, entry: _Running) -> None:
        # A worker stuck outside the step loop (loading, saving) is stopped by force after a grace period.
        entry.process.join(self.cancel_grace_s)
        if entry.process.is_alive():
            entry.process.terminate()
            entry.process.join(5)
            if entry.process.is_alive():
                entry.process.kill()

    def _schedule_loop(self) -> None:
        while True:
            with self._lock:
                if self._closing:
                    return
                pending = self.db.query(
                    "SELECT id, status FROM jobs WHERE status IN ('validating_files', 'queued') ORDER BY seq"
                )
            for job in pending:
                if job["status"] == "validating_files":
                    self._guarded(job["id"], self._validate)
            with self._lock:
                if self._closing:
                    return
                for job in self.db.query("SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq"):
                    if len(self._running) >= self.max_jobs:
                        break
                    self._guarded(job["id"], self._launch)
                self._wake.wait(timeout=1.0)

    def _guarded(self, job_id: str, step: Callable[[str], None]) -> None:
        """Run one job's scheduling step; an unexpected error fails that job, never the scheduler thread
        (which would silently stop every later job)."""
        try:
            step(job_id)
        except Exception as exc:
            log.exception("scheduling job %s failed", job_id)
            message = f"The server could not start this job: {self.redact(str(exc))}"
            error = {"code": "server_error", "param": None, "message": message}
            with contextlib.suppress(JobFinishedError):  # it finished (e.g. was cancelled) meanwhile
                self._finish(job_id, "failed", error=error)

    def _missing_file(self, job: dict[str, Any]) -> dict[str, Any] | None:
        """The error for a training/validation file deleted since the job was created, else None."""
        for param in ("training_file", "validation_file"):
            file_id = job[param]
            row = self.db.get("files", file_id) if file_id else None
            if file_id and (row is None or not Path(row["path"]).is_file()):
                return {"code": "invalid_file", "param": param, "message": f"File {file_id} no longer exists."}
        return None

    def _validate(self, job_id: str) -> None:
        job = self.db.get("jobs", job_id)
        if job is None or job["status"] != "validating_files":
            return
        error = self._missing_file(job)
        if error is not None:
            self._finish(job_id, "failed", error=error)
            return
        try:
            self._set_status(job_id, "queued")
        except JobFinishedError:  # cancelled while we looked: raising here would kill the scheduler thread
            return
        self._add_event(job_id, "info", "Files validated, moving job to queued state")

    def _launch(self, job_id: str) -> None:
        job = self.db.get("jobs", job_id)
        if job is None:
            return
        error = self._missing_file(job)
        if error is not None:
            self._finish(job_id, "failed", error=error)
            return
        files = {p: self.db.get("files", job[p]) if job[p] else None for p in ("training_file", "validation_file")}
        output_dir = self.output_dir(job_id)
        output_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "job_id": job_id,
            "training_file": job["training_file"],
            "validation_file": job["validation_file"],
            "training_path": files["training_file"]["path"] if files["training_file"] else None,
            "validation_path": files["validation_file"]["path"] if files["validation_file"] else None,
            "output_dir": str(output_dir),
            "cache_dir": str(self.cache_dir),
            "seed": job["seed"],
            "hyperparameters": job["hyperparameters"],
            "options": job["options"],
            "train_fn": self.train_fn,
        }
        receiver, sender = self._ctx.Pipe(duplex=False)
        stop = self._ctx.Event()
        # The worker's share of the cores, shrunk and grown while it runs as jobs and chats come and go.
        threads = self._ctx.Value("i", 1, lock=False)
        self.budget.join(job_id, lambda share: setattr(threads, "value", share))
        process = self._ctx.Process(
            target=run, args=(payload, sender, stop, os.getpid(), threads), name=f"tunedeck-train-{job_id}",
            daemon=False,
        )  # fmt: skip
        try:
            process.start()
        except BaseException:
            self.budget.leave(job_id)
            raise
        sender.close()  # only the worker writes; our copy closed means EOF arrives when the worker exits
        entry = _Running(process=process, stop=stop)
        self._running[job_id] = entry
        self._set_status(job_id, "running", worker_pid=process.pid)
        self._add_event(job_id, "info", "Fine-tuning job started")
        threading.Thread(target=self._monitor, args=(job_id, entry, receiver), daemon=True).start()

    def _monitor(self, job_id: str, entry: _Running, receiver: Any) -> None:
        terminal: dict[str, Any] | None = None
        try:
            while True:
                try:
                    event = receiver.recv()
                except (EOFError, OSError):
                    break
                if event.get("type") in ("result", "cancelled", "error"):
                    terminal = event
                else:
                    self._record(job_id, event)
            entry.process.join()
            self._conclude(job_id, entry, terminal)
        except Exception:  # a bug here must not leave the job "running" forever
            log.exception("monitor of %s failed", job_id)
            self._finish(
                job_id,
                "failed",
                error={
                    "code": "server_error",
                    "param": None,
                    "message": "The server lost track of the training worker.",
                },
            )
        finally:
            receiver.close()
            self.budget.leave(job_id)
            with self._lock:
                self._running.pop(job_id, None)
                self._wake.notify_all()
            entry.done.set()

    def _conclude(self, job_id: str, entry: _Running, terminal: dict[str, Any] | None) -> None:
        kind = terminal.get("type") if terminal else None
        if self._closing and not entry.cancel_requested and kind != "result":
            self._resume_or_fail(job_id, "server_shutdown", "The server was stopped while this job was running.")
        elif kind == "result" and terminal is not None:
            job = self.db.get("jobs", job_id) or {}
            model_id = fine_tuned_model_id(job.get("suffix"), job_id)
            self.registry.register_fine_tuned(model_id, job_id, Path(terminal["adapter_path"]), now())
            self._add_event(job_id, "info", f"New fine-tuned model created: {model_id}")
            self._finish(
                job_id,
                "succeeded",
                fine_tuned_model=model_id,
                trained_tokens=terminal.get("trained_tokens"),
                hyperparameters={**job.get("hyperparameters", {}), **terminal.get("hyperparameters", {})},
            )
            self._add_event(job_id, "info", "The job has successfully completed")
        elif kind == "cancelled" or (entry.cancel_requested and kind != "error"):
            self._finish(job_id, "cancelled")
        elif kind == "error" and terminal is not None:
            log.warning("job %s failed:\n%s", job_id, terminal.get("traceback", ""))
            self._finish(
                job_id,
                "failed",
                error={
                    "code": "training_failed",
                    "param": None,
                    "message": f"Training failed: {self.redact(str(terminal['message']))}",
                },
            )
        else:
            how = describe_exit(entry.process.exitcode)
            self._finish(
                job_id,
                "failed",
                error={
                    "code": "worker_crashed",
                    "param": None,
                    "message": f"The training worker process crashed ({how}).",
                },
            )

    def _record(self, job_id: str, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message":
            self._add_event(job_id, str(event.get("level", "info")), str(event.get("message", "")))
        elif kind == "metrics":
            self._record_metrics(job_id, event)
        elif kind == "checkpoint":
            self._record_checkpoint(job_id, event)
        elif kind == "hyperparameters":
            job = self.db.get("jobs", job_id) or {}
            self.db.update(
                "jobs", job_id, hyperparameters={**job.get("hyperparameters", {}), **event["hyperparameters"]}
            )

    def _record_metrics(self, job_id: str, event: dict[str, Any]) -> None:
        data = {key: value for key, value in event.items() if key != "type"}
        step, total = event.get("step"), event.get("total_steps")
        parts = [f"Step {step}/{total}: training loss={event.get('train_loss', float('nan')):.4f}"]
        if event.get("valid_loss") is not None:
            parts.append(f"validation loss={event['valid_loss']:.4f}")
        self._add_event(job_id, "info", ", ".join(parts), kind="metrics", data=data)
        remaining = event.get("estimated_remaining_s")
        self.db.update(
            "jobs",
            job_id,
            trained_tokens=event.get("trained_tokens"),
            estimated_finish=int(time.time() + remaining) if isinstance(remaining, int | float) else None,
        )

    def _record_checkpoint(self, job_id: str, event: dict[str, Any]) -> None:
        job = self.db.get("jobs", job_id) or {}
        step = int(event["step"])
        model_id = checkpoint_model_id(fine_tuned_model_id(job.get("suffix"), job_id), step)
        given = event.get("metrics") or {}
        metrics = {"step": step, **{key: value for key, value in given.items() if value is not None}}
        self.db.insert(
            "checkpoints",
            {
                "id": new_id("ftckpt-"),
                "job_id": job_id,
                "model_id": model_id,
                "step": step,
                "path": str(Path(event["path"]).resolve()),
                "metrics": metrics,
                "created_at": now(),
            },
        )
        self._add_event(job_id, "info", f"Checkpoint created at step {step}: {model_id}")

    def _set_status(self, job_id: str, status: str, **changes: Any) -> None:
        with self.db.transaction():
            job = self.db.get("jobs", job_id)
            if job is None:
                return
            check_transition(job["status"], status)
            self.db.update("jobs", job_id, status=status, **changes)

    def _finish(self, job_id: str, status: str, **changes: Any) -> None:
        with self.db.transaction():
            job = self.db.get("jobs", job_id)
            if job is None or job["status"] in FINISHED:
                return
            check_transition(job["status"], status)
            self.db.update("jobs", job_id, status=status, finished_at=now(), estimated_finish=None, **changes)
        if status == "cancelled":
            self._add_event(job_id, "info", "Fine-tuning job cancelled")
        elif status == "failed":
            self._add_event(job_id, "error", f"Fine-tuning job failed: {changes['error']['message']}")

    def _add_event(
        self, job_id: str, level: str, message: str, *, kind: str = "message", data: dict[str, Any] | None = None
    ) -> None:
        self.db.insert(
            "events",
            {
                "id": new_id("ftevent-"),
                "job_id": job_id,
                "created_at": now(),
                "level": level,
                "message": message,
                "type": kind,
                "data": data,
            },
        )
