"""Compare a profile's answers with another model's (usually a fine-tuned one) on held-out examples.

For each example the last user turn is the question and the last assistant turn the reference. The
profile answers through its assembled prompt (the example's question is kept out of its few-shot
examples); the comparison model gets the example's own messages (system + history + question) exactly
as a model tuned on such data was trained. Both run at temperature 0 and are scored with `metrics`.
`evaluate_profile` is a generator so the CLI, a TUI screen or a test can show rows as they arrive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from providers import errors as perr
from providers.base import ChatMessage, Provider
from tunedeck.events import ProgressAdvanced
from tunedeck.profiles.examples import Example, load_examples
from tunedeck.profiles.metrics import rouge_l_f1, token_f1
from tunedeck.profiles.runtime import ProfileRuntime, cited_sources
from tunedeck.profiles.schema import Profile
from tunedeck.settings import Settings

ProviderFactory = Callable[[str], Provider]
# Failures that would repeat on every example: stop instead of filling a table with the same error.
_FATAL = (perr.AuthenticationError, perr.NotFoundError, perr.NotSupportedError, perr.NotEligibleError)


@dataclass(frozen=True)
class Answer:
    text: str = ""
    rouge_l: float | None = None
    token_f1: float | None = None
    seconds: float = 0.0
    error: str | None = None


@dataclass(frozen=True)
class EvalRow:
    index: int
    """1-based position in this run."""
    line: int
    question: str
    reference: str
    profile: Answer
    against: Answer
    cited: list[str] = field(default_factory=list)
    """Labels of the documents the profile's answer cited."""


@dataclass(frozen=True)
class EvalProgress:
    progress: ProgressAdvanced


@dataclass(frozen=True)
class EvalSummary:
    profile: str
    profile_target: str
    """`provider:model` the profile ran on."""
    against_target: str
    against_label: str
    """`tuned` when --against-model was given, else `bare` (the profile's own model without the profile)."""
    rows: list[EvalRow]
    means: dict[str, float | None]
    """`profile_rouge_l`, `profile_token_f1`, `against_rouge_l`, `against_token_f1` over scored rows."""


EvalEvent = EvalProgress | EvalRow | EvalSummary


def evaluate_profile(
    profile: Profile,
    profile_path: Path,
    dataset: Path,
    *,
    settings: Settings,
    provider: str | None = None,
    model: str | None = None,
    against_provider: str | None = None,
    against_model: str | None = None,
    limit: int | None = None,
    max_tokens: int | None = None,
    provider_factory: ProviderFactory | None = None,
) -> Iterator[EvalEvent]:
    """Yield progress, then one `EvalRow` per example as it completes, then the `EvalSummary`."""
    factory = _caching(provider_factory or _registry_factory(settings))
    provider_name = provider or profile.provider
    model_name = model or profile.model
    other_provider = against_provider or provider_name
    other_model = against_model or model_name
    tokens = max_tokens or profile.max_tokens
    examples = load_examples(dataset)
    if limit is not None:
        examples = examples[: max(limit, 0)]
    rows: list[EvalRow] = []
    total = len(examples)
    with ProfileRuntime.open(profile, profile_path, settings, provider_name) as runtime:
        for number, example in enumerate(examples, start=1):
            yield EvalProgress(ProgressAdvanced("eval", number - 1, total, "examples", one_line(example.question)))
            prompt = runtime.prepare(example.question, example.history, exclude=[example.question])
            mine = _answer(factory(provider_name), model_name, prompt.chat_messages(), tokens, example.answer)
            theirs = _answer(factory(other_provider), other_model, _plain_messages(example), tokens, example.answer)
            cited = [source.label for source in cited_sources(mine.text, prompt.sources)]
            row = EvalRow(number, example.line, example.question, example.answer, mine, theirs, cited)
            rows.append(row)
            yield row
    yield EvalProgress(ProgressAdvanced("eval", total, total, "examples", "done"))
    yield EvalSummary(
        profile=profile.name,
        profile_target=f"{provider_name}:{model_name}",
        against_target=f"{other_provider}:{other_model}",
        against_label="tuned" if against_model else "bare",
        rows=rows,
        means=_means(rows),
    )


def _plain_messages(example: Example) -> list[ChatMessage]:
    head = [ChatMessage("system", example.system)] if example.system else []
    return [*head, *(ChatMessage(r, c) for r, c in example.history), ChatMessage("user", example.question)]


def _answer(provider: Provider, model: str, messages: list[ChatMessage], max_tokens: int, reference: str) -> Answer:
    started = time.monotonic()
    try:
        text = "".join(chunk.text for chunk in provider.chat(model, messages, max_tokens=max_tokens, temperature=0.0))
    except _FATAL:
        raise
    except perr.ProviderError as exc:
        return Answer(seconds=time.monotonic() - started, error=str(exc))
    text = text.strip()
    return Answer(text, rouge_l_f1(text, reference), token_f1(text, reference), time.monotonic() - started)


def _means(rows: list[EvalRow]) -> dict[str, float | None]:
    means: dict[str, float | None] = {}
    for side in ("profile", "against"):
        for metric in ("rouge_l", "token_f1"):
            values = [getattr(getattr(row, side), metric) for row in rows]
            scored = [value for value in values if value is not None]
            means[f"{side}_{metric}"] = sum(scored) / len(scored) if scored else None
    return means


def _registry_factory(settings: Settings) -> ProviderFactory:
    def build(name: str) -> Provider:
        from providers.registry import get_provider  # deferred: adapters import their SDKs lazily anyway

        return get_provider(name, settings)

    return build


def _caching(factory: ProviderFactory) -> ProviderFactory:
    """One adapter per provider name for the whole run (their HTTP clients keep connections open)."""
    cache: dict[str, Provider] = {}

    def get(name: str) -> Provider:
        if name not in cache:
            cache[name] = factory(name)
        return cache[name]

    return get


def one_line(text: str, width: int = 60) -> str:
    """`text` on one line, at most `width` characters (an ellipsis marks the cut)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
