"""Golden answers: what the fine-tuned model says to each held-out prompt while it still serves, kept as a chat
dataset (the prompt's turns, then the model's answer as the assistant turn) that `eval run` reads as references.

Greedy (temperature 0), so a retrained model can be compared with the answers the original would give. Items that
fail are counted and left out, never written with an empty answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from tunedeck.events import ProgressAdvanced
from tunedeck.util.atomic import atomic_writer

if TYPE_CHECKING:
    from providers.base import ChatMessage
    from tunedeck.chat import ChatReply
    from tunedeck.evaluation.items import Item

GOLDEN_FILE = "golden.jsonl"
TASK = "migrate: golden answers"
Ask = Callable[[list["ChatMessage"]], "ChatReply"]


@dataclass
class GoldenResult:
    asked: int = 0
    answered: int = 0
    failures: list[str] = field(default_factory=list)
    """"item N: why", for the first few items that got no answer."""
    failed: int = 0


def golden_line(item: Item, answer: str) -> bytes:
    turns = [{"role": m.role, "content": m.content} for m in item.messages]
    return orjson.dumps({"messages": [*turns, {"role": "assistant", "content": answer}]}) + b"\n"


def record_golden(
    items: list[Item], ask: Ask, target: Path, publish: Callable[[object], None], keep_failures: int = 5
) -> GoldenResult:
    """Ask for each item in turn and write the answered ones to `target` (atomically, at the end)."""
    from tunedeck.errors import TunedeckError
    from tunedeck.exitcodes import ExitCode

    result = GoldenResult(asked=len(items))
    lines: list[bytes] = []
    publish(ProgressAdvanced(TASK, 0, len(items), "answers"))
    for done, item in enumerate(items, start=1):
        try:
            reply = ask(item.messages)
        except TunedeckError as exc:
            if exc.exit_code == ExitCode.UNAVAILABLE:  # unreachable: every later item would fail the same way
                raise
            result.failed += 1
            if len(result.failures) < keep_failures:
                result.failures.append(f"item {item.index + 1} (line {item.line}): {exc.title}")
        else:
            if reply.reply.strip():
                lines.append(golden_line(item, reply.reply))
                result.answered += 1
            else:
                result.failed += 1
                if len(result.failures) < keep_failures:
                    result.failures.append(f"item {item.index + 1} (line {item.line}): an empty answer")
        publish(ProgressAdvanced(TASK, done, len(items), "answers"))
    if lines:
        with atomic_writer(target, "wb", encoding=None) as out:
            out.writelines(lines)
    return result
