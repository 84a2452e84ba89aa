"""The profile file's schema: a pydantic model that rejects unknown keys and resolves relative paths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


def _resolve(value: Path | None, info: ValidationInfo) -> Path | None:
    """Relative paths in a profile mean "next to the profile file", so a profile works from any cwd."""
    if value is None:
        return None
    value = value.expanduser()
    base = (info.context or {}).get("base_dir")
    if not value.is_absolute() and base is not None:
        value = Path(base) / value
    # normpath, not resolve(): tidy `docs/../x` for messages without following symlinks.
    return Path(os.path.normpath(value))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FewShot(_Section):
    dataset: Path
    """A chat dataset (JSONL of `{"messages": [...]}`) to draw examples from."""
    count: int = Field(default=3, ge=0, le=50)
    selection: Literal["first", "similar"] = "similar"
    """`first`: the first `count` examples; `similar`: the `count` most similar to the question (BM25)."""

    resolve_dataset = field_validator("dataset")(_resolve)


class Memory(_Section):
    file: Path | None = None
    """Where `profile remember` stores facts; default: the user data dir's `profiles/memory/NAME.txt`."""
    facts: list[str] = Field(default_factory=list)
    """Facts kept in the profile itself (under version control); `forget` cannot remove these."""

    resolve_file = field_validator("file")(_resolve)


class Chunking(_Section):
    max_chars: int = Field(default=1200, ge=200, le=20000)
    """Sections longer than this are split at paragraph boundaries."""
    split_headings: bool = True
    """Start a new chunk at every Markdown heading (the heading becomes the citation anchor)."""


class Retrieval(_Section):
    docs: Path
    glob: str = "**/*.md"
    top_k: int = Field(default=3, ge=1, le=20)
    chunking: Chunking = Field(default_factory=Chunking)

    resolve_docs = field_validator("docs")(_resolve)


class Profile(_Section):
    """A profile file (TOML or YAML). Only `name`, `provider` and `model` are required."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = ""
    provider: str = Field(min_length=1)
    model: str = Field(min_length=1)
    system: str = ""
    layout: Literal["auto", "xml", "markdown"] = "auto"
    """`auto`: XML-tagged for Claude (provider `anthropic`), Markdown with real example turns otherwise."""
    max_tokens: int = Field(default=512, ge=1, le=32000)
    temperature: float = Field(default=0.2, ge=0.0, le=2.0)
    few_shot: FewShot | None = None
    memory: Memory = Field(default_factory=Memory)
    retrieval: Retrieval | None = None

    def resolved_layout(self, provider: str | None = None) -> Literal["xml", "markdown"]:
        if self.layout != "auto":
            return self.layout
        return "xml" if (provider or self.provider) == "anthropic" else "markdown"
