"""How the app is reached: bare `tunedeck` and `tunedeck ui`, and what importing the CLI and the UI pulls in."""

from __future__ import annotations

from tests.cli.test_jobs_cli import run
from tests.test_import_hygiene import modules_after_import
from tunedeck.exitcodes import ExitCode


def test_the_cli_never_imports_textual_or_the_ui() -> None:
    loaded = modules_after_import("import tunedeck.cli.main")
    assert not {name for name in loaded if name.split(".")[0] in ("textual", "tui", "textual_plotext", "plotext")}


def test_the_app_starts_without_provider_sdks_or_the_chart_library() -> None:
    # The first frame needs Textual and the Jobs screen; SDKs load in workers, the chart with the first job page.
    loaded = modules_after_import("import tui.app, tui.screens.jobs")
    heavy = ("openai", "anthropic", "torch", "google.genai", "google.cloud.aiplatform", "pulumi", "textual_plotext",
             "plotext", "typer")  # fmt: skip
    assert not [name for name in heavy if name in loaded]


def test_bare_tunedeck_without_a_terminal_prints_the_help_and_ui_says_it_needs_one() -> None:
    code, out, _ = run()
    assert code == ExitCode.OK and "ui" in out and "endpoints" in out
    code, _, err = run("ui", "--read-only")
    assert code == ExitCode.USAGE and "needs a terminal" in err
    code, out, _ = run("ui", "--help")
    assert code == ExitCode.OK and "--read-only" in out and "--home" in out
