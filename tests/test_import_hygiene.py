"""Start-up stays fast and layers stay apart: checked in a fresh interpreter, as harlequin does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("torch", "transformers", "peft", "anthropic", "openai", "vertexai", "google.genai", "pulumi", "textual")


def modules_after_import(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_cli_start_up_imports_no_heavy_sdk() -> None:
    loaded = modules_after_import("import tunedeck.cli.main")
    assert not [name for name in HEAVY if name in loaded]


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
