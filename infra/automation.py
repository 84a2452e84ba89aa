"""Drives stacks with Pulumi's Automation API over the *local* program, so the CLI, the TUI and a user's own
`pulumi up` all run the same code. Every function streams the engine's output line by line to `on_output`
and raises only our `InfraError`s.

Blocking: the TUI calls these from `thread=True` workers.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.config import parse_config
from infra.errors import InfraConfigError, InfraError, PulumiNotInstalledError
from infra.outputs import StackOutputs
from infra.stack_files import PROJECT_FILE, load_stack_config

if TYPE_CHECKING:
    from pulumi import automation as auto

    from tunedeck.settings import Settings

OnOutput = Callable[[str], None]
BACKEND_ENV = "PULUMI_BACKEND_URL"
DEFAULT_STACK = "dev"


@dataclass(frozen=True)
class InfraTarget:
    """Which stack of which program, in which backend: everything the Automation API needs, passed explicitly."""

    work_dir: Path
    stack: str
    backend_url: str
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for the Pulumi CLI (the backend URL is always added)."""


def default_work_dir() -> Path:
    """The checkout holding Pulumi.yaml: the parent of this package (an editable install, or a clone)."""
    return Path(__file__).resolve().parent.parent


def resolve_work_dir(settings: Settings, override: Path | None = None) -> Path:
    """`--work-dir`, else `[infra] work_dir` in config.toml, else the tunedeck checkout."""
    configured = settings.section("infra").get("work_dir")
    return (override or (Path(configured).expanduser() if configured else default_work_dir())).resolve()


def resolve_backend_url(settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """`[infra] backend_url`, else the caller's PULUMI_BACKEND_URL, else a file backend in tunedeck's data dir.

    The file backend means no Pulumi account is needed; it keeps state next to tunedeck's own store.
    """
    configured = settings.section("infra").get("backend_url")
    if configured:
        return str(configured)
    if env and env.get(BACKEND_ENV):
        return env[BACKEND_ENV]
    return (settings.data_dir / "pulumi").resolve().as_uri()


def resolve_target(
    settings: Settings,
    stack: str = DEFAULT_STACK,
    *,
    work_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> InfraTarget:
    """The stack to drive. `env` defaults to the `PULUMI_*` variables the settings captured, so every reader of
    a stack (`infra up`, the Vertex adapter's outputs) reaches the backend the user's environment names."""
    env = settings.pulumi_env if env is None else env
    return InfraTarget(
        work_dir=resolve_work_dir(settings, work_dir),
        stack=stack,
        backend_url=resolve_backend_url(settings, env),
        env={k: v for k, v in env.items() if k.startswith("PULUMI_")},
    )


def destroy_warning(target: InfraTarget) -> str:
    """What `destroy` will take with it, from the stack's config: shown before the user confirms (CLI and TUI)."""
    try:
        config_file = load_stack_config(target.work_dir, target.stack)
        config = parse_config(config_file.values, namespace=config_file.project_name)
    except InfraError:
        return (
            f"This deletes every resource in stack {target.stack!r}, including the bucket and all the datasets and "
            "artifacts in it, unless tunedeck:retainBucketOnDestroy is true."
        )
    if config.retain_bucket_on_destroy:
        return (
            f"This deletes every resource in stack {target.stack!r} except the bucket gs://{config.bucket_name}, "
            "which retainBucketOnDestroy keeps in GCP with its data (if `tunedeck infra up` ran since it was set)."
        )
    return (
        f"This deletes every resource in stack {target.stack!r} (project {config.project}), including the bucket "
        f"gs://{config.bucket_name} and every dataset and artifact in it. Set tunedeck:retainBucketOnDestroy: true "
        "and run `tunedeck infra up` first to keep the bucket."
    )


def pulumi_cli_path() -> str | None:
    return shutil.which("pulumi")


def require_pulumi_cli() -> str:
    path = pulumi_cli_path()
    if path is None:
        raise PulumiNotInstalledError()
    return path


@contextmanager
def _mapped_errors(target: InfraTarget) -> Iterator[None]:
    from infra.error_mapping import map_automation_error

    try:
        yield
    except PulumiNotInstalledError:
        raise
    except Exception as exc:
        mapped = map_automation_error(exc, target.stack, target.backend_url)
        if mapped is None:
            raise
        raise mapped from exc


def _stack(target: InfraTarget, *, create: bool) -> auto.Stack:
    require_pulumi_cli()
    from pulumi import automation as auto  # deferred: the Automation API is only needed to drive a stack

    if target.backend_url.startswith("file://"):
        # The file backend wants its directory to exist before `pulumi login`.
        Path(target.backend_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    if not (target.work_dir / PROJECT_FILE).is_file():
        raise InfraConfigError(f"No {PROJECT_FILE} in {target.work_dir}.", "Pass --work-dir or set [infra] work_dir.")
    options = auto.LocalWorkspaceOptions(
        work_dir=str(target.work_dir), env_vars={**target.env, BACKEND_ENV: target.backend_url}
    )
    with _mapped_errors(target):
        if create:
            return auto.create_or_select_stack(stack_name=target.stack, work_dir=str(target.work_dir), opts=options)
        return auto.select_stack(stack_name=target.stack, work_dir=str(target.work_dir), opts=options)


def _plain(outputs: Mapping[str, Any]) -> dict[str, Any]:
    # OutputMap values are OutputValue(value, secret); secrets never leave Pulumi's state through tunedeck.
    return {name: item.value for name, item in outputs.items() if not getattr(item, "secret", False)}


def preview(target: InfraTarget, on_output: OnOutput) -> dict[str, int]:
    """`pulumi preview`: the changes an `up` would make, as {operation: count}."""
    stack = _stack(target, create=True)
    with _mapped_errors(target):
        result = stack.preview(on_output=on_output, color="never")
    return {str(op): int(count) for op, count in (result.change_summary or {}).items()}


def up(target: InfraTarget, on_output: OnOutput) -> StackOutputs:
    """`pulumi up`; returns the outputs (the caller saves them for offline readers)."""
    stack = _stack(target, create=True)
    with _mapped_errors(target):
        result = stack.up(on_output=on_output, color="never")
    return StackOutputs.from_outputs(target.stack, _plain(result.outputs), "pulumi")


def refresh(target: InfraTarget, on_output: OnOutput) -> dict[str, int]:
    stack = _stack(target, create=False)
    with _mapped_errors(target):
        result = stack.refresh(on_output=on_output, color="never")
    return {str(op): int(count) for op, count in (result.summary.resource_changes or {}).items()}


def destroy(target: InfraTarget, on_output: OnOutput) -> dict[str, int]:
    """`pulumi destroy` (confirmation and forgetting the saved outputs are the caller's job)."""
    stack = _stack(target, create=False)
    with _mapped_errors(target):
        result = stack.destroy(on_output=on_output, color="never")
    return {str(op): int(count) for op, count in (result.summary.resource_changes or {}).items()}


def stack_outputs(target: InfraTarget) -> StackOutputs:
    """Live outputs from the backend."""
    stack = _stack(target, create=False)
    with _mapped_errors(target):
        raw = stack.outputs()
    return StackOutputs.from_outputs(target.stack, _plain(raw), "pulumi")
