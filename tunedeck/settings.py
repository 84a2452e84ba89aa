"""Where tunedeck keeps its files and what the user configured: the only module that reads the environment.

Layout (each overridable): config in `config_dir/config.toml`, the store and local backend data under
`data_dir`, converted model weights under `cache_dir`. `TUNEDECK_HOME=D` puts all three under D, which
is what tests use to stay away from the user's real files.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tunedeck.errors import UsageError

ENV_PREFIX = "TUNEDECK_"

# Names of secrets tunedeck may need, with the environment variable that provides each.
SECRET_ENV_VARS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "local": "TUNEDECK_LOCAL_API_KEY",
}
KEYRING_SERVICE = "tunedeck"


class Settings(BaseModel):
    """Resolved settings, passed explicitly to the core, providers and infra."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    config: dict[str, Any] = Field(default_factory=dict)
    """The parsed `config.toml` (sections such as `[prices]`, `[local]`, `[vertex]`)."""
    pulumi_env: dict[str, str] = Field(default_factory=dict, repr=False, exclude=True)
    """The caller's `PULUMI_*` variables (backend URL, access token, config passphrase), read here once so
    `infra up` and the Vertex adapter's reading of stack outputs reach the same backend. Kept out of repr and
    dumps: PULUMI_ACCESS_TOKEN is a secret."""

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name, {})
        return value if isinstance(value, dict) else {}


def _default_dirs(env: Mapping[str, str]) -> tuple[Path, Path, Path]:
    home = env.get(f"{ENV_PREFIX}HOME")
    if home:
        root = Path(home).expanduser()
        return root / "config", root / "data", root / "cache"
    import platformdirs  # deferred: only needed when no TUNEDECK_HOME is set

    return (
        Path(platformdirs.user_config_dir("tunedeck")),
        Path(platformdirs.user_data_dir("tunedeck")),
        Path(platformdirs.user_cache_dir("tunedeck")),
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the environment and the config file once; everything else receives the result."""
    env = os.environ if env is None else env
    config_dir, data_dir, cache_dir = _default_dirs(env)
    config_dir = Path(env.get(f"{ENV_PREFIX}CONFIG_DIR", config_dir)).expanduser()
    data_dir = Path(env.get(f"{ENV_PREFIX}DATA_DIR", data_dir)).expanduser()
    cache_dir = Path(env.get(f"{ENV_PREFIX}CACHE_DIR", cache_dir)).expanduser()
    config_file = config_dir / "config.toml"
    config: dict[str, Any] = {}
    if config_file.is_file():
        try:
            config = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(
                f"{config_file} is not valid TOML: {exc}.",
                "Fix the file or move it aside; tunedeck runs with defaults without it.",
            ) from exc
    pulumi_env = {name: value for name, value in env.items() if name.startswith("PULUMI_")}
    return Settings(config_dir=config_dir, data_dir=data_dir, cache_dir=cache_dir, config=config, pulumi_env=pulumi_env)


def get_secret(name: str, env: Mapping[str, str] | None = None) -> SecretStr | None:
    """An API key from the environment, else from the OS keyring; never from a file tunedeck writes."""
    env = os.environ if env is None else env
    var = SECRET_ENV_VARS.get(name)
    if var and env.get(var):
        return SecretStr(env[var])
    try:
        import keyring  # deferred: keyring probes backends on import

        value = keyring.get_password(KEYRING_SERVICE, name)
    except Exception:  # no usable keyring backend is the common case on servers
        return None
    return SecretStr(value) if value else None


def debug_enabled(env: Mapping[str, str] | None = None) -> bool:
    """TUNEDECK_DEBUG=1: internal errors also print their traceback (they always go to a crash log)."""
    env = os.environ if env is None else env
    return env.get(f"{ENV_PREFIX}DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}
