"""Terminal UI benchmark: time to first frame of bare `tunedeck` in a real pseudo-terminal beside a minimal
Textual app in the same run, and the longest UI-loop stall while 500 jobs update every second.

Run: .venv/bin/python benchmarks/bench_tui.py [--runs 5] [--seconds 10] [--jobs 500]
Targets (the issue's): first frame within 1.5× of the minimal app; no stall over 50 ms. Both figures depend on
how busy the machine is, so the load average is printed beside them; compare the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

MARKER = b"burning now"
"""Text both apps draw in their first frame (the deck's header says it; the minimal app prints it)."""
MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static


class Minimal(App):
    def compose(self):
        yield Static("burning now")


Minimal().run()
"""


# -- time to first frame --------------------------------------------------------------------------------------


def first_frame_s(command: list[str], env: dict[str, str], timeout: float = 60.0) -> float:
    """Seconds from spawning `command` on a 120×40 pseudo-terminal until MARKER reaches the terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    started = time.perf_counter()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO,
                               start_new_session=True)  # fmt: skip
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - started < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:  # the child closed the terminal: it died
                    break
                if MARKER in seen:
                    return time.perf_counter() - started
            if process.poll() is not None:
                break
        raise RuntimeError(f"no first frame from {command}: {seen[-2000:]!r}")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        os.close(master)


