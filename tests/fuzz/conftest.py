"""Settings for the property-based (Hypothesis) fuzz suite of the data commands.

The default run is bounded and reproducible (a fixed number of examples per property, derandomized), well
under a minute on two shared cores. TUNEDECK_FUZZ_LONG=1 runs the deep version: many more examples,
randomized, and the `fuzz_long` properties that are skipped otherwise.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

FUZZ_LONG = os.environ.get("TUNEDECK_FUZZ_LONG", "").strip() == "1"

# Each example writes real files and runs the real CLI in-process, so examples are counted, not timed.
DEFAULT_EXAMPLES = 25
LONG_EXAMPLES = 1500

FUZZ = settings(
    max_examples=LONG_EXAMPLES if FUZZ_LONG else DEFAULT_EXAMPLES,
    derandomize=not FUZZ_LONG,
    deadline=None,
    database=None,
    # The suite-wide autouse fixture only points TUNEDECK_HOME at a temp dir; every example makes its own files.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz_long: deep fuzzing, run only with TUNEDECK_FUZZ_LONG=1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if FUZZ_LONG:
        return
    skip = pytest.mark.skip(reason="deep fuzzing: set TUNEDECK_FUZZ_LONG=1")
    for item in items:
        if "fuzz_long" in item.keywords:
            item.add_marker(skip)
