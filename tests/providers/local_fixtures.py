"""The real local backend app on an in-thread uvicorn with a fast fake trainer, for provider contract tests.

The real trainer is exercised end to end by the backend's own tests; here the HTTP server, job queue, worker
processes, events and checkpoints are all real and only the training loop is short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.backend.test_server_support import ThreadServer as AppThreadServer

FAKE_TRAIN_FN = "tests.providers.local_fixtures:fake_train"
SLOW_SEED = 4242
"""A job with this seed trains slowly enough to be cancelled mid-run."""


def fake_train(request: Any, emit: Callable[[dict[str, Any]], None], should_stop: Callable[[], bool]) -> dict[str, Any]:
    total, step_s = (40, 0.5) if request.seed == SLOW_SEED else (4, 0.02)
    emit({"type": "message", "level": "info", "message": f"Training {total} steps"})
    for step in range(1, total + 1):
        if should_stop():
            from localbackend.trainer import TrainingCancelled

            raise TrainingCancelled()
        time.sleep(step_s)
        emit({"type": "metrics", "step": step, "total_steps": total, "epoch": step / total,
              "train_loss": 2.0 / step, "train_mean_token_accuracy": 0.1 * step, "valid_loss": None,
              "valid_mean_token_accuracy": None, "trained_tokens": 10 * step, "elapsed_s": step * step_s,
              "estimated_remaining_s": (total - step) * step_s})  # fmt: skip
    final = Path(request.output_dir) / "final"
    final.mkdir(parents=True, exist_ok=True)
    emit({"type": "checkpoint", "epoch": 1, "step": total, "path": str(final), "metrics": {"train_loss": 2.0 / total}})
    return {"adapter_path": str(final), "trained_tokens": 10 * total, "steps": total, "hyperparameters": {}}


class ThreadServer(AppThreadServer):
    """The backend tests' in-thread server, configured with the fast fake trainer above."""

    def __init__(self, data_dir: Path, cache_dir: Path, api_key: str | None = None) -> None:
        from localbackend.server.state import ServerConfig

        super().__init__(ServerConfig(data_dir=data_dir, cache_dir=cache_dir, api_key=api_key, train_fn=FAKE_TRAIN_FN))
