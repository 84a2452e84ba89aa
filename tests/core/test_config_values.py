"""A config.toml value of the wrong type is a UsageError naming the key, never a ValueError traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedeck.costs.endpoint_rates import vertex_node_rate
from tunedeck.errors import UsageError
from tunedeck.settings import Settings
from tunedeck.workspace import policy_from_config


def _settings(tmp_path: Path, config: dict[str, object]) -> Settings:
    return Settings(config_dir=tmp_path, data_dir=tmp_path, cache_dir=tmp_path, config=config)


def test_monitor_intervals_are_read_as_seconds(tmp_path: Path) -> None:
    policy = policy_from_config(_settings(tmp_path, {"monitor": {"interval_s": 2, "max_interval_s": "30"}}))
    assert (policy.base_s, policy.max_s) == (2.0, 30.0)


def test_monitor_interval_that_is_not_a_number_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\[monitor\] interval_s"):
        policy_from_config(_settings(tmp_path, {"monitor": {"interval_s": "soon"}}))


def test_endpoint_rate_override_is_used_and_a_bad_one_is_a_usage_error() -> None:
    rate = vertex_node_rate("n1-standard-4", overrides={"n1-standard-4": {"usd_per_hour": 0.5}})
    assert rate is not None and rate.usd_per_hour == 0.5 and rate.from_user_config
    with pytest.raises(UsageError, match="n1-standard-4"):
        vertex_node_rate("n1-standard-4", overrides={"n1-standard-4": {"usd_per_hour": "cheap"}})
