"""Writes the README's screenshots of the New job wizard and the side-by-side Playground (SVG, Textual's own
`save_screenshot`) from the same still life as the snapshots:
`python -m tests.tui.screenshots_part2 docs/screenshots`."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.tui.still import still_app, still_workspace
from tests.tui.test_snapshots_part2 import PLAYGROUND, WIZARD, write_support_dataset


async def shoot(out: Path, name: str, run_before: object, home: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith(("TUNEDECK_", "PULUMI_"))]:
            patch.delenv(key)
        patch.setenv("TUNEDECK_HOME", str(home / name))
        data = home / name / "data"
        data.mkdir(parents=True)
        write_support_dataset(data)
        patch.chdir(data)
        ticks = itertools.count()
        patch.setattr("tunedeck.chat.time", SimpleNamespace(monotonic=lambda: next(ticks) * 0.25))
        workspace = still_workspace(home / name, patch)
        app = still_app(workspace)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await run_before(pilot)  # type: ignore[operator]
                app.save_screenshot(f"{name}.svg", str(out))
        finally:
            workspace.close()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        asyncio.run(shoot(out, "tui-new-job", WIZARD, Path(home)))
        asyncio.run(shoot(out, "tui-playground", PLAYGROUND, Path(home)))
    print(f"wrote {out}/tui-new-job.svg and {out}/tui-playground.svg")


if __name__ == "__main__":
    main()
