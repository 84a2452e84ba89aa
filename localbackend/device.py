"""Where the local backend computes: CUDA when present, bf16 where the hardware does it fast, and how many CPU
threads each job and the chat engine may use so that together they never exceed the cores."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import torch

Precision = Literal["auto", "bf16", "fp32"]


@dataclass(frozen=True)
class ComputePlan:
    """How to run the model: `device` for tensors, base weights in `weight_dtype`, matmuls under `autocast` or not."""

    device: str
    bf16: bool
    reason: str

    @property
    def weight_dtype(self) -> torch.dtype:
        import torch  # deferred: the CLI imports this module's callers at start-up

        return torch.bfloat16 if self.bf16 else torch.float32

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """A context manager: bf16 autocast on the plan's device, or a no-op in fp32."""
        import torch

        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=torch.bfloat16)

    @property
    def device_type(self) -> str:
        return self.device.split(":", 1)[0]


@functools.cache
def cpu_has_fast_bf16() -> bool:
    """True when the CPU has native bf16 matmuls (avx512_bf16 or AMX); elsewhere bf16 emulation is slower than fp32."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def choose_device(requested: str | None = None) -> str:
    """The requested device, else the first CUDA GPU, else the CPU."""
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def compute_plan(device: str | None = None, precision: Precision = "auto") -> ComputePlan:
    """Pick the device and precision. bf16 base weights + fp32 LoRA + bf16 autocast train ~1.7× faster on
    avx512_bf16 CPUs with the same loss curve; without native bf16 it would be slower, so fall back to fp32."""
    import torch

    dev = choose_device(device)
    if precision == "fp32":
        return ComputePlan(dev, False, "fp32 (requested)")
    if dev.startswith("cuda"):
        ok = torch.cuda.is_bf16_supported()
        return ComputePlan(dev, ok or precision == "bf16", "bf16 autocast (CUDA)" if ok else "fp32 (GPU lacks bf16)")
    if precision == "bf16":
        return ComputePlan(dev, True, "bf16 autocast (requested)")
    if dev == "cpu" and cpu_has_fast_bf16():
        return ComputePlan(dev, True, "bf16 autocast enabled (avx512_bf16)")
    return ComputePlan(dev, False, "fp32 (this CPU has no native bf16)")


# --- CPU threads --------------------------------------------------------------------------------------------------
# Every training worker and the server's generation each run torch/OpenMP thread pools. Left alone, each sizes its
# pool to every core and spins while waiting, so two jobs and a chat on two cores ran 0.21× as fast in total as
# one job alone (issue 14). The server therefore shares the cores out (ThreadBudget) and all pools wait passively.
PASSIVE_WAIT_ENV = {"OMP_WAIT_POLICY": "PASSIVE"}
"""Set before torch loads (in the server and every worker): idle OpenMP threads sleep instead of spinning."""


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_max_concurrent_jobs(cores: int | None = None) -> int:
    """1 below 8 cores (two trainings there only slow each other down), else one job per 4 cores, at most 4."""
    cores = available_cores() if cores is None else cores
    return 1 if cores < 8 else min(4, cores // 4)


class ThreadBudget:
    """Shares the cores among the current consumers (training jobs, and generation while a chat runs) so their
    thread pools together never exceed the cores: each gets cores // n, the first ones the remainder, at least 1.

    `join(name, apply)` registers a consumer; `apply(threads)` is called with its share now and whenever the
    share changes (e.g. a chat starts beside a training job). Thread-safe."""

    def __init__(self, cores: int | None = None) -> None:
        self.cores = cores or available_cores()
        self._lock = threading.Lock()
        self._consumers: dict[str, Callable[[int], None]] = {}
        self._shares: dict[str, int] = {}

    def join(self, name: str, apply: Callable[[int], None]) -> int:
        with self._lock:
            self._consumers[name] = apply
            changed = self._rebalance()
            share = self._shares[name]
        self._notify(changed)
        return share

    def leave(self, name: str) -> None:
        with self._lock:
            self._consumers.pop(name, None)
            self._shares.pop(name, None)
            changed = self._rebalance()
        self._notify(changed)

    def shares(self) -> dict[str, int]:
        with self._lock:
            return dict(self._shares)

    def _rebalance(self) -> list[tuple[Callable[[int], None], int]]:
        names = list(self._consumers)
        base, extra = divmod(self.cores, max(1, len(names)))
        changed = []
        for index, name in enumerate(names):
            share = max(1, base + (1 if index < extra else 0))
            if self._shares.get(name) != share:
                self._shares[name] = share
                changed.append((self._consumers[name], share))
        return changed

    @staticmethod
    def _notify(changed: list[tuple[Callable[[int], None], int]]) -> None:
        for apply, share in changed:
            apply(share)
