from __future__ import annotations

import pytest

from tunedeck.cli.output import report_error
from tunedeck.errors import TunedeckError


def test_report_error_prints_title_and_hint_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    # Titles quote user text; rich would swallow "[datasets/]" as markup if it were not escaped.
    report_error(TunedeckError("No file at gs://b/[datasets/]x.jsonl.", "Check [infra] bucket."))
    err = capsys.readouterr().err
    assert "error: No file at gs://b/[datasets/]x.jsonl." in err
    assert "hint: Check [infra] bucket." in err
