"""Pilot tests of the Infra screen: an offline plan (no Pulumi CLI) lists the bucket, the service account and
the APIs with the billing ones marked, says it is offline, and destroy needs the stack's name typed."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable

from tests.infra.conftest import REPO_ROOT
from tests.tui.conftest import FAST_MONITOR, LocalFake, record_notifications, screen_text, settle, write_config
from tui.app import TunedeckApp
from tui.screens.infra import InfraScreen
from tui.screens.type_to_confirm import TypeToConfirmScreen
from tunedeck.workspace import Workspace

STACK_FILE = """\
config:
  gcp:project: acme-tuning-42
  gcp:region: europe-west4
  tunedeck:bucketPrefix: acme
"""


@pytest.fixture
def infra_ws(isolated_home: Path, tmp_path: Path, fake: LocalFake, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "Pulumi.ci.yaml").write_text(STACK_FILE, encoding="utf-8")
    write_config(isolated_home, FAST_MONITOR + f'[infra]\nstack = "ci"\nwork_dir = "{root}"\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), os.path.dirname(sys.executable), "/usr/bin", "/bin"]))
    assert shutil.which("pulumi") is None
    return Workspace.open(provider_factory=lambda name: fake)


async def test_offline_plan_shows_bucket_service_account_and_apis(infra_ws: Workspace) -> None:
    app = TunedeckApp(infra_ws)
    try:
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            notes = record_notifications(app)
            await pilot.press("colon", *"infra", "enter")
            await settle(pilot, lambda: isinstance(app.screen, InfraScreen))
            await settle(pilot, lambda: "acme-tuning-42" in screen_text(app), what="the stack config")
            assert "Pulumi CLI not installed" in screen_text(app)
            await pilot.press("p")
            table = app.screen.query_one("#infra-plan", DataTable)
            await settle(pilot, lambda: table.row_count > 0, timeout=120, what="the offline plan")
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            types = {row[1] for row in rows}
            assert {"storage.Bucket", "serviceaccount.Account", "projects.Service"} <= types
            bucket = next(row for row in rows if row[1] == "storage.Bucket")
            assert bucket[0] == "$"  # billing resources are marked
            assert all(row[0] == "" for row in rows if row[1] == "projects.Service")
            apis = " ".join(row[3] for row in rows if row[1] == "projects.Service")
            assert "aiplatform.googleapis.com" in apis
            assert "offline" in str(table.border_title)
            assert any(n.title == "Pulumi CLI not installed" for n in notes)
    finally:
        infra_ws.close()


async def test_destroy_asks_for_the_stack_name_and_a_wrong_name_destroys_nothing(infra_ws: Workspace) -> None:
    app = TunedeckApp(infra_ws)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("colon", *"infra", "enter")
            await settle(pilot, lambda: isinstance(app.screen, InfraScreen))
            await pilot.press("x")
            await settle(pilot, lambda: isinstance(app.screen, TypeToConfirmScreen))
            await pilot.press(*"dev", "enter")
            assert isinstance(app.screen, TypeToConfirmScreen)
            assert "nothing was destroyed" in screen_text(app)
            await pilot.press("escape")
            await settle(pilot, lambda: isinstance(app.screen, InfraScreen))
            assert app.screen.busy == ""  # type: ignore[attr-defined]
    finally:
        infra_ws.close()


async def test_read_only_offers_no_up_or_destroy(infra_ws: Workspace) -> None:
    app = TunedeckApp(infra_ws, read_only=True)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("colon", *"infra", "enter")
            await settle(pilot, lambda: isinstance(app.screen, InfraScreen))
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(app.screen, InfraScreen)
            assert app.screen.check_action("up", ()) is False
    finally:
        infra_ws.close()
