"""Keeping the garbage collector's full passes short while the deck runs.

A deck over hundreds of live jobs holds a large long-lived heap (Textual, styles, rows, the SDKs it imported).
CPython 3.11's full (generation 2) collection walks all of it: 60–200 ms per pass with 500 jobs on this
project's 2-core machine, the longest UI stalls by far. `HeapKeeper` freezes what survives each full collection
(`gc.freeze`, the permanent generation CPython offers for long-lived programs), so the next full pass walks only
what was allocated since: its cost follows the allocation rate, not the size of the heap.

Freezing right after a full collection leaks nothing that was garbage then. What becomes a garbage *cycle* later
while frozen (a dismissed screen's widgets) would stay, so `sweep_if_idle` unfreezes and collects everything
once in a while, only when nobody has touched a key for a while: the one long pause then lands where no one
waits for the screen.
"""

from __future__ import annotations

import gc
import time
from typing import Any

IDLE_S = 30.0
"""How long without input before a sweep may run."""
SWEEP_EVERY_S = 300.0
"""At most one sweep per this many seconds."""


class HeapKeeper:
    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.last_input = clock()
        self.last_sweep = clock()
        self.sweeps = 0
        self.installed = False

    def install(self) -> None:
        """Collect and freeze once now, then freeze the survivors of every full collection."""
        if self.installed:
            return
        self.installed = True
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self._after_collection)

    def uninstall(self) -> None:
        if self.installed:
            self.installed = False
            gc.callbacks.remove(self._after_collection)
            gc.unfreeze()

    @staticmethod
    def _after_collection(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()  # everything left is alive: a full collection just ran

    def touched(self) -> None:
        """The user pressed a key or moved the mouse."""
        self.last_input = self.clock()

    def sweep_if_idle(self) -> bool:
        """Unfreeze and collect everything when the user has been away a while; True if it did."""
        now = self.clock()
        if not self.installed or now - self.last_input < IDLE_S or now - self.last_sweep < SWEEP_EVERY_S:
            return False
        self.last_sweep = now
        self.sweeps += 1
        gc.unfreeze()
        gc.collect()  # the callback freezes the survivors again
        return True
