"""One reply from any chat model, with what every front end shows beside it: latency, tokens, finish reason."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from providers.base import ChatChunk

OnText = Callable[[str], None]


@dataclass(frozen=True)
class ChatReply:
    provider: str
    model: str
    reply: str
    first_token_s: float | None
    total_s: float
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The shape `chat --json` and `endpoints test --json` print (it may only grow)."""
        return asdict(self)

    def describe(self) -> str:
        ttft = f"{self.first_token_s:.2f}s" if self.first_token_s is not None else "—"
        return f"{self.completion_tokens or '?'} tokens, first token {ttft}, {self.total_s:.2f}s"


def collect_reply(provider: str, model: str, chunks: Iterable[ChatChunk], on_text: OnText | None = None) -> ChatReply:
    """Drain a streamed reply, timing the first token and the whole; `on_text` sees each piece as it arrives."""
    started = time.monotonic()
    first: float | None = None
    parts: list[str] = []
    last: ChatChunk | None = None
    for chunk in chunks:
        if chunk.text:
            first = first if first is not None else time.monotonic() - started
            parts.append(chunk.text)
            if on_text is not None:
                on_text(chunk.text)
        if chunk.finish_reason is not None:
            last = chunk
    return ChatReply(
        provider=provider,
        model=model,
        reply="".join(parts),
        first_token_s=first,
        total_s=time.monotonic() - started,
        finish_reason=last.finish_reason if last else None,
        prompt_tokens=last.prompt_tokens if last else None,
        completion_tokens=last.completion_tokens if last else None,
    )
