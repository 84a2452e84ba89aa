"""How the `tunedeck` command runs the app on the invocation's workspace (the CLI opens and closes it).

Opening the workspace reads the store only: no provider is asked before the first frame; everything slow
happens in the app's workers. What must be said after the app ends — a local backend left running for a job
still training — is printed at interpreter exit by `providers.local_server`, once Textual has restored the
terminal, so it is never hidden under the app's screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.app import TunedeckApp

if TYPE_CHECKING:
    from tunedeck.workspace import Workspace


def run_ui(workspace: Workspace, *, read_only: bool = False) -> None:
    TunedeckApp(workspace, read_only=read_only).run()
