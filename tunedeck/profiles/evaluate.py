"""How a profile answers a held-out item in an evaluation (`tunedeck eval run --model profile:NAME`).

The profile's runtime assembles the prompt (instructions, facts, few-shot examples, retrieved documents) around
the item's question and history; the item's own question is kept out of the few-shot examples so the profile
is never shown the answer it is scored against. `tunedeck profile eval` is `eval run` with such a model.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from providers.base import ChatMessage
from tunedeck.profiles.loader import parse_profile_file
from tunedeck.profiles.runtime import ProfileRuntime
from tunedeck.settings import Settings


class ProfilePrompter:
    """One profile's runtime opened once for a whole evaluation (its docs index refreshed once)."""

    def __init__(self, profile_path: Path, settings: Settings, provider: str) -> None:
        profile = parse_profile_file(profile_path)
        self.name = profile.name
        self.runtime = ProfileRuntime.open(profile, profile_path, settings, provider)

    def messages(self, question: str, history: tuple[tuple[str, str], ...] = ()) -> list[ChatMessage]:
        return self.runtime.prepare(question, history, exclude=[question]).chat_messages()

    def close(self) -> None:
        self.runtime.close()

    def __enter__(self) -> ProfilePrompter:
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()


def one_line(text: str, width: int = 60) -> str:
    """`text` on one line, at most `width` characters (an ellipsis marks the cut)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
