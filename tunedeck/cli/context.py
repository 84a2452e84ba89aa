"""How commands get their workspace: through Typer's context, so tests hand one in without patching modules.

`tunedeck` puts a `CliState` in `ctx.obj`; a command calls `workspace(ctx)` and gets the one workspace of
this invocation, opened on first use and closed when the command ends. Tests pass their own state with
`CliRunner().invoke(app, args, obj=CliState(factory=...))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tunedeck.workspace import Workspace


def _open_default() -> Workspace:
    from tunedeck.workspace import Workspace  # deferred: `tunedeck --help` never opens the store

    return Workspace.open()


@dataclass
class CliState:
    factory: Callable[[], Workspace] | None = None
    """Makes this invocation's workspace; None: `Workspace.open()` from the user's settings."""
    _workspace: Workspace | None = field(default=None, repr=False)

    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = (self.factory or _open_default)()
        return self._workspace

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
        root.call_on_close(root.obj.close)
    return root.obj


def workspace(ctx: typer.Context) -> Workspace:
    """The workspace of this invocation (opened on first use, closed when the command ends)."""
    return state(ctx).workspace()
