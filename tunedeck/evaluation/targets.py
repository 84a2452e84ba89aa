"""What is evaluated: `--model` values (what `tunedeck chat --model` takes, or `profile:NAME`) resolved to targets.

A target has a label (how reports, `--fail-if` and JUnit name it), a provider and a model, and for a profile the
profile whose runtime assembles each prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tunedeck.errors import UsageError

if TYPE_CHECKING:
    from tunedeck.settings import Settings
    from tunedeck.store import Store

PROFILE_PREFIX = "profile:"
_RESERVED = set("|\n")


@dataclass(frozen=True)
class ModelRef:
    """A model as the user named it, before the provider and the profile are looked up."""

    model: str | None = None
    provider: str | None = None
    profile: str | None = None
    label: str | None = None
    max_tokens: int | None = None

    @classmethod
    def parse(cls, text: str, provider: str | None = None) -> ModelRef:
        """`MODEL`, `LABEL=MODEL`, `profile:NAME` or `LABEL=profile:NAME`."""
        text = text.strip()
        label: str | None = None
        head, sep, tail = text.partition("=")
        if sep and head and "/" not in head and ":" not in head:
            label, text = head.strip(), tail.strip()
        if not text:
            raise UsageError("--model needs a model name.", "e.g. --model gpt-4o-mini or --model profile:helpdesk")
        if text.startswith(PROFILE_PREFIX):
            name = text.removeprefix(PROFILE_PREFIX)
            if not name:
                raise UsageError("profile: needs a profile name.", "e.g. --model profile:helpdesk")
            return cls(provider=provider, profile=name, label=label or text)
        return cls(model=text, provider=provider, label=label or text)


@dataclass(frozen=True)
class Target:
    label: str
    provider: str
    model: str
    profile: str | None = None
    profile_path: str | None = None
    max_tokens: int | None = None

    def describe(self) -> str:
        where = f"{self.provider}:{self.model}"
        return f"profile {self.profile} on {where}" if self.profile else where

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "provider": self.provider,
            "model": self.model,
            "profile": self.profile,
            "profile_path": self.profile_path,
            "max_tokens": self.max_tokens,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Target:
        return cls(**{key: data.get(key) for key in cls.__dataclass_fields__})  # type: ignore[arg-type]


def resolve_targets(refs: list[ModelRef], settings: Settings, store: Store) -> list[Target]:
    """Look up providers and profiles; labels made unique; two models at least."""
    if len(refs) < 2:
        raise UsageError(
            f"An evaluation compares two models or more; got {len(refs)}.",
            "Give --model twice (e.g. the base model and the tuned one), or list models in an eval file.",
        )
    targets = [_resolve(ref, settings, store) for ref in refs]
    labels = [t.label for t in targets]
    duplicated = {label for label in labels if labels.count(label) > 1}
    if duplicated:
        raise UsageError(
            f"Two models have the same label: {', '.join(sorted(duplicated))}.",
            "Name them: --model base=MODEL --model tuned=MODEL (or `name:` in the eval file).",
        )
    for label in labels:
        if _RESERVED & set(label) or not label.strip():
            raise UsageError(f"The label {label!r} cannot be used.", "Labels may not be empty or contain '|'.")
    return targets


def _resolve(ref: ModelRef, settings: Settings, store: Store) -> Target:
    if ref.profile is not None:
        from tunedeck.profiles.loader import load_profile

        profile, path = load_profile(ref.profile, settings)
        provider = ref.provider or profile.provider
        model = ref.model or profile.model
        label = ref.label or f"{PROFILE_PREFIX}{ref.profile}"
        max_tokens = ref.max_tokens or profile.max_tokens
        return Target(label, provider, model, profile.name, str(path), max_tokens)
    assert ref.model is not None
    guessed = ref.provider or infer_provider(store, ref.model)
    if guessed is None:
        raise UsageError(
            f"Cannot tell which provider serves {ref.model!r}.",
            "Add --provider (openai, vertex, anthropic, local), or name each model's provider in an eval file.",
        )
    return Target(ref.label or ref.model, guessed, ref.model, max_tokens=ref.max_tokens)


def infer_provider(store: Store, model: str) -> str | None:
    """The provider of a model tunedeck made (or a checkpoint of one, or one it serves), else the one its name
    implies; None when it cannot tell."""
    for record in store.list_models():
        if record.name == model:
            return record.provider
    for job in store.list_jobs():
        if job.fine_tuned_model and (model == job.fine_tuned_model or model.startswith(job.fine_tuned_model + ":")):
            return job.provider
    for endpoint in store.list_endpoints():
        if model in (endpoint.model, endpoint.id, endpoint.display_name):
            return endpoint.provider
    from providers.capabilities import provider_implied_by

    return provider_implied_by(model)
