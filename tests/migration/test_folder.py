"""The export folder's rules: never written over unless asked, atomic files, a manifest that says what is
missing and why, no credential in anything written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tunedeck.errors import UnreadableInputError, UsageError
from tunedeck.exitcodes import ExitCode
from tunedeck.migration import folder as fs


def manifest() -> fs.Manifest:
    return fs.Manifest(provider="openai", job_id="ftjob-1", exported_at="2026-11-30T00:00:00+00:00")


def test_a_new_or_empty_folder_is_used_an_occupied_one_only_when_asked(tmp_path: Path) -> None:
    assert fs.prepare(tmp_path / "new" / "deeper", overwrite=False).is_dir()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert fs.prepare(empty, overwrite=False) == empty
    (empty / "x").write_text("kept")
    with pytest.raises(UsageError) as caught:
        fs.prepare(empty, overwrite=False)
    assert caught.value.exit_code == ExitCode.USAGE and "--overwrite" in caught.value.hint
    assert fs.prepare(empty, overwrite=True) == empty and (empty / "x").read_text() == "kept"
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="not a folder"):
        fs.prepare(tmp_path / "file", overwrite=True)


def test_record_and_missing_replace_each_other(tmp_path: Path) -> None:
    m = manifest()
    m.note_missing("results", "file-9", "deleted")
    m.note_missing("results", "file-9", "gone for good")
    assert [(x.kind, x.reason) for x in m.missing] == [("results", "gone for good")]
    (tmp_path / "step_metrics.csv").write_text("step\n1\n")
    saved = fs.record(m, tmp_path, "results", tmp_path / "step_metrics.csv", "file-9")
    assert m.missing == [] and saved.path == "step_metrics.csv" and saved.bytes == 7
    assert saved.sha256 == hashlib.sha256(b"step\n1\n").hexdigest()
    assert fs.path_of(tmp_path, m, "results") == tmp_path / "step_metrics.csv" and fs.path_of(tmp_path, m, "x") is None


def test_the_manifest_round_trips_and_hides_secrets(tmp_path: Path) -> None:
    m = manifest()
    m.golden = {"model": "ft:x", "note": "sent with sk-proj-abcdefghijklmnopqrstuvwxyz123456"}
    m.note_missing("validation", "", "key my-own-secret-key was refused")
    fs.write_manifest(tmp_path, m, ["my-own-secret-key"])
    text = (tmp_path / fs.MANIFEST).read_text()
    assert "my-own-secret-key" not in text and "sk-proj-abcdefghijklmnop" not in text
    back = fs.read_manifest(tmp_path)
    assert back.job_id == "ftjob-1" and back.missing[0].kind == "validation"
    assert json.loads(text)["version"] == fs.MANIFEST_VERSION
    assert [p.name for p in tmp_path.iterdir()] == [fs.MANIFEST]  # no temp file left beside it


def test_a_folder_without_a_readable_manifest_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="not a `tunedeck migrate export` folder"):
        fs.read_manifest(tmp_path)
    (tmp_path / fs.MANIFEST).write_text("{not json")
    with pytest.raises(UnreadableInputError, match="not a manifest tunedeck can read"):
        fs.read_manifest(tmp_path)


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "job.json"
    fs.write_json(target, {"id": "old"})

    class Boom:
        pass

    with pytest.raises(TypeError):
        fs.write_json(target, {"id": Boom()})
    assert json.loads(target.read_text()) == {"id": "old"} and len(list(tmp_path.iterdir())) == 1
