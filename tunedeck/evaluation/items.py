"""Held-out items from any dataset file tunedeck reads: the last assistant turn is the reference, the turns
before it the prompt.

Each item's prompt hash identifies it across runs and files; a cache key identifies one request to one model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from providers.base import ChatMessage
from tunedeck.errors import UsageError
from tunedeck.profiles.examples import Example, load_examples
from tunedeck.store.evals import EvalItemRecord


@dataclass(frozen=True)
class Item:
    index: int
    line: int
    system: str
    history: tuple[tuple[str, str], ...]
    question: str
    reference: str

    @property
    def messages(self) -> list[ChatMessage]:
        """The prompt as a model tuned on such data was trained: system, history, then the question."""
        head = [ChatMessage("system", self.system)] if self.system else []
        return [*head, *(ChatMessage(r, c) for r, c in self.history), ChatMessage("user", self.question)]

    @property
    def prompt_hash(self) -> str:
        return digest([[m.role, m.content] for m in self.messages])

    def record(self) -> EvalItemRecord:
        messages = [{"role": m.role, "content": m.content} for m in self.messages]
        return EvalItemRecord(self.index, self.line, self.prompt_hash, messages, self.reference)

    @classmethod
    def from_record(cls, record: EvalItemRecord) -> Item:
        turns = [(m["role"], m["content"]) for m in record.messages]
        system = "\n\n".join(c for r, c in turns if r == "system")
        rest = [(r, c) for r, c in turns if r != "system"]
        question = rest[-1][1] if rest else ""
        return cls(record.item, record.line, system, tuple(rest[:-1]), question, record.reference)


def load_items(path: Path, limit: int | None = None) -> list[Item]:
    """Every conversation that ends user → assistant (others have no reference and are skipped)."""
    try:
        examples = load_examples(path)
    except UsageError as exc:
        raise UsageError(exc.title, exc.hint or "The held-out file needs user → assistant conversations.") from exc
    if limit is not None:
        examples = examples[: max(limit, 0)]
    return [_item(index, example) for index, example in enumerate(examples)]


def _item(index: int, example: Example) -> Item:
    return Item(index, example.line, example.system, example.history, example.question, example.answer)


def digest(value: Any) -> str:
    """A stable hex digest of JSON-able data (key order fixed), 32 hex characters."""
    return hashlib.blake2b(orjson.dumps(value, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()


def cache_key(
    provider: str, model: str, messages: list[ChatMessage], max_tokens: int, temperature: float, repeat: int
) -> str:
    """What makes an answer reusable: the same model asked the same messages with the same parameters.

    The repeat number is part of it, so `--repeat 3` asks three times even at temperature 0 and a later run's
    third repeat reuses this run's third.
    """
    payload = [provider, model, [[m.role, m.content] for m in messages], max_tokens, round(temperature, 6), repeat]
    return digest(payload)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
