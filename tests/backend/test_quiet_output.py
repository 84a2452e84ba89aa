"""Issue 11, item 12: transformers' FutureWarning about `is_gradient_checkpointing` (peft reads it each time it
wraps a model, for training or for a chat with an adapter) no longer reaches the server's output."""

from __future__ import annotations

import warnings

from localbackend import basemodel


def tiny_model():  # type: ignore[no-untyped-def]
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=16, hidden_size=8, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=16,
    )  # fmt: skip
    return LlamaForCausalLM(config)


def deprecation_warnings(quiet: bool) -> list[str]:
    model = tiny_model()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        if quiet:
            basemodel.offline()  # what every load in the worker and the server goes through first
        assert model.is_gradient_checkpointing is False  # as peft reads it
    return [str(w.message) for w in seen if issubclass(w.category, FutureWarning)]


def test_the_checkpointing_future_warning_is_silenced_and_only_it() -> None:
    assert any("is_gradient_checkpointing" in m for m in deprecation_warnings(quiet=False))  # it does warn
    assert deprecation_warnings(quiet=True) == []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        basemodel.offline()
        warnings.warn("another deprecation", FutureWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["another deprecation"]
