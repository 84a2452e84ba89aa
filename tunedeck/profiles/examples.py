"""Chat examples read from a dataset: a conversation's turns, its last question and its last answer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunedeck.errors import UsageError


@dataclass(frozen=True)
class Example:
    system: str
    """The dataset's own system message(s) ("" when none): what a model tuned on it was trained with."""
    history: tuple[tuple[str, str], ...]
    """(role, content) turns before the last user turn."""
    question: str
    answer: str
    line: int
    """1-based position among the dataset's conversations, for reports."""

    @property
    def turns(self) -> tuple[tuple[str, str], ...]:
        return (*self.history, ("user", self.question), ("assistant", self.answer))


def load_examples(path: Path) -> list[Example]:
    """Conversations that end in user → assistant; others (no answer to compare with) are skipped.

    Any format the dataset toolkit reads works (OpenAI chat JSONL, Vertex, CSV); its errors pass through.
    """
    examples = []
    for number, messages in enumerate(_load_conversations(path), start=1):
        example = _to_example(messages, number)
        if example is not None:
            examples.append(example)
    if not examples:
        raise UsageError(
            f"{path} has no conversations ending in a user turn then an assistant turn.",
            'Each line should be {"messages": [{"role": "user", ...}, {"role": "assistant", ...}]}.',
        )
    return examples


def _to_example(messages: list[dict[str, Any]], number: int) -> Example | None:
    turns = [(str(m.get("role", "")), _content(m.get("content"))) for m in messages if isinstance(m, dict)]
    system = "\n\n".join(content for role, content in turns if role == "system")
    turns = [(role, content) for role, content in turns if role in {"user", "assistant"}]
    if len(turns) < 2 or turns[-1][0] != "assistant" or turns[-2][0] != "user":
        return None
    return Example(system, tuple(turns[:-2]), turns[-2][1], turns[-1][1], number)


def _content(value: Any) -> str:
    """Plain text of a message; OpenAI content-part lists keep only their text parts."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part.get("text", "") for part in value if isinstance(part, dict))
    return "" if value is None else str(value)


def _load_conversations(path: Path) -> list[list[dict[str, Any]]]:
    from tunedeck.data.reader import load_conversations  # deferred: the dataset toolkit's parsers

    return load_conversations(path)
