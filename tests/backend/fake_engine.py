"""A stand-in for the chat engine (no tests here): answers without a model, and tokenizes as strictly as the real one.

The HTTP layer's tests and the fuzz suite use it so that no test of request handling waits for torch or a model load.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localbackend.server.generation import Piece

EXPLODE = "__explode__"
"""A last message of exactly this makes the engine fail after its first piece, as a bug mid-stream would."""


def tokenize(text: str) -> list[str]:
    """Whitespace 'tokens'; like the real tokenizer (a Rust extension), a string that is not valid Unicode
    (a lone surrogate) is a TypeError, which is what made such requests answer 500."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise TypeError(
            "TextEncodeInput must be Union[TextInputSequence, Tuple[InputSequence, InputSequence]]"
        ) from None
    return text.split()


class EchoEngine:
    """Replies with the words of the last message, one piece per word, up to max_tokens words."""

    def __init__(self) -> None:
        self.counted: list[int] = []
        """Characters of each prompt count_prompt_tokens was asked about: proof a request reached the tokenizer."""
        self._lock = threading.Lock()

    def count_prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        with self._lock:
            self.counted.append(sum(len(m["content"]) for m in messages))
        return sum(len(tokenize(m["content"])) + 3 for m in messages)

    def generate(
        self, adapter: Path | None, messages: list[dict[str, str]], *, max_tokens: int = 16, **_: Any
    ) -> Iterator[Piece]:
        prompt = sum(len(tokenize(m["content"])) + 3 for m in messages)
        words = tokenize(messages[-1]["content"]) or ["hello"]
        words = words[:max_tokens]
        if messages[-1]["content"] == EXPLODE:
            yield Piece("partial", None, None, prompt, 1)
            raise RuntimeError("the stand-in engine exploded")
        for index, word in enumerate(words, start=1):
            finish = None if index < len(words) else ("length" if index == max_tokens else "stop")
            yield Piece(("" if index == 1 else " ") + word, finish, None, prompt, index)

    def loaded(self) -> list[Any]:
        return []

    def unload(self, adapter: Path | None) -> bool:
        return False

    def unload_idle(self, idle_seconds: float) -> list[str]:
        return []
