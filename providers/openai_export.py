"""What carrying a fine-tune off OpenAI needs beyond the adapter: file contents, file records, one model's record.

Kept apart from `openai_adapter.py` (the Protocol's operations) because only `tunedeck migrate` uses it. It goes
through the adapter's own client and error boundary, so the same key rules (a custom base URL never gets the real
key) and the same error translation apply.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from providers.base import ModelInfo
from providers.openai_adapter import OpenAIProvider, unix_time

CHUNK_BYTES = 1 << 16


def shutdown_iso(value: object) -> str | None:
    """A model's `shutdown_date` as an ISO date, whether the API sent a date string or a Unix time."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return unix_time(value).date().isoformat() if value else None  # type: ignore[union-attr]
    return str(value)


@dataclass(frozen=True)
class RemoteFile:
    id: str
    filename: str
    bytes: int | None
    purpose: str


class OpenAIExport:
    """Read-only calls on one adapter (an OpenAIProvider, or one pointed at an OpenAI-compatible server)."""

    def __init__(self, adapter: OpenAIProvider) -> None:
        self.adapter = adapter

    def secrets(self) -> list[str]:
        """The credential this adapter sends, so what is saved from its answers can be checked for it."""
        key = self.adapter.config.api_key
        return [key.get_secret_value()] if key is not None else []

    def file_info(self, file_id: str) -> RemoteFile:
        found = self.adapter._call(lambda: self.adapter._client().files.retrieve(file_id))
        return RemoteFile(found.id, found.filename, found.bytes, str(found.purpose))

    def download(self, file_id: str, target: Path, progress: Callable[[int], None] | None = None) -> int:
        """Stream a file's content to `target` atomically (a temp file beside it, then one rename); returns the
        bytes written. `progress` hears the running total after each chunk."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        written = 0
        try:
            with os.fdopen(fd, "wb") as out, self.adapter._boundary():
                client = self.adapter._client()
                with client.files.with_streaming_response.content(file_id) as response:
                    for chunk in response.iter_bytes(CHUNK_BYTES):
                        out.write(chunk)
                        written += len(chunk)
                        if progress is not None:
                            progress(written)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return written

    def model(self, model_id: str) -> ModelInfo:
        """One model's record; `shutdown_date` where the API gives one (OpenAI adds it to models it retires)."""
        found = self.adapter._call(lambda: self.adapter._client().models.retrieve(model_id))
        extra = found.model_extra or {}
        shutdown = getattr(found, "shutdown_date", None) or extra.get("shutdown_date")
        return ModelInfo(
            id=found.id,
            provider=self.adapter.name,
            owned_by=found.owned_by or "",
            created_at=unix_time(found.created),
            shutdown_date=shutdown_iso(shutdown),
            fine_tuned=found.id.startswith("ft:"),
        )
