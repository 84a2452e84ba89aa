"""Split Markdown (or plain text) into chunks that each carry the heading they sit under, for citations."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tunedeck.profiles.schema import Chunking

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Chunk:
    heading: str
    """The nearest heading above the text ("" before the first one); the citation anchor."""
    text: str
    ordinal: int


def chunk_text(text: str, chunking: Chunking) -> list[Chunk]:
    sections = _sections(text) if chunking.split_headings else [("", text)]
    chunks: list[Chunk] = []
    for heading, body in sections:
        for piece in _split(body.strip(), chunking.max_chars):
            if piece:
                chunks.append(Chunk(heading, piece, len(chunks)))
    return chunks


def _sections(text: str) -> list[tuple[str, str]]:
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            # The heading line stays in the body too: it is often the best keyword in the section.
            sections.append((match.group(2).strip(), [line]))
        else:
            sections[-1][1].append(line)
    return [(heading, "\n".join(lines)) for heading, lines in sections if "\n".join(lines).strip()]


def _split(body: str, max_chars: int) -> list[str]:
    """Greedy packing of paragraphs into pieces of at most `max_chars`; a huge paragraph is cut hard."""
    if len(body) <= max_chars:
        return [body]
    pieces: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", body):
        paragraph = paragraph.strip()
        while len(paragraph) > max_chars:
            if current:
                pieces.append(current)
                current = ""
            cut = paragraph.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            pieces.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if current and len(current) + 2 + len(paragraph) > max_chars:
            pieces.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        pieces.append(current)
    return pieces
