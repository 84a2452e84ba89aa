"""Every test runs against a temp home, with no real config, data or API keys in reach."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# The converted base model is shared by the whole run (and kept between runs) so only the first
# test that needs it pays for the GGUF conversion.
MODEL_CACHE = Path(os.environ.get("TUNEDECK_TEST_CACHE", REPO_ROOT / ".tmp" / "test-cache"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-long", action="store_true", help="Run the fuzz suites deeply (many more, randomised examples)."
    )


_SECRET_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("TUNEDECK_") or name in _SECRET_VARS:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "tunedeck-home"
    monkeypatch.setenv("TUNEDECK_HOME", str(home))
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("TUNEDECK_CACHE_DIR", str(MODEL_CACHE))
    return home
