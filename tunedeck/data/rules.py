"""What each target provider accepts: formats, minimum examples, per-example token limits, how tokens are counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tunedeck.data.formats import DatasetFormat
from tunedeck.errors import UsageError

Provider = Literal["openai", "vertex", "local"]
PROVIDERS: tuple[Provider, ...] = ("openai", "vertex", "local")
RECOMMENDED_MIN_EXAMPLES = 100
"""The usual advice: 100–200 good examples is the floor for real gains."""


@dataclass(frozen=True)
class ProviderRules:
    provider: Provider
    native_format: DatasetFormat
    accepted_formats: frozenset[DatasetFormat]
    min_examples: int
    default_model: str
    must_end_on_learned_turn: bool
    token_method: Literal["tiktoken", "chars/4"]
    token_note: str
    # Model-name prefix → per-example token limit (longest prefix wins); None means no known limit.
    token_limits: dict[str, int]
    default_token_limit: int | None


RULES: dict[Provider, ProviderRules] = {
    "openai": ProviderRules(
        provider="openai",
        native_format=DatasetFormat.OPENAI_CHAT,
        accepted_formats=frozenset({DatasetFormat.OPENAI_CHAT}),
        min_examples=10,
        default_model="gpt-4o-mini-2024-07-18",
        must_end_on_learned_turn=False,
        token_method="tiktoken",
        token_note=(
            "OpenAI's chat counting method (3 tokens per message, 1 per name, 3 for the reply primer; "
            "tool calls and tool definitions counted as their JSON, an approximation)"
        ),
        # OpenAI's fine-tuning guide, "token limits" (as of 2025-06): longer examples are truncated.
        token_limits={
            "gpt-4o-mini": 65_536,
            "gpt-4o": 65_536,
            "gpt-4.1": 65_536,
            "gpt-3.5-turbo": 16_385,
            "gpt-3.5-turbo-1106": 16_385,
            "gpt-3.5-turbo-0613": 4_096,
        },
        default_token_limit=None,  # an unlisted model: no limit is claimed rather than a guessed one
    ),
    "vertex": ProviderRules(
        provider="vertex",
        native_format=DatasetFormat.VERTEX,
        accepted_formats=frozenset({DatasetFormat.VERTEX}),
        # Vertex documents no hard minimum we could confirm; the 100-example advice still warns.
        min_examples=1,
        default_model="gemini-2.5-flash",
        must_end_on_learned_turn=True,
        token_method="chars/4",
        token_note="estimate: characters ÷ 4 (no offline Gemini tokenizer exists); real Gemini counts differ",
        # Vertex supervised tuning docs (as of 2025-06): max input+output tokens per example.
        token_limits={"gemini-2.5": 131_072, "gemini-2.0": 131_072},
        default_token_limit=131_072,
    ),
    "local": ProviderRules(
        provider="local",
        native_format=DatasetFormat.OPENAI_CHAT,
        accepted_formats=frozenset(DatasetFormat),
        min_examples=1,
        default_model="smollm2-135m-instruct",
        must_end_on_learned_turn=False,
        token_method="tiktoken",
        token_note="approximation: cl100k_base counts stand in for SmolLM2's own tokenizer",
        # SmolLM2 is trained with a 2048-token context; the local trainer truncates past it.
        token_limits={},
        default_token_limit=2_048,
    ),
}


VERTEX_OPEN_MODEL = ProviderRules(
    provider="vertex",
    # Open-model tuning on Vertex reads turn-based chat (`messages` with system/user/assistant turns), not
    # Gemini's `contents`; tunedeck converts a file in Vertex's Gemini format to it before upload, so both pass.
    native_format=DatasetFormat.OPENAI_CHAT,
    accepted_formats=frozenset({DatasetFormat.OPENAI_CHAT, DatasetFormat.VERTEX}),
    min_examples=1,
    default_model="",
    # Supervised tuning learns the assistant's reply: an example must end on one.
    must_end_on_learned_turn=True,
    token_method="chars/4",
    token_note="estimate: characters ÷ 4 (the open model's own tokenizer is not downloaded); real counts differ",
    # Each model's max sequence length lives with the list of open models (providers/vertex/open_models.toml),
    # below this layer: no limit is claimed here rather than a guessed one.
    token_limits={},
    default_token_limit=None,
)


def is_vertex_open_model(model: str | None) -> bool:
    """Model Garden ids (`publisher/family@model`, e.g. `meta/llama3_1@llama-3.1-8b-instruct`) are open models;
    Gemini ids are bare names (the same rule as the Vertex adapter's)."""
    return bool(model) and "/" in str(model) and "@" in str(model) and not str(model).startswith("projects/")


def rules_for(provider: str, model: str | None = None) -> ProviderRules:
    """The provider's rules; on Vertex an open model's (its chat format) when `model` is one."""
    if provider not in RULES:
        raise UsageError(f"Unknown provider {provider!r}.", f"Choose one of: {', '.join(PROVIDERS)}.")
    if provider == "vertex" and is_vertex_open_model(model):
        return VERTEX_OPEN_MODEL
    return RULES[provider]


def token_limit(rules: ProviderRules, model: str) -> int | None:
    base = model.removeprefix("ft:").split(":", 1)[0]
    matches = [prefix for prefix in rules.token_limits if base.startswith(prefix)]
    return rules.token_limits[max(matches, key=len)] if matches else rules.default_token_limit


# The local backend's "auto" (tuned for SmolLM2 + LoRA on a CPU): ~40 optimizer steps is where a consistent
# trait is learned without over-fitting (60 all-linear steps damaged general answers in our runs).
LOCAL_TARGET_STEPS = 40
LOCAL_MAX_AUTO_EPOCHS = 10


def local_auto_batch_size(n_examples: int) -> int:
    """2 under 64 examples, 4 under 1024, else 8: small batches get more steps out of little data."""
    return 2 if n_examples < 64 else 4 if n_examples < 1024 else 8


def local_auto_epochs(n_examples: int, batch_size: int | None = None) -> int:
    """round(LOCAL_TARGET_STEPS / steps per epoch) in 1..LOCAL_MAX_AUTO_EPOCHS."""
    n = max(1, n_examples)
    steps_per_epoch = -(-n // (batch_size or local_auto_batch_size(n)))
    return min(LOCAL_MAX_AUTO_EPOCHS, max(1, round(LOCAL_TARGET_STEPS / steps_per_epoch)))


def auto_epochs(n_examples: int, provider: str) -> int | None:
    """Epochs the provider's "auto" picks. OpenAI: 3, raised so examples × epochs ≥ 100, lowered so it is
    ≤ 25,000, in 1–25. Local: the backend's own rule above. Vertex: not published as a formula (None)."""
    if provider == "vertex" or n_examples <= 0:
        return None
    if provider == "local":
        return local_auto_epochs(n_examples)
    epochs = 3
    if n_examples * epochs < 100:
        epochs = min(25, -(-100 // n_examples))
    elif n_examples * epochs > 25_000:
        epochs = max(1, 25_000 // n_examples)
    return epochs
