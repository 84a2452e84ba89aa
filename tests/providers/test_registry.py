"""The registry builds each adapter's explicit config from config.toml, secrets and Pulumi stack outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from providers import errors
from providers.anthropic_adapter import AnthropicProvider
from providers.base import Provider
from providers.local import LocalProvider
from providers.openai_adapter import OpenAIProvider
from providers.registry import available_providers, get_provider, setup_problem
from providers.vertex.adapter import VertexProvider
from tunedeck.settings import load_settings


def _write_config(home: Path, text: str) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "config.toml").write_text(text, encoding="utf-8")


def test_every_listed_provider_builds_and_satisfies_the_protocol(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_config(isolated_home, '[vertex]\nproject = "p"\nregion = "europe-west4"\nbucket = "b"\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    expected = {"openai": OpenAIProvider, "vertex": VertexProvider, "anthropic": AnthropicProvider,
                "local": LocalProvider}  # fmt: skip
    assert sorted(available_providers()) == sorted(expected)
    for name, cls in expected.items():
        provider = get_provider(name, load_settings())
        assert isinstance(provider, cls) and isinstance(provider, Provider) and provider.name == name


def test_vertex_from_config_with_rate_overrides(isolated_home: Path) -> None:
    _write_config(
        isolated_home,
        '[vertex]\nproject = "p"\nregion = "europe-west4"\nbucket = "b"\nservice_account = "sa@p.iam"\n'
        '[endpoint_rates.vertex."n1-standard-4"]\nusd_per_hour = 0.3\n',
    )
    provider = get_provider("vertex", load_settings())
    assert isinstance(provider, VertexProvider)
    config = provider.config
    assert (config.project, config.region, config.bucket, config.service_account) == (
        "p",
        "europe-west4",
        "b",
        "sa@p.iam",
    )
    assert provider.rate_overrides == {"n1-standard-4": {"usd_per_hour": 0.3}}


def test_vertex_from_saved_stack_outputs_with_config_winning(isolated_home: Path) -> None:
    from tunedeck.workspace import Workspace

    _write_config(isolated_home, '[vertex]\nstack = "dev"\nregion = "us-east1"\n')
    workspace = Workspace.open()
    workspace.store.save_stack_outputs("dev", {
        "project": "stack-project", "region": "us-central1", "bucket_name": "stack-bucket",
        "bucket_uri": "gs://stack-bucket", "service_account_email": "tuner@stack-project.iam.gserviceaccount.com",
        "endpoint_names": [], "dataset_prefix": "datasets/",
    })  # fmt: skip
    provider = workspace.provider("vertex")
    assert isinstance(provider, VertexProvider)
    config = provider.config
    assert (config.project, config.bucket, config.region) == ("stack-project", "stack-bucket", "us-east1")
    assert config.service_account == "tuner@stack-project.iam.gserviceaccount.com"
    assert config.dataset_prefix == "datasets/"


def test_vertex_without_a_project_says_where_to_set_it() -> None:
    with pytest.raises(errors.ConfigurationError) as caught:
        get_provider("vertex", load_settings())
    assert caught.value.exit_code == 2 and "[vertex]" in caught.value.hint


def test_overrides_beat_config(isolated_home: Path) -> None:
    _write_config(isolated_home, '[vertex]\nproject = "p"\nbucket = "b"\n')
    provider = get_provider("vertex", load_settings(), project="other", api_endpoint="http://127.0.0.1:1")
    assert isinstance(provider, VertexProvider)
    assert (provider.config.project, provider.config.api_endpoint) == ("other", "http://127.0.0.1:1")


def test_openai_custom_base_url_takes_its_key_from_its_own_secret(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_config(isolated_home, '[openai]\nbase_url = "http://proxy.internal/v1"\napi_key_name = "local"\n')
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real")
    monkeypatch.setenv("TUNEDECK_LOCAL_API_KEY", "proxy-key")
    provider = get_provider("openai", load_settings())
    assert isinstance(provider, OpenAIProvider)
    assert provider.config.api_key is not None and provider.config.api_key.get_secret_value() == "proxy-key"
    monkeypatch.delenv("TUNEDECK_LOCAL_API_KEY")
    provider = get_provider("openai", load_settings())
    assert isinstance(provider, OpenAIProvider) and provider.config.api_key is None  # never falls back to sk-real


def test_local_dirs_from_config_toml_are_paths(isolated_home: Path) -> None:
    _write_config(isolated_home, '[local]\ndata_dir = "~/td-backend"\ncache_dir = "/tmp/td-cache"\n')
    provider = get_provider("local", load_settings())
    assert isinstance(provider, LocalProvider)
    assert provider.local.data_dir == Path("~/td-backend").expanduser()
    assert provider.local.cache_dir == Path("/tmp/td-cache")


def test_setup_problem_names_what_is_missing_and_clears_once_configured(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = load_settings()
    assert setup_problem("local", bare) is None
    assert "OPENAI_API_KEY" in (setup_problem("openai", bare) or "")
    assert "ANTHROPIC_API_KEY" in (setup_problem("anthropic", bare) or "")
    assert "No Google Cloud project" in (setup_problem("vertex", bare) or "")
    assert "unknown provider" in (setup_problem("bogus", bare) or "")
    # A custom base URL (a local stand-in) needs no OpenAI key: the real key is never sent there anyway.
    _write_config(isolated_home, '[openai]\nbase_url = "http://127.0.0.1:9/v1"\n[vertex]\nproject = "p"\n')
    assert setup_problem("openai", load_settings()) is None
    assert setup_problem("vertex", load_settings()) is None
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert setup_problem("openai", bare) is None