def bench_first_frame(runs: int) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="bench-tui-home-"))
    env = {**os.environ, "TUNEDECK_HOME": str(home), "TERM": "xterm-256color", "PYTHONPATH": str(REPO)}
    env.pop("NO_COLOR", None)
    minimal = home / "minimal_app.py"
    minimal.write_text(MINIMAL_APP, encoding="utf-8")
    deck = [sys.executable, "-m", "tunedeck"]
    plain = [sys.executable, str(minimal)]
    first_frame_s(deck, env)  # warm the file cache (and create the store) once, unmeasured
    first_frame_s(plain, env)
    times: dict[str, list[float]] = {"tunedeck": [], "minimal": []}
    for _ in range(runs):  # interleaved, so a load spike hits both
        times["tunedeck"].append(first_frame_s(deck, env))
        times["minimal"].append(first_frame_s(plain, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {"runs": times, "median": medians, "ratio": medians["tunedeck"] / medians["minimal"]}


# -- UI-loop stalls under 500 live jobs -----------------------------------------------------------------------


def bench_stalls(n_jobs: int, seconds: float) -> dict[str, Any]:
    """The real app (headless, 120×40) over a temp store with `n_jobs` running jobs; a thread publishes a state
    refresh and a new metrics event for every job once a second, as a monitor round would. A probe on the
    app's event loop measures how late it wakes up."""
    os.environ["TUNEDECK_HOME"] = tempfile.mkdtemp(prefix="bench-tui-stalls-")
    from providers.base import JobState, JobStatus, ProviderJob, TuningSpec
    from tui.app import TunedeckApp
    from tui.screens.jobs import JobsScreen
    from tui.widgets.job_table import JobTable
    from tunedeck.events import JobEventsArrived, JobStateChanged
    from tunedeck.store import EventRecord
    from tunedeck.workspace import Workspace

    workspace = Workspace.open()
    now = datetime.now(UTC)
    for n in range(n_jobs):
        spec = TuningSpec("smollm2-135m-instruct", "file-1", suffix=f"bench-{n}", client_key=f"bench-{n}")
        intent = workspace.store.create_job_intent("local", spec)
        remote = ProviderJob(f"ftjob-{n}", "local", spec.base_model, JobStatus(JobState.RUNNING, "running"), now)
        workspace.store.mark_submitted(intent.id, remote)
        workspace.store.record_status(intent.id, remote)
    jobs = workspace.jobs.all(limit=None)

    handled: list[float] = []
    original = JobsScreen.handle_events

    def timed(self: JobsScreen, events: list[Any]) -> None:
        began = time.perf_counter()
        original(self, events)
        handled.append(time.perf_counter() - began)

    JobsScreen.handle_events = timed  # type: ignore[method-assign]
    stop = threading.Event()

    def publish() -> None:
        step = 0
        while not stop.wait(1.0):
            step += 1
            at = datetime.now(UTC)
            for job in jobs:
                fresh = dataclasses.replace(job, updated_at=at, state_detail=f"step {step}")
                metrics = {"step": step, "total_steps": 1000, "train_loss": 2.0 / step, "valid_loss": 2.1 / step}
                event = EventRecord(job.id, f"ev-{step}", at, "info", f"step {step}", metrics, seq=step)
                workspace.publish(JobStateChanged(fresh))
                workspace.publish(JobEventsArrived(fresh, (event,)))

    async def probe(duration: float) -> list[float]:
        """How late the loop wakes from 5 ms sleeps: a stall anywhere on the loop shows up as lateness."""
        lags, interval, deadline = [], 0.005, time.perf_counter() + duration
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await asyncio.sleep(interval)
            lags.append(time.perf_counter() - began - interval)
        return sorted(lags)

    async def run() -> tuple[list[float], list[float]]:
        app = TunedeckApp(workspace, live=False)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.screen.query_one(JobTable)
            while table.row_count < n_jobs or not table.settled:
                await pilot.pause(0.05)
            await app.workers.wait_for_complete()
            idle = await probe(seconds)  # the same app with nothing to do: what the machine alone costs
            publisher = threading.Thread(target=publish, daemon=True)
            publisher.start()
            busy = await probe(seconds)
            stop.set()
            publisher.join()
        return idle, busy

    async def machine_alone() -> list[float]:
        """The same probe in a minimal Textual app: the stalls the machine causes by itself."""
        from textual.app import App
        from textual.widgets import Static

        class Minimal(App[None]):
            def compose(self) -> Any:
                yield Static("burning now")

        async with Minimal().run_test(size=(120, 40)):
            return await probe(seconds)

    try:
        baseline = asyncio.run(machine_alone())
        idle, lags = asyncio.run(run())
    finally:
        JobsScreen.handle_events = original  # type: ignore[method-assign]
        workspace.close()
    return {
        "minimal_max_stall_ms": baseline[-1] * 1000,
        "minimal_p99_stall_ms": baseline[int(len(baseline) * 0.99)] * 1000,
        "idle_max_stall_ms": idle[-1] * 1000,
        "idle_p99_stall_ms": idle[int(len(idle) * 0.99)] * 1000,
        "jobs": n_jobs,
        "seconds": seconds,
        "events_per_s": 2 * n_jobs,
        "max_stall_ms": lags[-1] * 1000,
        "p99_stall_ms": lags[int(len(lags) * 0.99)] * 1000,
        "batches": len(handled),
        "max_batch_ms": max(handled, default=0.0) * 1000,
        "median_batch_ms": statistics.median(handled) * 1000 if handled else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=500)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    frame = bench_first_frame(args.runs)
    print(f"first frame, median of {args.runs}: tunedeck {frame['median']['tunedeck']:.3f} s · minimal Textual app "
          f"{frame['median']['minimal']:.3f} s · ratio {frame['ratio']:.2f}× (target ≤ 1.5×)")  # fmt: skip
    print("  runs:", {name: [round(t, 3) for t in values] for name, values in frame["runs"].items()})
    stalls = bench_stalls(args.jobs, args.seconds)
    print(f"{stalls['jobs']} jobs updating every second ({stalls['events_per_s']} events/s), {stalls['seconds']:.0f} s:"
          f" longest UI-loop stall {stalls['max_stall_ms']:.1f} ms (p99 {stalls['p99_stall_ms']:.1f} ms; target ≤ 50); "
          f"{stalls['batches']} coalesced batches, longest {stalls['max_batch_ms']:.1f} ms, "
          f"median {stalls['median_batch_ms']:.1f} ms")  # fmt: skip
    print(f"  same probe, same run: the deck with its 500 jobs idle {stalls['idle_max_stall_ms']:.1f} ms "
          f"(p99 {stalls['idle_p99_stall_ms']:.1f} ms); a minimal Textual app {stalls['minimal_max_stall_ms']:.1f} ms "
          f"(p99 {stalls['minimal_p99_stall_ms']:.1f} ms)")  # fmt: skip
    print(f"load average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
