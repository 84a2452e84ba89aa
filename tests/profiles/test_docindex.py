"""The FTS5 docs index: build, BM25 ranking, incremental refresh on change, and chunking by heading."""

from __future__ import annotations

import os
from pathlib import Path

from tunedeck.profiles.chunking import chunk_text
from tunedeck.profiles.docindex import DocIndex, index_path
from tunedeck.profiles.schema import Chunking
from tunedeck.settings import Settings


def _index(profile_dir: Path, settings: Settings, **kwargs: object) -> DocIndex:
    docs = profile_dir / "profiles" / "docs"
    return DocIndex(docs, index_path(settings, docs), **kwargs)  # type: ignore[arg-type]


def test_build_lives_in_data_dir_and_ranks_the_right_section_first(profile_dir: Path, settings: Settings) -> None:
    with _index(profile_dir, settings) as index:
        stats = index.refresh()
        assert (stats.added, stats.updated, stats.removed, stats.unchanged) == (3, 0, 0, 0)
        assert index.db_path.is_file() and settings.data_dir in index.db_path.parents
        hits = index.search("my vpn certificate expired, what now?", top_k=3)
        assert (hits[0].path, hits[0].heading) == ("vpn.md", "Certificate errors")
        assert hits[0].score >= hits[-1].score
        assert "Refresh VPN Profile" in hits[0].text
        toner = index.search("printer toner is low", top_k=1)
        assert (toner[0].path, toner[0].heading) == ("printing.md", "Toner")


def test_questions_never_reach_fts5_syntax(profile_dir: Path, settings: Settings) -> None:
    with _index(profile_dir, settings) as index:
        index.refresh()
        assert index.search('VPN" OR NEAR(( -- * AND', top_k=1)[0].path == "vpn.md"
        assert index.search("???", top_k=3) == []
        assert index.search("zebra quantum", top_k=3) == []


def test_refresh_is_incremental(profile_dir: Path, settings: Settings) -> None:
    docs = profile_dir / "profiles" / "docs"
    with _index(profile_dir, settings) as index:
        index.refresh()
        assert not index.refresh().changed  # nothing touched: stats only

        # Same bytes, new mtime: hashed, not re-indexed.
        stat = (docs / "vpn.md").stat()
        os.utime(docs / "vpn.md", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        stats = index.refresh()
        assert (stats.updated, stats.unchanged) == (0, 3)

        (docs / "printing.md").write_text("# Printing\n\n## Badges\n\nTap your badge to release jobs.\n")
        (docs / "security.md").unlink()
        (docs / "sub").mkdir()
        (docs / "sub" / "wifi.md").write_text("# Wi-Fi\n\n## Guests\n\nVisitors use NW-Guest.\n")
        stats = index.refresh()
        assert (stats.added, stats.updated, stats.removed, stats.unchanged) == (1, 1, 1, 1)
        assert index.search("toner", top_k=3) == []
        assert index.search("phishing", top_k=3) == []
        assert index.search("badge release", top_k=1)[0].heading == "Badges"
        assert index.search("guest wifi", top_k=1)[0].path == "sub/wifi.md"

    # A new process (a new DocIndex on the same file) sees the stored state and does no work.
    with _index(profile_dir, settings) as again:
        stats = again.refresh()
        assert not stats.changed and stats.unchanged == 3


def test_changing_glob_or_chunking_rebuilds(profile_dir: Path, settings: Settings) -> None:
    with _index(profile_dir, settings) as index:
        index.refresh()
    with _index(profile_dir, settings, glob="vpn.md") as narrow:
        stats = narrow.refresh()
        assert (stats.added, stats.removed) == (1, 0)
        assert narrow.search("toner", top_k=3) == []


def test_chunks_follow_headings_and_respect_max_chars() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(6))
    text = "Preamble.\n\n# Title\n\nIntro.\n\n## Long\n\n" + paragraphs
    text += "\n\n```\n# not a heading inside code\n```\n"
    chunks = chunk_text(text, Chunking(max_chars=400))
    assert [c.heading for c in chunks[:2]] == ["", "Title"]
    long_chunks = [c for c in chunks if c.heading == "Long"]
    assert len(long_chunks) >= 6
    assert all(len(c.text) <= 400 for c in chunks)
    assert "# not a heading inside code" in long_chunks[-1].text
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    whole = chunk_text(text, Chunking(max_chars=20000, split_headings=False))
    assert len(whole) == 1 and whole[0].heading == ""
