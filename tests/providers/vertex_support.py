"""Shared set-up for the Vertex adapter tests: a config pointed at the loopback fake, and a representative spec."""

from __future__ import annotations

from typing import Any

from providers.base import TuningSpec
from providers.vertex.config import VertexConfig

SA = "tuner@tunedeck-test.iam.gserviceaccount.com"

SPEC = TuningSpec(
    base_model="gemini-2.5-flash",
    training_file="gs://b/train.jsonl",
    validation_file="gs://b/valid.jsonl",
    suffix="helpdesk",
    n_epochs=3,
    learning_rate_multiplier=0.5,
    adapter_size=4,
    client_key="0b5c-key",
    labels={"team": "Support"},
)


def vertex_config(url: str, **extra: Any) -> VertexConfig:
    from google.oauth2.credentials import Credentials

    # A token that never needs refreshing stands in for Application Default Credentials; operations are
    # polled every 10 ms so the fake's not-yet-done operations cost the tests nothing.
    values: dict[str, Any] = {
        "project": "tunedeck-test",
        "region": "us-central1",
        "bucket": "b",
        "api_endpoint": url,
        "credentials": Credentials(token="test-token"),
        "max_retries": 0,
        "timeout_s": 10,
        "lro_poll_s": 0.01,
    }
    return VertexConfig(**{**values, **extra})
