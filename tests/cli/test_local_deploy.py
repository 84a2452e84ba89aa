"""`endpoints deploy` on the embedded local backend, end to end: a real `tunedeck serve` loads the real base model
(SmolLM2-135M), `endpoints list` shows it loaded, `endpoints teardown` unloads it. The load is the slow part."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.test_server_support import ServeProcess
from tests.cli.test_jobs_cli import run
from tunedeck.exitcodes import ExitCode
from tunedeck.settings import load_settings

pytestmark = pytest.mark.slow
BASE = "smollm2-135m-instruct"


@pytest.fixture
def server(isolated_home: Path) -> Iterator[ServeProcess]:
    serve = ServeProcess(load_settings().data_dir / "local-backend", isolated_home)
    try:
        yield serve
    finally:
        serve.stop()


def test_deploy_loads_the_model_and_teardown_unloads_it(server: ServeProcess) -> None:
    code, out, _ = run("endpoints", "list", "--json")
    assert code == ExitCode.OK and BASE not in {v["id"] for v in json.loads(out)["ours"]}

    code, out, err = run("endpoints", "deploy", BASE, "--provider", "local", "--json")  # free: no question asked
    assert code == ExitCode.OK, err + server.log()
    record = json.loads(out)
    assert (record["state"], record["endpoint_id"], record["hourly_rate_usd"]) == ("deployed", BASE, 0.0)
    assert "free" in err

    code, out, _ = run("endpoints", "list", "--json")
    loaded = {v["id"]: v for v in json.loads(out)["ours"]}
    assert BASE in loaded and loaded[BASE]["idle_teardown_s"] == 3600  # the default idle teardown applies

    code, out, _ = run("endpoints", "teardown", BASE, "--yes", "--json")
    assert code == ExitCode.OK and json.loads(out)[0]["outcome"] == "done"
    code, out, _ = run("endpoints", "list", "--json")
    assert BASE not in {v["id"] for v in json.loads(out)["ours"]}
