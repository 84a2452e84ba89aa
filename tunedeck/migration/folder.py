"""The export folder: refused when it already holds something (unless asked), every file written atomically, and a
manifest that lists what was saved and what could not be, and why.

The manifest (`manifest.json`) is what `migrate retrain` and `migrate compare` read back; paths in it are relative
to the folder, so the folder can be moved or shared whole. Every JSON document written here passes through
`redact_secrets` with the credentials actually in use: no key ever reaches the folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, Field

from providers.errors import redact_secrets
from tunedeck.errors import UnreadableInputError, UsageError
from tunedeck.util.atomic import atomic_writer

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


class SavedFile(BaseModel):
    kind: str
    """"job", "training", "validation", "results", "hyperparameters", "golden", "heldout"."""
    path: str
    bytes: int
    sha256: str
    source: str = ""
    """Where it came from: a provider file id, or a local path."""


class MissingFile(BaseModel):
    kind: str
    source: str = ""
    reason: str


class Manifest(BaseModel):
    version: int = MANIFEST_VERSION
    provider: str
    job_id: str
    fine_tuned_model: str | None = None
    base_model: str = ""
    exported_at: str
    saved: list[SavedFile] = Field(default_factory=list)
    missing: list[MissingFile] = Field(default_factory=list)
    golden: dict[str, Any] = Field(default_factory=dict)
    """How the golden answers were recorded: model, held-out source, items asked, answered, failed."""
    retrain: dict[str, Any] = Field(default_factory=dict)
    """The last `migrate retrain`: target, tunedeck job id, mapping notes."""

    def file(self, kind: str) -> SavedFile | None:
        return next((f for f in self.saved if f.kind == kind), None)

    def note_missing(self, kind: str, source: str, reason: str) -> None:
        self.missing = [m for m in self.missing if m.kind != kind] + [
            MissingFile(kind=kind, source=source, reason=reason)
        ]


def prepare(folder: Path, *, overwrite: bool) -> Path:
    """Make `folder` ready to write into: a new or empty directory, or an existing one when `overwrite`."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder.", "Choose another --out.")
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise UsageError(
            f"{folder} already exists and is not empty; nothing was written.",
            "Choose another --out, or pass --overwrite to replace the files of an earlier export there.",
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"Cannot create {folder}: {exc.strerror or exc}.", "Choose an --out you can write to."
        ) from exc
    return folder


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def record(manifest: Manifest, folder: Path, kind: str, path: Path, source: str = "") -> SavedFile:
    """Add (or replace) the entry of a file now in `folder`; a file saved after all is no longer missing."""
    saved = SavedFile(
        kind=kind, path=path.relative_to(folder).as_posix(), bytes=path.stat().st_size, sha256=sha256_of(path),
        source=source,
    )  # fmt: skip
    manifest.saved = [f for f in manifest.saved if f.kind != kind] + [saved]
    manifest.missing = [m for m in manifest.missing if m.kind != kind]
    return saved


def write_json(path: Path, data: Any, secrets: Iterable[str] = ()) -> None:
    """One JSON document, atomically, with any known credential removed from its text."""
    text = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    with atomic_writer(path) as out:
        out.write(redact_secrets(text, list(secrets)) + "\n")


def write_manifest(folder: Path, manifest: Manifest, secrets: Iterable[str] = ()) -> None:
    write_json(folder / MANIFEST, manifest.model_dump(mode="json"), secrets)


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    if not path.is_file():
        raise UnreadableInputError(
            f"{folder} holds no {MANIFEST}: it is not a `tunedeck migrate export` folder.",
            "Export first: `tunedeck migrate export JOB --out FOLDER`.",
        )
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except ValueError as exc:
        raise UnreadableInputError(
            f"{path} is not a manifest tunedeck can read: {str(exc).splitlines()[0]}",
            "Export again into a new folder.",
        ) from exc


def path_of(folder: Path, manifest: Manifest, kind: str) -> Path | None:
    saved = manifest.file(kind)
    return folder / saved.path if saved is not None else None
