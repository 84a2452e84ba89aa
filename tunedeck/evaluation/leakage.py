"""Leakage guard and training history: held-out items that also appear in a tuned model's training file.

When a model is a tunedeck job, the store knows the job (events with its losses) and the file it uploaded for
training. An item leaks when its question and reference have the same word tokens as a training example's
(exact: case, spacing, punctuation and symbols aside), or when their word 3-gram sets overlap with Jaccard ≥ 0.8
(near duplicate: a lightly edited copy). Candidates come from an inverted index of 3-grams, so the check stays
linear in practice for large training files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tunedeck.profiles.text import words

if TYPE_CHECKING:
    from tunedeck.evaluation.items import Item
    from tunedeck.store import JobRecord, Store

NEAR_DUPLICATE = 0.8
SHINGLE = 3


@dataclass(frozen=True)
class Leak:
    item: int
    line: int
    """1-based conversation number in the held-out file."""
    training_line: int
    kind: str
    """`exact` or `near-duplicate`."""
    similarity: float


@dataclass(frozen=True)
class LeakageReport:
    model: str
    job_id: str
    training_file: str
    leaks: list[Leak]
    note: str = ""
    """Why the check could not run (training file gone, unreadable), else empty."""

    def describe(self) -> str:
        if self.note:
            return f"{self.model}: leakage not checked ({self.note})"
        exact = sum(1 for leak in self.leaks if leak.kind == "exact")
        near = len(self.leaks) - exact
        lines = ", ".join(str(leak.line) for leak in self.leaks[:10]) + (" …" if len(self.leaks) > 10 else "")
        return (
            f"{self.model} was trained on {len(self.leaks)} held-out item(s) ({exact} exact, {near} near-duplicate; "
            f"held-out conversations {lines}) from {self.training_file}: its scores on them are not held-out scores."
        )


def job_for_model(store: Store, model: str) -> JobRecord | None:
    """The tunedeck job that made `model` (or the checkpoint `model` names), if any."""
    for record in store.list_models():
        if record.name == model and record.job_id:
            job = store.get_job(record.job_id)
            if job is not None:
                return job
    for job in store.list_jobs():
        made = job.fine_tuned_model
        if made and (model == made or model.startswith(made + ":")):
            return job
    return None


def loss_curve(store: Store, job: JobRecord) -> list[dict[str, float]]:
    """The job's metric events as points: step, and train_loss / valid_loss where recorded."""
    points = []
    for event in store.list_events(job.id):
        metrics = event.metrics or {}
        if "step" not in metrics:
            continue
        point = {"step": float(metrics["step"])}
        for key in ("train_loss", "valid_loss"):
            value = metrics.get(key)
            if isinstance(value, int | float):
                point[key] = float(value)
        if len(point) > 1:
            points.append(point)
    return points


def training_path(store: Store, job: JobRecord) -> Path | None:
    """Where the job's training file was uploaded from (the store records each upload's local path)."""
    file_id = job.spec.get("training_file")
    for dataset in store.list_datasets():
        if dataset.provider == job.provider and dataset.provider_file_id == file_id:
            return Path(dataset.path)
    return None


def check_leakage(store: Store, label: str, model: str, items: list[Item]) -> LeakageReport | None:
    """None when `model` is not a tunedeck job (nothing known about its training data)."""
    job = job_for_model(store, model)
    if job is None:
        return None
    path = training_path(store, job)
    if path is None:
        return LeakageReport(label, job.id, str(job.spec.get("training_file")), [], "training file not in the store")
    if not path.is_file():
        return LeakageReport(label, job.id, str(path), [], f"{path} is no longer there")
    from tunedeck.errors import TunedeckError
    from tunedeck.profiles.examples import load_examples

    try:
        training = load_examples(path)
    except TunedeckError as exc:
        return LeakageReport(label, job.id, str(path), [], f"cannot read it: {exc.title}")
    pairs = [(example.line, example.question, example.answer) for example in training]
    leaks = find_leaks([(item.index, item.line, item.question, item.reference) for item in items], pairs)
    return LeakageReport(label, job.id, str(path), leaks)


def _key(question: str, answer: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(words(question)), tuple(words(answer))


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    tokens = words(text)
    size = min(SHINGLE, len(tokens))
    return frozenset(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)) if tokens else frozenset()


def find_leaks(held_out: list[tuple[int, int, str, str]], training: list[tuple[int, str, str]]) -> list[Leak]:
    """held_out: (item, line, question, reference); training: (line, question, answer)."""
    exact: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = {}
    index: dict[tuple[str, ...], set[int]] = defaultdict(set)
    shingles: list[frozenset[tuple[str, ...]]] = []
    for position, (line, question, answer) in enumerate(training):
        exact.setdefault(_key(question, answer), line)
        grams = _shingles(f"{question} {answer}")
        shingles.append(grams)
        for gram in grams:
            index[gram].add(position)
    leaks = []
    for item, line, question, reference in held_out:
        key = _key(question, reference)
        if key in exact:
            leaks.append(Leak(item, line, exact[key], "exact", 1.0))
            continue
        grams = _shingles(f"{question} {reference}")
        candidates = set().union(*(index.get(gram, set()) for gram in grams)) if grams else set()
        best, best_line = 0.0, 0
        for position in candidates:
            other = shingles[position]
            similarity = len(grams & other) / len(grams | other)
            if similarity > best:
                best, best_line = similarity, training[position][0]
        if best >= NEAR_DUPLICATE:
            leaks.append(Leak(item, line, best_line, "near-duplicate", round(best, 3)))
    return leaks
