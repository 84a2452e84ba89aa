"""A stand-in for the chat engine (no tests here): answers without a model, and tokenizes as strictly as the real one.

The HTTP layer's tests and the fuzz suite use it so that no test of request handling waits for torch or a model load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from localbackend.engine import LoadedModel
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
    """Replies with the words of the last message, one piece per word (every `delay_s`), up to max_tokens words.

    Its "base model" counts as loaded from the first reply until unloaded, as the real engine's does."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.counted: list[int] = []
        """Characters of each prompt count_prompt_tokens was asked about: proof a request reached the tokenizer."""
        self.delay_s = delay_s
        self._lock = threading.Lock()
        self._model: LoadedModel | None = None

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
        with self._lock:
            now = time.time()
            self._model = self._model or LoadedModel("base", None, 1, now, now)
            self._model.last_used_at = now
        for index, word in enumerate(words, start=1):
            time.sleep(self.delay_s)
            finish = None if index < len(words) else ("length" if index == max_tokens else "stop")
            yield Piece(("" if index == 1 else " ") + word, finish, None, prompt, index)

    def loaded(self) -> list[LoadedModel]:
        with self._lock:
            return [self._model] if self._model else []

    def unload(self, adapter: Path | None) -> bool:
        if adapter is not None:
            return False
        with self._lock:
            was_loaded, self._model = self._model is not None, None
        return was_loaded

    def unload_idle(self, idle_seconds: float) -> list[str]:
        with self._lock:
            if self._model is None or time.time() - self._model.last_used_at < idle_seconds:
                return []
            self._model = None
        return ["base"]
