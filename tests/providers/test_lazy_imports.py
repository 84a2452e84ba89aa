"""Importing any provider module loads no SDK: each is checked in a fresh interpreter, as harlequin does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

SDKS = ("openai", "anthropic", "google.genai", "google.cloud.storage", "google.cloud.aiplatform_v1", "vertexai",
        "google.api_core", "torch", "textual", "tui")  # fmt: skip
MODULES = ("providers.registry", "providers.openai_adapter", "providers.anthropic_adapter", "providers.local",
           "providers.local_server", "providers.vertex.adapter", "providers.states", "providers.translate")  # fmt: skip


@pytest.mark.parametrize("module", MODULES)
def test_importing_an_adapter_loads_no_sdk(module: str) -> None:
    code = f"import sys, json\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         cwd=REPO_ROOT)  # fmt: skip
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not [name for name in SDKS if name in loaded]


def test_building_a_provider_still_loads_no_sdk() -> None:
    code = (
        "import sys, json\nfrom providers.registry import get_provider\nfrom tunedeck.settings import load_settings\n"
        "get_provider('local', load_settings())\nget_provider('anthropic', load_settings())\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
                         cwd=REPO_ROOT)  # fmt: skip
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not [name for name in SDKS if name in loaded]
