"""ChatML formatting for SmolLM2, shared by training and serving, with assistant-only loss masks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
# The model's own chat template inserts this when a conversation has no system message; we do the same so a
# served model sees exactly what it was trained on, and the base model behaves as its template intends.
DEFAULT_SYSTEM_PROMPT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
IGNORE_INDEX = -100  # the label PyTorch's cross-entropy skips


@dataclass(frozen=True)
class EncodedExample:
    """One conversation as token ids, with `labels` = the id where the loss applies and IGNORE_INDEX elsewhere."""

    input_ids: list[int]
    labels: list[int]
    truncated: bool

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE_INDEX)


def content_text(content: Any) -> str:
    """A message's content as text: a string, or OpenAI-style content parts whose text parts are joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "".join(
            str(part.get("text", "")) for part in content if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return str(content)


def _with_system(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    if messages and messages[0].get("role") == "system":
        return list(messages)
    return [{"role": "system", "content": DEFAULT_SYSTEM_PROMPT}, *messages]


def render(messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool = False) -> str:
    """The conversation as ChatML text, identical to the model's own chat template."""
    text = "".join(
        f"{IM_START}{m.get('role', 'user')}\n{content_text(m.get('content'))}{IM_END}\n" for m in _with_system(messages)
    )
    return text + (f"{IM_START}assistant\n" if add_generation_prompt else "")


def _segments(messages: Sequence[Mapping[str, Any]]) -> list[tuple[str, bool]]:
    """(text, trained) pieces: an assistant's content and its closing <|im_end|> are trained unless `weight` is 0."""
    pieces: list[tuple[str, bool]] = []
    for message in _with_system(messages):
        role = str(message.get("role", "user"))
        trained = role == "assistant" and message.get("weight", 1) != 0
        pieces.append((f"{IM_START}{role}\n", False))
        text = content_text(message.get("content"))
        if text:
            pieces.append((text, trained))
        # Training on <|im_end|> is what teaches the model to stop where the reply ends.
        pieces.append((IM_END, trained))
        pieces.append(("\n", False))
    return pieces


def _encode_pieces(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    # Pieces are encoded separately so each token's label is unambiguous; every boundary sits at a special
    # token or a newline, where the byte-level BPE splits anyway, so the ids match encoding the whole text.
    return list(tokenizer(texts, add_special_tokens=False)["input_ids"])


def encode_example(tokenizer: Any, messages: Sequence[Mapping[str, Any]], max_seq_len: int) -> EncodedExample:
    """Token ids and assistant-only labels for one training conversation, cut to `max_seq_len` tokens."""
    pieces = _segments(messages)
    input_ids: list[int] = []
    labels: list[int] = []
    for (_, trained), ids in zip(pieces, _encode_pieces(tokenizer, [text for text, _ in pieces]), strict=True):
        input_ids.extend(ids)
        labels.extend(ids if trained else [IGNORE_INDEX] * len(ids))
    truncated = len(input_ids) > max_seq_len
    return EncodedExample(input_ids[:max_seq_len], labels[:max_seq_len], truncated)


def encode_prompt(tokenizer: Any, messages: Sequence[Mapping[str, Any]]) -> list[int]:
    """Token ids of a conversation followed by the assistant header, ready for generation."""
    pieces = [text for text, _ in _segments(messages)] + [f"{IM_START}assistant\n"]
    return [token for ids in _encode_pieces(tokenizer, pieces) for token in ids]
