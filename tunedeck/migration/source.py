"""Which provider and job an export reads: a tunedeck job from the store, or a provider job id (`ftjob-…`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tunedeck.errors import UsageError

if TYPE_CHECKING:
    from providers.openai_export import OpenAIExport
    from tunedeck.workspace import Workspace


@dataclass(frozen=True)
class SourceJob:
    provider: str
    job_id: str
    """The provider's job id."""


def resolve_source(ws: Workspace, ref: str, provider: str) -> SourceJob:
    """A job tunedeck submitted (any id the store knows) keeps its own provider; anything else is taken as
    `provider`'s job id, for jobs made outside tunedeck."""
    known = ws.store.find_job(ref)
    if known is not None and known.provider_job_id:
        return SourceJob(known.provider, known.provider_job_id)
    return SourceJob(provider, ref)


def exporter(ws: Workspace, provider: str) -> OpenAIExport:
    """The file and model reader for `provider`: any adapter that speaks OpenAI's API (OpenAI, the local backend,
    an OpenAI-compatible server configured as `[openai] base_url`)."""
    from providers.openai_adapter import OpenAIProvider
    from providers.openai_export import OpenAIExport

    adapter = ws.provider(provider)
    if not isinstance(adapter, OpenAIProvider):
        raise UsageError(
            f"`migrate` exports from OpenAI's API; {provider} does not serve its files that way.",
            "Use --provider openai (or local).",
        )
    return OpenAIExport(adapter)
