"""Build a provider adapter by name from settings and secrets: the one place adapters get their config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from providers import errors

if TYPE_CHECKING:
    from providers.anthropic_adapter import AnthropicConfig
    from providers.base import Capabilities, Provider
    from providers.local import LocalConfig
    from providers.openai_adapter import OpenAIConfig
    from providers.vertex.config import VertexConfig
    from tunedeck.settings import Settings


# Adapter modules are imported on demand: building one provider never loads the others (nor their SDKs).


def _secret(value: Any) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(str(value))


def openai_config(settings: Settings, **overrides: Any) -> OpenAIConfig:
    """`[openai]` in config.toml, OPENAI_API_KEY — but a custom `base_url` gets only its own key.

    A custom base URL (a proxy, a self-hosted server) must never receive the real OpenAI key, so its key
    comes from `api_key=` or from the keyring/environment entry named by `[openai] api_key_name`.
    """
    from providers.openai_adapter import OPENAI_BASE_URL, OpenAIConfig
    from tunedeck.settings import SECRET_ENV_VARS, get_secret

    section = {**settings.section("openai"), **overrides}
    base_url = str(section.get("base_url") or OPENAI_BASE_URL)
    official = OpenAIConfig(base_url=base_url).is_official
    api_key = _secret(section.get("api_key"))
    # Named in error hints: the secret meant for a custom base URL ("openai" is never sent there).
    named = section.get("api_key_name")
    key_name = None if official or api_key is not None or named == "openai" else named
    if api_key is None:
        if official:
            api_key = get_secret("openai")
        elif section.get("api_key_name") and section["api_key_name"] != "openai":
            api_key = get_secret(str(section["api_key_name"]))
    return OpenAIConfig(
        api_key=api_key,
        base_url=base_url,
        organization=section.get("organization"),
        timeout_s=float(section.get("timeout_s", 60.0)),
        max_retries=int(section.get("max_retries", 2)),
        api_key_name=str(key_name) if key_name else None,
        api_key_env=SECRET_ENV_VARS.get(str(key_name)) if key_name else None,
    )


def anthropic_config(settings: Settings, **overrides: Any) -> AnthropicConfig:
    from providers.anthropic_adapter import ANTHROPIC_BASE_URL, AnthropicConfig
    from tunedeck.settings import get_secret

    section = {**settings.section("anthropic"), **overrides}
    base_url = str(section.get("base_url") or ANTHROPIC_BASE_URL)
    api_key = _secret(section.get("api_key"))
    if api_key is None and AnthropicConfig(base_url=base_url).is_official:
        api_key = get_secret("anthropic")  # same rule as OpenAI: the real key only goes to the real host
    return AnthropicConfig(
        api_key=api_key,
        base_url=base_url,
        timeout_s=float(section.get("timeout_s", 60.0)),
        max_retries=int(section.get("max_retries", 2)),
    )


def vertex_config(settings: Settings, **overrides: Any) -> VertexConfig:
    """`[vertex]` in config.toml, then `overrides` (tests pass endpoints here; the workspace passes the Pulumi
    stack's outputs for whatever the section leaves out, read with the environment `infra up` used)."""
    from providers.vertex.config import from_mapping

    section = {**settings.section("vertex"), **overrides}
    config: VertexConfig = from_mapping(section)
    return config


def _seconds(value: Any, key: str) -> float | None:
    """`[local] idle_exit`: seconds as a number or "90s" / "10m" / "1h"; 0 or false means never."""
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if isinstance(value, str) and value.strip()[-1:].lower() in units:
            number = float(value.strip()[:-1]) * units[value.strip()[-1].lower()]
        else:
            number = float(value)
    except (TypeError, ValueError):
        raise errors.ConfigurationError(
            f"[local] {key} = {value!r} is not a duration.",
            'Give seconds (600) or a duration such as "10m", "90s" or "1h"; 0 turns it off.',
            provider="local",
        ) from None
    return number if number > 0 else None


def _positive_int(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise errors.ConfigurationError(
            f"[local] {key} = {value!r} is not a whole number of at least 1.",
            f"Set {key} to 1 or more, or remove it to let the local backend decide from the CPU count.",
            provider="local",
        )
    return value


def local_config(settings: Settings, **overrides: Any) -> LocalConfig:
    from providers.local import LocalConfig
    from tunedeck.settings import get_secret

    section = {**settings.section("local"), **overrides}
    # config.toml gives strings; LocalConfig's consumers need Paths.
    data_dir, cache_dir = section.get("data_dir"), section.get("cache_dir")
    return LocalConfig(
        data_dir=Path(data_dir).expanduser() if data_dir else settings.data_dir / "local-backend",
        cache_dir=Path(cache_dir).expanduser() if cache_dir else settings.cache_dir,
        base_url=section.get("base_url"),
        api_key=_secret(section.get("api_key")) or get_secret("local"),
        autostart=bool(section.get("autostart", True)),
        start_timeout_s=float(section.get("start_timeout_s", 60.0)),
        stop_at_exit=bool(section.get("stop_at_exit", True)),
        idle_exit_s=_seconds(section.get("idle_exit", 600), "idle_exit"),
        max_concurrent_jobs=_positive_int(section.get("max_concurrent_jobs"), "max_concurrent_jobs"),
    )


def _build_openai(settings: Settings, overrides: dict[str, Any]) -> Provider:
    from providers.openai_adapter import OpenAIProvider

    return OpenAIProvider(openai_config(settings, **overrides))


def _build_anthropic(settings: Settings, overrides: dict[str, Any]) -> Provider:
    from providers.anthropic_adapter import AnthropicProvider

    return AnthropicProvider(anthropic_config(settings, **overrides))


def _build_vertex(settings: Settings, overrides: dict[str, Any]) -> Provider:
    from providers.vertex.adapter import VertexProvider

    rates = settings.section("endpoint_rates").get("vertex")
    return VertexProvider(
        vertex_config(settings, **overrides), rate_overrides=rates if isinstance(rates, dict) else None
    )


def _build_local(settings: Settings, overrides: dict[str, Any]) -> Provider:
    from providers.local import LocalProvider

    return LocalProvider(local_config(settings, **overrides))


_BUILDERS: dict[str, Callable[[Settings, dict[str, Any]], Provider]] = {
    "openai": _build_openai,
    "vertex": _build_vertex,
    "anthropic": _build_anthropic,
    "local": _build_local,
}


def available_providers() -> list[str]:
    return list(_BUILDERS)


def capabilities(name: str) -> Capabilities:
    """What `name` can do, without building (or importing) its adapter."""
    from providers.capabilities import CAPABILITIES

    try:
        return CAPABILITIES[name]
    except KeyError:
        raise errors.NotSupportedError(
            f"Unknown provider {name!r}.", f"Choose one of: {', '.join(_BUILDERS)}.", provider=name
        ) from None


_NO_KEY = "not configured: set {var}, or put the key in the OS keyring (service tunedeck, name {name})"


def setup_problem(name: str, settings: Settings, **overrides: Any) -> str | None:
    """Why `name` cannot be used as configured now (no key for the official API, no Vertex project), or None.

    Reads configuration only: no adapter is built and no service is asked, so a picker can call it freely."""
    if name not in _BUILDERS:
        return f"unknown provider {name!r}"
    try:
        if name == "openai":
            openai = openai_config(settings, **overrides)
            if openai.api_key is None and openai.is_official:
                return _NO_KEY.format(var="OPENAI_API_KEY", name="openai")
        elif name == "anthropic":
            anthropic = anthropic_config(settings, **overrides)
            if anthropic.api_key is None and anthropic.is_official:
                return _NO_KEY.format(var="ANTHROPIC_API_KEY", name="anthropic")
        elif name == "vertex":
            vertex_config(settings, **overrides)
        else:
            local_config(settings, **overrides)
    except errors.ConfigurationError as exc:
        return f"not configured: {exc.title}"
    return None


def get_provider(name: str, settings: Settings, **overrides: Any) -> Provider:
    """An adapter for `name`; `overrides` replace config.toml keys (base_url=, api_key=, project=, …)."""
    try:
        builder = _BUILDERS[name]
    except KeyError:
        raise errors.NotSupportedError(
            f"Unknown provider {name!r}.", f"Choose one of: {', '.join(_BUILDERS)}.", provider=name
        ) from None
    return builder(settings, dict(overrides))
