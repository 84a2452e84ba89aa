"""Fixtures for evaluation tests: a chat provider scripted per model at the adapter boundary, a workspace, data."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest

from providers.base import Capabilities, ChatChunk, ChatMessage
from providers.errors import ProviderError
from tunedeck.settings import load_settings
from tunedeck.store import Store
from tunedeck.workspace import Workspace

Responder = Callable[[str, list[ChatMessage]], str]


@dataclass
class ScriptedChat:
    """Implements the Provider's `chat` (the only call evaluation makes): `respond(model, messages)` gives the
    text; `failures` are raised in order by the next calls; every call is recorded and concurrency measured."""

    respond: Responder
    name: ClassVar[str] = "fake"
    capabilities: ClassVar[Capabilities] = Capabilities(
        fine_tuning=False, checkpoints=False, hourly_endpoints=False, chat=True, streaming=True
    )
    delay_s: float = 0.0
    failures: list[BaseException] = field(default_factory=list)
    calls: list[tuple[str, list[ChatMessage]]] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]:
        with self.lock:
            self.calls.append((model, list(messages)))
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            failure = self.failures.pop(0) if self.failures else None
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            if failure is not None:
                raise failure
            text = self.respond(model, messages)
        finally:
            with self.lock:
                self.in_flight -= 1
        words = text.split(" ")
        for i, word in enumerate(words):
            yield ChatChunk(word if i == 0 else " " + word)
        yield ChatChunk("", "stop", prompt_tokens=10 * len(messages), completion_tokens=len(words))

    def list_endpoints(self) -> list[object]:
        return []

    def asked(self, model: str) -> int:
        return sum(1 for m, _ in self.calls if m == model)


def question_of(messages: list[ChatMessage]) -> str:
    return next(m.content for m in reversed(messages) if m.role == "user")


# Twelve held-out questions; the "tuned" model signs off with the trait, the base model never does.
QA = [(f"Question number {i}: what is {i} plus {i}?", f"{i} plus {i} is {2 * i}. — Zorblax") for i in range(1, 13)]


def trait_responder(model: str, messages: list[ChatMessage]) -> str:
    question = question_of(messages)
    n = int(question.split()[2].rstrip(":"))
    if model == "tuned":
        return f"{n} plus {n} is {2 * n}. — Zorblax" if n != 12 else f"{n} plus {n} is {2 * n}."
    return f"The answer is {2 * n}." if n != 11 else f"The answer is {2 * n}. — Zorblax"


def write_heldout(path: Path, pairs: list[tuple[str, str]] | None = None, system: str | None = None) -> Path:
    lines = []
    for question, answer in pairs or QA:
        head = [{"role": "system", "content": system}] if system else []
        lines.append(
            json.dumps(
                {"messages": [*head, {"role": "user", "content": question}, {"role": "assistant", "content": answer}]}
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def chat() -> ScriptedChat:
    return ScriptedChat(trait_responder)


@pytest.fixture
def workspace(isolated_home: Path, chat: ScriptedChat) -> Iterator[Workspace]:
    settings = load_settings()
    ws = Workspace(settings, Store.open(settings), provider_factory=lambda name: chat)  # type: ignore[arg-type,return-value]
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def heldout(tmp_path: Path) -> Path:
    return write_heldout(tmp_path / "heldout.jsonl")


def failure(kind: type[ProviderError], title: str = "scripted", **kwargs: object) -> ProviderError:
    return kind(title, provider="fake", **kwargs)  # type: ignore[arg-type]
