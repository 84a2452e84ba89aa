"""Writes the README's screenshot of `:models` with `p`'s deploy confirmation (SVG, Textual's own
`save_screenshot`) from the same still life as its snapshot:
`python -m tests.tui.screenshots_models docs/screenshots`."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import pytest

from tests.tui.conftest import settle, write_config
from tests.tui.still import still_app
from tests.tui.test_models_screen import models_fake, open_models
from tui.screens.confirm import ConfirmScreen
from tunedeck.workspace import Workspace


async def shoot(out: Path, home: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith(("TUNEDECK_", "PULUMI_"))]:
            patch.delenv(key)
        patch.setenv("TUNEDECK_HOME", str(home))
        write_config(home, "")
        fake = models_fake(served=True)
        workspace = Workspace.open(provider_factory=lambda name: fake)
        app = still_app(workspace)
        try:
            async with app.run_test(size=(120, 36)) as pilot:
                await open_models(app, pilot, rows=4)
                await pilot.press("down", "p")  # support-bot: not deployed yet
                await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
                await pilot.pause(0.2)
                app.save_screenshot("tui-models.svg", str(out))
        finally:
            workspace.close()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        asyncio.run(shoot(out, Path(home)))
    print(f"wrote {out}/tui-models.svg")


if __name__ == "__main__":
    main()
