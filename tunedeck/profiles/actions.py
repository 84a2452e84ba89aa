"""Profiles as workspace actions: list, show, remember, forget, and open a chat session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tunedeck.profiles.loader import ProfileRef
    from tunedeck.profiles.schema import Profile
    from tunedeck.profiles.session import ProfileSession
    from tunedeck.workspace import Workspace


@dataclass(frozen=True)
class ProfileView:
    profile: Profile
    path: Path
    memory_file: Path
    stored_facts: list[str]


class ProfileActions:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def search_dirs(self) -> list[Path]:
        """Where profiles are looked for, first match wins (./profiles, ./examples/profiles, the user's)."""
        from tunedeck.profiles.loader import search_dirs

        return [path for _origin, path in search_dirs(self.ws.settings)]

    def all(self) -> list[ProfileRef]:
        from tunedeck.profiles.loader import list_profiles

        return list_profiles(self.ws.settings)

    def load(self, name: str) -> tuple[Profile, Path]:
        from tunedeck.profiles.loader import load_profile

        return load_profile(name, self.ws.settings)

    def show(self, name: str) -> ProfileView:
        from tunedeck.profiles.memory import memory_file, read_facts

        profile, path = self.load(name)
        facts_path = memory_file(profile, self.ws.settings)
        return ProfileView(profile, path, facts_path, read_facts(facts_path))

    def remember(self, name: str, fact: str) -> tuple[Path, list[str]]:
        """Store a fact the profile injects into every prompt; returns the memory file and its facts."""
        from tunedeck.profiles.memory import memory_file, remember

        profile, _path = self.load(name)
        target = memory_file(profile, self.ws.settings)
        return target, remember(target, fact)

    def forget(self, name: str, which: str) -> str:
        """Remove a stored fact by number or text; returns the fact removed."""
        from tunedeck.profiles.memory import forget, memory_file

        profile, _path = self.load(name)
        removed, _left = forget(memory_file(profile, self.ws.settings), which)
        return removed

    def session(
        self,
        name: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ProfileSession:
        """A conversation with the profile (its few-shot and retrieval index loaded once); close it after."""
        from tunedeck.profiles.runtime import ProfileRuntime
        from tunedeck.profiles.session import ProfileSession

        profile, path = self.load(name)
        target = provider or profile.provider
        self.ws.require_known_provider(target)
        runtime = ProfileRuntime.open(profile, path, self.ws.settings, target)
        return ProfileSession(
            self.ws,
            runtime,
            target,
            model or profile.model,
            max_tokens or profile.max_tokens,
            profile.temperature if temperature is None else temperature,
        )
