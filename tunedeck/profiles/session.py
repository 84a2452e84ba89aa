"""A conversation with a profile: its runtime, the model it answers with and the turns so far."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tunedeck.profiles.prompt import AssembledPrompt, Source
from tunedeck.profiles.runtime import ProfileRuntime, cited_sources

if TYPE_CHECKING:
    from tunedeck.chat import ChatReply, OnText
    from tunedeck.workspace import Workspace


@dataclass(frozen=True)
class ProfileAnswer:
    answer: str
    model: str
    prompt: AssembledPrompt
    cited: list[Source]
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    chat: ChatReply | None = None
    """The reply as any chat gives it (latency, tokens), for front ends that show it beside other models."""

    def as_dict(self) -> dict[str, Any]:
        """The shape `profile chat --json` prints (it may only grow)."""
        return {
            "answer": self.answer,
            "model": self.model,
            "layout": self.prompt.layout,
            "sources": [dataclasses.asdict(s) | {"label": s.label} for s in self.prompt.sources],
            "cited": [s.label for s in self.cited],
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


@dataclass
class ProfileSession:
    workspace: Workspace
    runtime: ProfileRuntime
    provider: str
    model: str
    max_tokens: int
    temperature: float
    history: list[tuple[str, str]] = field(default_factory=list)

    def prepare(self, question: str) -> AssembledPrompt:
        """The prompt the profile would send for `question` (nothing is sent)."""
        return self.runtime.prepare(question, self.history)

    def ask(self, question: str, on_text: OnText | None = None) -> ProfileAnswer:
        prompt = self.prepare(question)
        reply = self.workspace.reply(
            self.provider,
            self.model,
            prompt.chat_messages(),
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            on_text=on_text,
        )
        self.history += [("user", question), ("assistant", reply.reply)]
        return ProfileAnswer(
            reply.reply,
            self.model,
            prompt,
            cited_sources(reply.reply, prompt.sources),
            reply.finish_reason,
            reply.prompt_tokens,
            reply.completion_tokens,
            reply,
        )

    def reset(self) -> None:
        self.history.clear()

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> ProfileSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
