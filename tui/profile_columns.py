"""Profiles as Playground columns: `profile:NAME` answers through the profile (its system prompt, few-shot,
memory and retrieval) on the profile's own model, so base, tuned and a profile can be compared side by side.

Each profile's session (its few-shot and retrieval index loaded once) is opened on first use in the worker
that asks, reused for later prompts with its history cleared (every Playground round is a fresh question),
and closed when the Playground goes away. A lock per profile keeps two columns on the same profile apart.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunedeck.chat import ChatReply, OnText
    from tunedeck.profiles.session import ProfileSession

PROFILE = "profile"
"""The pseudo-provider a `profile:NAME` column is parsed to (its real provider is the profile's)."""


class ProfileColumns:
    def __init__(self, workspace: Any) -> None:
        self.ws = workspace
        self._sessions: dict[str, ProfileSession] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def ask(self, name: str, prompt: str, *, max_tokens: int, temperature: float, on_text: OnText) -> ChatReply:
        """One fresh question to the profile; the reply names the profile as its model."""
        import dataclasses

        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            session = self._sessions.get(name)
            if session is None:
                session = self.ws.profiles.session(name)
                self._sessions[name] = session
            session.reset()
            session.max_tokens, session.temperature = max_tokens, temperature
            answer = session.ask(prompt, on_text=on_text)
        assert answer.chat is not None
        return dataclasses.replace(answer.chat, model=f"{PROFILE}:{name}")

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()
