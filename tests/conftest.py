"""Every test runs against a temp home, with no real config, data, API keys, keyring or Pulumi settings in reach."""

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
        if name.startswith(("TUNEDECK_", "PULUMI_")) or name in _SECRET_VARS:
            monkeypatch.delenv(name, raising=False)
    # No test may read (or write) the developer's real OS keyring; the null backend answers "no secret".
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    home = tmp_path / "tunedeck-home"
    monkeypatch.setenv("TUNEDECK_HOME", str(home))
    MODEL_CACHE.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("TUNEDECK_CACHE_DIR", str(MODEL_CACHE))
    return home


# Tests that load or train the real SmolLM2 model (through these fixtures, or by calling the trainer or engine on the
# shared model cache) are slow: `pytest -m "not slow"` stays a fast inner loop, CI runs them all.
REAL_MODEL_FIXTURES = frozenset({"model_dir", "tiny_trained_adapter"})
REAL_MODEL_TESTS = frozenset(
    {
        "test_should_stop_cancels_promptly",
        "test_nothing_to_learn_is_a_usage_error",
        "test_resuming_after_the_last_epoch_republishes_the_same_adapter",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & REAL_MODEL_FIXTURES or item.originalname in REAL_MODEL_TESTS:  # type: ignore[attr-defined]
            item.add_marker(pytest.mark.slow)
