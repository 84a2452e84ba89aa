"""`HeapKeeper`: survivors of every full collection are frozen (so the next full pass walks only what is new),
nothing is left frozen after uninstall, and the occasional full sweep waits until the user has been idle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from tui.heap import IDLE_S, SWEEP_EVERY_S, HeapKeeper


class Node:
    me: object = None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keeper() -> Iterator[tuple[HeapKeeper, Clock]]:
    clock = Clock()
    heap = HeapKeeper(clock)
    try:
        yield heap, clock
    finally:
        heap.uninstall()
        gc.unfreeze()


def test_full_collections_freeze_their_survivors_and_uninstall_thaws(keeper: tuple[HeapKeeper, Clock]) -> None:
    heap, _ = keeper
    gc.unfreeze()
    heap.install()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    survivors = [[i] for i in range(5000)]  # new, alive, tracked objects
    gc.collect()
    assert gc.get_freeze_count() >= frozen + len(survivors)
    heap.uninstall()
    assert gc.get_freeze_count() == 0
    assert heap._after_collection not in gc.callbacks


def test_a_garbage_cycle_frozen_by_mistake_is_reclaimed_by_the_idle_sweep(keeper: tuple[HeapKeeper, Clock]) -> None:
    heap, clock = keeper
    heap.install()
    cycle = Node()
    cycle.me = cycle
    alive = weakref.ref(cycle)
    gc.collect()  # the cycle is alive here, so it is frozen with the rest
    del cycle  # now garbage, but frozen objects are never collected
    gc.collect()
    assert alive() is not None
    assert not heap.sweep_if_idle()  # the user was active just now
    clock.now += IDLE_S + 1
    assert not heap.sweep_if_idle()  # idle, but the last sweep (start) was too recent
    clock.now += SWEEP_EVERY_S
    heap.touched()
    assert not heap.sweep_if_idle()  # a key was pressed: not now
    clock.now += IDLE_S + 1
    assert heap.sweep_if_idle() and heap.sweeps == 1
    assert alive() is None  # thawed and collected
    assert gc.get_freeze_count() > 0  # the survivors frozen again
