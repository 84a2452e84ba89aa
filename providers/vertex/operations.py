"""Await Vertex long-running operations (deploy, undeploy, upload, delete) with progress and a deadline.

Vertex answers every mutation with an operation that is usually not done yet; its effect (a model deployed,
an endpoint gone) exists only once a poll finds it done. Polling here rather than `operation.result()` lets
the caller show progress and use its own interval instead of api_core's fixed backoff.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from providers import errors

Progress = Callable[[str], None]


def quiet(message: str) -> None:
    pass


def await_operation(
    operation: Any,
    what: str,
    *,
    poll_s: float,
    timeout_s: float,
    progress: Progress = quiet,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """The operation's result once done; its error as a Google API exception (translated at the boundary)."""
    started = clock()
    progress(f"{what}: started")
    while not operation.done():  # each call polls the operation once
        waited = clock() - started
        if waited > timeout_s:
            raise errors.UnavailableError(
                f"{what} did not finish within {timeout_s / 60:.0f} min (operation {operation.operation.name}).",
                "It may still finish on Vertex: run `tunedeck endpoints list` to see where it stands, and "
                "`tunedeck endpoints teardown` to stop anything that bills.",
                provider="vertex",
            )
        progress(f"{what}: waiting ({waited:.0f}s)")
        sleep(poll_s)
    result = operation.result(timeout=0)
    progress(f"{what}: done ({clock() - started:.0f}s)")
    return result
