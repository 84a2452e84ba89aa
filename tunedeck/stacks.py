"""Infrastructure actions for every front end: plan, preview, up, refresh, destroy and stack outputs.

The Pulumi driver (`infra.automation`) only talks to Pulumi; this layer resolves which stack (with the
`PULUMI_*` environment the settings captured), streams the engine's output as `OutputLine` events, and
keeps the store's copy of the outputs in step (saved after `up`/`outputs`, forgotten after `destroy`).
Blocking: a TUI calls these from `thread=True` workers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunedeck.events import OutputLine

if TYPE_CHECKING:
    from infra.automation import InfraTarget
    from infra.outputs import StackOutputs
    from infra.plan import OfflinePlan
    from infra.scaffold import InitAnswers, InitResult
    from tunedeck.workspace import Workspace

ENGINE = "pulumi"


class StackActions:
    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def target(self, stack: str, work_dir: Path | None = None) -> InfraTarget:
        from infra import automation

        return automation.resolve_target(self.ws.settings, stack, work_dir=work_dir)

    def _line(self, line: str) -> None:
        self.ws.publish(OutputLine(ENGINE, line.rstrip("\n")))

    @staticmethod
    def pulumi_installed() -> bool:
        from infra import automation

        return automation.pulumi_cli_path() is not None

    def plan(self, stack: str, work_dir: Path | None = None, *, offline: bool = False) -> OfflinePlan | dict[str, int]:
        """`pulumi preview` ({operation: count}) with the CLI; else the program run offline under mocks."""
        from infra import automation

        target = self.target(stack, work_dir)
        if offline or not self.pulumi_installed():
            from infra.plan import offline_plan

            return offline_plan(target.work_dir, stack)
        return automation.preview(target, self._line)

    def up(self, stack: str, work_dir: Path | None = None) -> StackOutputs:
        from infra import automation

        outputs = automation.up(self.target(stack, work_dir), self._line)
        self.ws.store.save_stack_outputs(stack, outputs.as_outputs())
        return outputs

    def refresh(self, stack: str, work_dir: Path | None = None) -> dict[str, int]:
        from infra import automation

        return automation.refresh(self.target(stack, work_dir), self._line)

    def destroy_warning(self, stack: str, work_dir: Path | None = None) -> str:
        from infra import automation

        return automation.destroy_warning(self.target(stack, work_dir))

    def require_pulumi(self) -> None:
        from infra import automation

        automation.require_pulumi_cli()

    def destroy(self, stack: str, work_dir: Path | None = None) -> dict[str, int]:
        """Destroy (the confirmation is the front end's); the saved outputs no longer describe anything."""
        from infra import automation

        changes = automation.destroy(self.target(stack, work_dir), self._line)
        self.ws.store.forget_stack_outputs(stack)
        return changes

    def outputs(self, stack: str, work_dir: Path | None = None) -> StackOutputs:
        """Live outputs when the Pulumi CLI is installed (and saved as they are read), else the saved copy."""
        from infra import automation
        from infra.errors import PulumiNotInstalledError
        from infra.outputs import StackOutputs

        if self.pulumi_installed():
            outputs = automation.stack_outputs(self.target(stack, work_dir))
            self.ws.store.save_stack_outputs(stack, outputs.as_outputs())
            return outputs
        saved = self.ws.store.load_stack_outputs(stack)
        if saved is None:
            raise PulumiNotInstalledError()
        values, saved_at = saved
        return StackOutputs.from_outputs(stack, values, "saved", saved_at)

    def init(self, work_dir: Path, answers: InitAnswers) -> InitResult:
        """Write a Pulumi project of the user's own in `work_dir` (`infra init`): checked answers, no file clobbered."""
        from infra.scaffold import write_project

        return write_project(work_dir.expanduser().resolve(), answers)

    def vertex_overrides(self) -> dict[str, Any]:
        """`[vertex]` settings completed from the configured stack's outputs (what the Vertex adapter needs)."""
        settings = self.ws.settings
        section = settings.section("vertex")
        missing = [k for k in ("project", "region", "bucket") if not section.get(k)]
        stack = section.get("stack") or settings.section("infra").get("stack")
        if not missing or not stack:
            return {}
        try:
            exported = self.outputs(str(stack)).as_outputs()
        except ImportError as exc:
            from providers.errors import ConfigurationError

            raise ConfigurationError(
                f"Vertex settings are missing ({', '.join(missing)}) and the infra extra is not installed.",
                "Set them under [vertex] in config.toml, or `pip install 'tunedeck[infra]'` to read the stack.",
                provider="vertex",
            ) from exc
        return {k: v for k, v in exported.items() if not section.get(k)}
