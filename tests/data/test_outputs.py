"""Outputs of `data convert` / `data split` follow the user's intent (issue 14, items 1, 6 and 9): streams stay
streams, symlinks are written through, existing files need --force (or a yes on a terminal), unwritable
places and unreadable inputs are one sentence with exit 2, and nothing is ever half-written."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import tunedeck.data.convert as convert_module
from tests.data.helpers import chat, good_file, run_cli, write_lines
from tunedeck.data.formats import DatasetFormat
from tunedeck.util.outputs import resolve_output

FIFO_TIMEOUT_S = 30


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_dash_streams_to_stdout_and_the_summary_goes_to_stderr(tmp_path: Path) -> None:
    source = good_file(tmp_path / "in.jsonl", n=3)
    code, out, err = run_cli("data", "convert", source, "-", "--to", "csv")
    assert code == 0
    assert out.splitlines()[0] == "system,user,assistant" and len(out.splitlines()) == 4
    assert "Wrote 3 of 3" in err
    assert _listing(tmp_path) == ["in.jsonl"]


def test_dev_stdout_is_a_stream_never_a_file_to_replace(tmp_path: Path) -> None:
    # The bug: the temp file was renamed over /dev/stdout itself. Resolution never touches the path.
    for name in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "-"):
        output = resolve_output(name)
        assert output.is_stream and output.to_stdout and output.file is None
    source = good_file(tmp_path / "in.jsonl", n=2)
    code, out, _ = run_cli("data", "convert", source, "/dev/fd/1", "--to", "vertex")
    assert code == 0 and [json.loads(line)["contents"][0]["role"] for line in out.splitlines()] == ["user", "user"]
    assert os.path.islink("/dev/stdout")


def test_json_and_a_dataset_on_stdout_cannot_share_it(tmp_path: Path) -> None:
    code, out, _ = run_cli("data", "convert", good_file(tmp_path / "in.jsonl"), "-", "--to", "csv", "--json")
    assert code == 2 and "share" in json.loads(out)["error"]["title"]


def _read_fifo(path: Path, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with path.open("rb") as handle:
            into.append(handle.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    source = good_file(tmp_path / "in.jsonl", n=4)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = _read_fifo(fifo, got)
    code, _, err = run_cli("data", "convert", source, fifo, "--to", "instruction")
    reader.join(FIFO_TIMEOUT_S)
    assert code == 0, err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO, not a regular file put in its place
    assert [json.loads(line)["output_text"] for line in got[0].splitlines()] == [
        f"Answer {i}: it ships tomorrow." for i in range(4)
    ]


def test_a_character_device_is_written_in_place(tmp_path: Path) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # our own /dev/null: safe to get wrong
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    code, _, err = run_cli("data", "convert", good_file(tmp_path / "in.jsonl"), device, "--to", "csv")
    assert code == 0, err
    assert stat.S_ISCHR(device.lstat().st_mode)


def test_a_symlink_is_written_through_to_its_target(tmp_path: Path) -> None:
    source = good_file(tmp_path / "in.jsonl", n=2)
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "out.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    code, out, _ = run_cli("data", "convert", source, link, "--to", "csv", "--json")
    assert code == 2 and "already exists" in json.loads(out)["error"]["title"]
    assert target.read_text() == "old\n"
    code, _, err = run_cli("data", "convert", source, link, "--to", "csv", "--force")
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("system,user,assistant")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # a replaced file keeps its permissions
    assert _listing(tmp_path / "real") == ["out.csv"]  # no temp file left beside the target


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "made.jsonl")
    code, _, err = run_cli("data", "convert", good_file(tmp_path / "in.jsonl"), link, "--to", "vertex")
    assert code == 0, err
    assert link.is_symlink() and (tmp_path / "made.jsonl").is_file()


def test_an_existing_file_needs_force(tmp_path: Path) -> None:
    source = good_file(tmp_path / "in.jsonl", n=3)
    target = tmp_path / "out.jsonl"
    target.write_text("precious\n")
    code, _, err = run_cli("data", "convert", source, target, "--to", "vertex")
    assert code == 2 and "--force" in err and target.read_text() == "precious\n"
    code, _, _ = run_cli("data", "convert", source, target, "--to", "vertex", "--force")
    assert code == 0 and len(target.read_text().splitlines()) == 3


def test_split_outputs_need_force_too(tmp_path: Path) -> None:
    source = good_file(tmp_path / "d.jsonl", n=10)
    assert run_cli("data", "split", source)[0] == 0
    train = tmp_path / "d.train.jsonl"
    train.write_text("keep me\n")
    code, _, err = run_cli("data", "split", source)
    assert code == 2 and "d.train.jsonl" in err and train.read_text() == "keep me\n"
    assert run_cli("data", "split", source, "--force")[0] == 0 and train.read_text() != "keep me\n"


def _on_a_terminal(args: list[str], answer: bytes) -> tuple[int, str]:
    """Run the CLI with stdin and stderr on a pseudo-terminal (so it may ask) and answer the question."""
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tunedeck", *args], stdin=slave, stderr=slave, stdout=subprocess.PIPE
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 60
    while b"Replace?" not in seen and time.monotonic() < deadline:
        try:
            seen += os.read(master, 1024)
        except OSError:
            break
    os.write(master, answer)
    code = process.wait(timeout=60)
    os.close(master)
    return code, seen.decode(errors="replace")


def test_on_a_terminal_it_asks_before_replacing(tmp_path: Path) -> None:
    source = good_file(tmp_path / "in.jsonl", n=3)
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    code, said = _on_a_terminal(["data", "convert", str(source), str(target), "--to", "csv"], b"n\n")
    assert "already exists. Replace?" in said
    assert code == 4 and target.read_text() == "precious\n"
    code, _ = _on_a_terminal(["data", "convert", str(source), str(target), "--to", "csv"], b"y\n")
    assert code == 0 and target.read_text().startswith("system,user,assistant")


@pytest.mark.parametrize("place", ["under-a-file", "proc"])
def test_unwritable_places_are_exit_2(tmp_path: Path, place: str) -> None:
    source = good_file(tmp_path / "in.jsonl")
    if place == "under-a-file":
        target, expected = tmp_path / "in.jsonl" / "out.csv", "is a file, not a directory"
    else:
        target, expected = Path("/proc/version"), "Cannot write /proc/version"
    code, out, err = run_cli("data", "convert", source, target, "--to", "csv", "--force", "--json")
    assert code == 2, err
    assert expected in json.loads(out)["error"]["title"]
    assert "Traceback" not in err
    code, _, err = run_cli("data", "split", source, "--train-out", target, "--force")
    assert code == 2 and expected in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_directory_is_exit_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    code, _, err = run_cli("data", "convert", good_file(tmp_path / "in.jsonl"), locked / "o.csv", "--to", "csv")
    assert code == 2 and "no permission" in err


@pytest.mark.parametrize("command", ["validate", "stats", "convert", "split"])
@pytest.mark.parametrize("source", ["/proc/self/mem", "directory"])
def test_unreadable_inputs_are_exit_2(tmp_path: Path, command: str, source: str) -> None:
    path = tmp_path if source == "directory" else Path(source)
    extra = ["out.csv", "--to", "csv"] if command == "convert" else []
    code, _, err = run_cli("data", command, path, *extra)
    assert code == 2, err
    assert "cannot be read" in err or "is a directory" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\x00\x01\x02\xff\xfe binary \x00" * 50, b"[1]\n{oops\n"])
def test_nothing_usable_writes_nothing_and_exits_1(tmp_path: Path, content: bytes) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(content)
    for target in ("out.csv", "-"):
        code, out, err = run_cli("data", "convert", source, tmp_path / target if target != "-" else "-", "--to", "csv")
        assert code == 1, err
        assert out == "" and "nothing was written" in err
    code, _, err = run_cli("data", "split", source)
    assert code == 1 and "nothing was written" in err.replace("Nothing", "nothing")
    assert _listing(tmp_path) == ["in.jsonl"]


@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02\xff\xfe binary \x00" * 50])
def test_stats_on_empty_or_binary_files_exits_1(tmp_path: Path, content: bytes) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(content)
    code, out, err = run_cli("data", "stats", source)
    assert code == 1 and ("no examples" in err or "binary" in err)
    code, out, _ = run_cli("data", "stats", source, "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == 1


def test_ctrl_c_mid_convert_keeps_the_old_file_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = good_file(tmp_path / "in.jsonl", n=50)
    target = tmp_path / "out.jsonl"
    target.write_text("previous\n")
    real = convert_module.JSONL_WRITERS[DatasetFormat.VERTEX]
    calls = {"n": 0}

    def interrupted_at_30(example):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 30:
            raise KeyboardInterrupt
        return real(example)

    monkeypatch.setitem(convert_module.JSONL_WRITERS, DatasetFormat.VERTEX, interrupted_at_30)
    code, _, err = run_cli("data", "convert", source, target, "--to", "vertex", "--force")
    assert code == 4
    assert "Interrupted" in err and "not replaced and is as it was" in err
    assert target.read_text() == "previous\n" and _listing(tmp_path) == ["in.jsonl", "out.jsonl"]
    calls["n"] = 0
    code, _, err = run_cli("data", "convert", source, tmp_path / "new.jsonl", "--to", "vertex")
    assert code == 4 and "nothing was written to" in err and not (tmp_path / "new.jsonl").exists()


def test_a_real_sigint_exits_4_with_a_sentence(tmp_path: Path) -> None:
    # A FIFO nobody reads blocks the writer in open(): a deterministic moment to press Ctrl-C.
    source = good_file(tmp_path / "in.jsonl", n=3)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [sys.executable, "-m", "tunedeck", "data", "convert", str(source), str(fifo), "--to", "csv"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 4, err
    assert "Interrupted" in err and "Traceback" not in err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_convert_round_trip_through_a_stream_matches_a_file(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [chat(i) for i in range(5)])
    assert run_cli("data", "convert", source, tmp_path / "file.csv", "--to", "csv")[0] == 0
    code, out, _ = run_cli("data", "convert", source, "-", "--to", "csv")
    assert code == 0 and out == (tmp_path / "file.csv").read_bytes().decode()
