from __future__ import annotations

import subprocess
import sys

from tunedeck.settings import load_settings


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tunedeck", *args], capture_output=True, text=True, timeout=60)


def test_version_and_help() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("tunedeck ")
    help_result = run_cli("--help")
    assert help_result.returncode == 0
    assert "data" in help_result.stdout


def test_unknown_command_is_usage_error() -> None:
    assert run_cli("no-such-command").returncode == 2


def test_settings_follow_tunedeck_home(isolated_home) -> None:
    settings = load_settings()
    assert settings.data_dir == isolated_home / "data"
    assert settings.config == {}


def test_bad_config_file_is_a_clear_error(isolated_home) -> None:
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("prices = [unclosed", encoding="utf-8")
    result = run_cli("data", "--help")
    assert result.returncode == 0  # help never needs config
    from tunedeck.errors import UsageError

    try:
        load_settings()
    except UsageError as error:
        assert "config.toml" in error.title
    else:
        raise AssertionError("a broken config.toml must raise UsageError")
