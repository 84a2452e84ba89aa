"""`LossChart`: train and validation loss against step, redrawn in place as metrics arrive (textual-plotext)."""

from __future__ import annotations

from collections.abc import Iterable

from textual_plotext import PlotextPlot

from tunedeck.store import EventRecord


def loss_points(events: Iterable[EventRecord]) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(train, valid) as (step, loss) pairs from metrics events; full-validation losses count as validation."""
    train: list[tuple[float, float]] = []
    valid: list[tuple[float, float]] = []
    for event in events:
        metrics = event.metrics or {}
        if "step" not in metrics:
            continue
        step = float(metrics["step"])
        if isinstance(metrics.get("train_loss"), int | float):
            train.append((step, float(metrics["train_loss"])))
        value = metrics.get("valid_loss", metrics.get("full_valid_loss"))
        if isinstance(value, int | float):
            valid.append((step, float(value)))
    return train, valid


class LossChart(PlotextPlot):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.train: list[tuple[float, float]] = []
        self.valid: list[tuple[float, float]] = []

    def on_mount(self) -> None:
        super().on_mount()
        self._draw()

    def add(self, events: Iterable[EventRecord]) -> None:
        train, valid = loss_points(events)
        if train or valid:
            self.train += train
            self.valid += valid
            self._draw()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        if self.train:
            plt.plot([s for s, _ in self.train], [v for _, v in self.train], label="train", marker="braille")
        if self.valid:
            plt.plot([s for s, _ in self.valid], [v for _, v in self.valid], label="valid", marker="braille")
        plt.title("loss" if self.train or self.valid else "loss (no metrics yet)")
        plt.xlabel("step")
        self.refresh()
