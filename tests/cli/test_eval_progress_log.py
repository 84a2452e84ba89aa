"""Issue 11, item 7: a long evaluation with `--json` (stdout read by a script, stderr a log, no terminal) says
how far it is on stderr, a line per tenth, instead of staying silent until the end."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_jobs_cli import run
from tests.evaluation.chat_wire import Wire, chat_wire
from tests.evaluation.conftest import write_heldout


@pytest.fixture
def wire(isolated_home: Path) -> Iterator[Wire]:
    with chat_wire(lambda model, messages: "Happy to help.") as state:
        state.write_config(isolated_home)
        yield state


def test_eval_json_logs_progress_on_stderr_and_keeps_stdout_json(wire: Wire, tmp_path: Path) -> None:
    heldout = write_heldout(tmp_path / "heldout.jsonl")
    args = ["--provider", "openai", "--data", str(heldout), "--metric", "exact", "--yes", "--json"]
    code, out, err = run("eval", "run", "--model", "base", "--model", "tuned", *args)
    assert code == 0, err
    report = json.loads(out)  # stdout is still one JSON document
    total = len(wire.requests)
    lines = [line for line in err.splitlines() if re.match(r"eval \S+: \d+/\d+ calls", line)]
    done = [int(re.search(r": (\d+)/", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert total >= 10 and done[0] == 0 and done[-1] == total
    assert 8 <= len(lines) <= 12, lines  # about one line per tenth, not one per call
    assert f"eval {report['run_id']}: {total}/{total} calls · done" in err
