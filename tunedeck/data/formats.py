"""The dataset formats tunedeck reads and writes, and how a file's format is recognised."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

# How many leading lines detection may look at before giving up: enough to skip a few
# broken or blank lines at the top without reading a big file twice.
DETECT_MAX_LINES = 200


class DatasetFormat(StrEnum):
    OPENAI_CHAT = "openai-chat"
    VERTEX = "vertex"
    GEMINI_LEGACY_CHAT = "gemini-legacy-chat"
    INSTRUCTION = "instruction"
    CSV = "csv"


def format_of_record(record: Any) -> DatasetFormat | None:
    """The format one parsed JSONL record looks like, or None when it matches none."""
    if not isinstance(record, dict):
        return None
    if "contents" in record or "systemInstruction" in record:
        return DatasetFormat.VERTEX
    messages = record.get("messages")
    if messages is not None:
        if isinstance(messages, list) and any(isinstance(m, dict) and "author" in m for m in messages):
            return DatasetFormat.GEMINI_LEGACY_CHAT
        return DatasetFormat.OPENAI_CHAT
    if {"input_text", "output_text", "prompt", "completion"} & record.keys():
        return DatasetFormat.INSTRUCTION
    return None


def detect_format(path: Path) -> DatasetFormat | None:
    """Guess the format from the file name and its first records; None when nothing is recognisable.

    A `.csv` name means CSV; otherwise the first JSON object whose shape is recognised decides.
    """
    if path.suffix.lower() == ".csv":
        return DatasetFormat.CSV
    with path.open("rb") as handle:
        for index, raw in enumerate(handle):
            if index >= DETECT_MAX_LINES:
                break
            line = raw.strip().removeprefix(b"\xef\xbb\xbf")
            if not line:
                continue
            try:
                found = format_of_record(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
            if found is not None:
                return found
    return None
