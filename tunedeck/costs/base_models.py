"""Which base models each provider fine-tunes (a dated, sourced list, extendable from config.toml), and the one
place a `--model` name is checked: any letter case, before anything is validated, priced or sent."""

from __future__ import annotations

import difflib
import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from tunedeck.errors import UsageError

if TYPE_CHECKING:
    from tunedeck.settings import Settings

FT_PREFIX = "ft:"


@dataclass(frozen=True)
class BaseModels:
    """One provider's tunable base models, with where the list comes from."""

    provider: str
    models: tuple[str, ...]
    as_of: str
    source: str
    closed: bool = False
    """Nothing else can exist (the local backend tunes one model): no hint to add a newer one."""
    continues_fine_tuned: bool = False
    """`ft:BASE:…` (a model tuned before) may be tuned further when BASE is listed."""
    passes_through: tuple[str, ...] = ()
    """Names containing one of these are checked by the adapter (Vertex's open models), not here."""
    from_config: tuple[str, ...] = ()
    """Added by the user under [base_models] in config.toml."""

    @property
    def names(self) -> tuple[str, ...]:
        return self.models + tuple(m for m in self.from_config if m not in self.models)


@functools.cache
def _shipped() -> dict[str, Any]:
    return tomllib.loads(resources.files("tunedeck.costs").joinpath("base_models.toml").read_text(encoding="utf-8"))


def catalog(settings: Settings | None = None) -> dict[str, BaseModels]:
    """Provider → its tunable base models: the shipped list plus `[base_models] PROVIDER = [...]` from config."""
    extra = settings.section("base_models") if settings is not None else {}
    found: dict[str, BaseModels] = {}
    for provider, entry in _shipped().items():
        added = extra.get(provider, [])
        found[provider] = BaseModels(
            provider=provider,
            models=tuple(entry["models"]),
            as_of=str(entry.get("as_of", "unknown")),
            source=str(entry.get("source", "unknown")),
            closed=bool(entry.get("closed", False)),
            continues_fine_tuned=bool(entry.get("continues_fine_tuned", False)),
            passes_through=tuple(entry.get("passes_through", ())),
            from_config=tuple(str(m) for m in added) if isinstance(added, list) else (),
        )
    return found


def canonical_name(provider: str, model: str, settings: Settings | None = None) -> str | None:
    """The provider's own spelling of `model` when it is listed (any letter case, or an undated alias of one
    listed snapshot), or a name passed through as given (open models, a fine-tuned model to tune further);
    None when the list does not know it."""
    known = catalog(settings).get(provider)
    name = model.strip()
    if known is None or any(mark in name for mark in known.passes_through):
        return name
    by_lower = {m.lower(): m for m in known.names}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    snapshots = [m for low, m in by_lower.items() if _is_snapshot_of(low, name.lower())]
    if len(snapshots) == 1:  # "gpt-4o-mini" → "gpt-4o-mini-2024-07-18", the snapshot the list names
        return snapshots[0]
    if known.continues_fine_tuned and name.lower().startswith(FT_PREFIX):
        base = name[len(FT_PREFIX) :].split(":", 1)[0]
        if base.lower() in by_lower:
            return name  # a fine-tuned model's id is case-sensitive: sent as given
    return None


def resolve_base_model(provider: str, model: str, settings: Settings | None = None) -> str:
    """The provider's own spelling of `model` (matched in any letter case), or a usage error listing the choices."""
    found = canonical_name(provider, model, settings)
    if found is not None:
        return found
    known = catalog(settings)[provider]
    name = model.strip()
    by_lower = {m.lower(): m for m in known.names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    did_you_mean = f" Did you mean {by_lower[close[0]]}?" if close else ""
    choices = ", ".join(known.names)
    if known.closed:
        raise UsageError(f"{provider} cannot fine-tune {model!r}: it tunes {choices}.{did_you_mean}")
    raise UsageError(
        f"{provider} does not list {model!r} as a model it fine-tunes.{did_you_mean}",
        f"Choose one of: {choices} (as listed on {known.as_of} by {known.source}). If {provider} offers it since, add "
        f'it in config.toml: [base_models] {provider} = ["{model}"]. `tunedeck jobs models` lists them all.',
    )


def _is_snapshot_of(listed: str, alias: str) -> bool:
    """`gpt-4o-2024-08-06` is a snapshot of `gpt-4o` (a dated or numbered suffix); `gpt-4o-mini-…` is not."""
    rest = listed.removeprefix(alias + "-")
    return rest != listed and bool(rest) and all(part.isdigit() for part in rest.split("-"))


def help_text() -> str:
    """The choices, for `jobs submit --help` (the shipped list; `jobs models` adds your config's)."""
    return "; ".join(f"{p}: {', '.join(b.models)}" for p, b in catalog().items())
