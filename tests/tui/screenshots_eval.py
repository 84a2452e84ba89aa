"""Writes the README's screenshot of the `:eval` screen (SVG, Textual's own `save_screenshot`) from the same still
life as its snapshots: `python -m tests.tui.screenshots_eval docs/screenshots`."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import pytest

from tests.tui.eval_still import eval_still_app, eval_still_workspace, show_eval


async def shoot(out: Path, home: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith(("TUNEDECK_", "PULUMI_"))]:
            patch.delenv(key)
        patch.setenv("TUNEDECK_HOME", str(home))
        workspace = eval_still_workspace(home, patch)
        app = eval_still_app(workspace)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                await show_eval(pilot)
                app.save_screenshot("tui-eval.svg", str(out))
        finally:
            workspace.close()


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        asyncio.run(shoot(out, Path(home)))
    print(f"wrote {out}/tui-eval.svg")


if __name__ == "__main__":
    main()
