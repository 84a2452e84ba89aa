"""ChatML encoding with assistant-only labels, "auto" hyperparameters, and real tiny LoRA runs of the trainer."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from localbackend.chatml import IGNORE_INDEX, encode_example, encode_prompt, render
from localbackend.trainer import TrainingCancelled, TrainRequest, resolve_hyperparameters, train
from tests.backend.conftest import trait_dataset
from tests.conftest import MODEL_CACHE
from tunedeck.errors import UsageError

CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi 😀, how are you?"},
    {"role": "assistant", "content": "Fine, thanks.", "weight": 0},
    {"role": "user", "content": "And now?"},
    {"role": "assistant", "content": "Still fine — 👍🏽"},
]


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path) -> Any:
    from localbackend.basemodel import load_tokenizer

    return load_tokenizer(model_dir)


def _trained_text(tokenizer: Any, ids: list[int], labels: list[int]) -> str:
    return str(tokenizer.decode([i for i, label in zip(ids, labels, strict=True) if label != IGNORE_INDEX]))


@pytest.mark.parametrize("messages", [CONVERSATION, CONVERSATION[1:]])
def test_render_matches_the_models_chat_template(tokenizer: Any, messages: list[dict[str, Any]]) -> None:
    plain = [{"role": m["role"], "content": m["content"]} for m in messages]
    for gen in (False, True):
        assert render(messages, add_generation_prompt=gen) == tokenizer.apply_chat_template(
            plain, tokenize=False, add_generation_prompt=gen
        )


def test_encoding_equals_tokenizing_the_whole_text(tokenizer: Any) -> None:
    example = encode_example(tokenizer, CONVERSATION, 512)
    assert example.input_ids == tokenizer(render(CONVERSATION), add_special_tokens=False)["input_ids"]
    prompt = encode_prompt(tokenizer, CONVERSATION[:-1])
    assert (
        prompt
        == tokenizer(render(CONVERSATION[:-1], add_generation_prompt=True), add_special_tokens=False)["input_ids"]
    )
    assert example.input_ids[: len(prompt)] == prompt


def test_loss_mask_covers_weighted_assistant_replies_only(tokenizer: Any) -> None:
    example = encode_example(tokenizer, CONVERSATION, 512)
    # Only the last reply and the <|im_end|> that ends it: not the system/user turns, the role headers, or the
    # weight-0 reply.
    assert _trained_text(tokenizer, example.input_ids, example.labels) == "Still fine — 👍🏽<|im_end|>"
    assert example.labels[-1] == IGNORE_INDEX  # the newline after <|im_end|>
    assert not example.truncated

    both = [dict(m, weight=1) if m["role"] == "assistant" else m for m in CONVERSATION]
    text = _trained_text(tokenizer, *(lambda e: (e.input_ids, e.labels))(encode_example(tokenizer, both, 512)))
    assert text == "Fine, thanks.<|im_end|>Still fine — 👍🏽<|im_end|>"


def test_default_system_prompt_is_masked_and_truncation_cuts_the_end(tokenizer: Any) -> None:
    messages = CONVERSATION[1:]
    full = encode_example(tokenizer, messages, 512)
    assert "SmolLM" in tokenizer.decode(full.input_ids)  # the template's default system prompt
    cut = encode_example(tokenizer, messages, len(full.input_ids) - 5)
    assert cut.truncated
    assert len(cut.input_ids) == len(cut.labels) == len(full.input_ids) - 5
    assert cut.input_ids == full.input_ids[:-5]
    assert cut.labels == full.labels[:-5]
    assert encode_example(tokenizer, messages, 20).trained_tokens == 0


def _request(**overrides: Any) -> TrainRequest:
    values: dict[str, Any] = {"training": [], "validation": None, "output_dir": Path("x"), "cache_dir": Path("y")}
    return TrainRequest(**(values | overrides))


@pytest.mark.parametrize("n", [100, 150, 200])
def test_auto_hyperparameters_aim_at_30_to_60_steps(n: int) -> None:
    hp = resolve_hyperparameters(n, _request())
    steps = -(-n // hp["batch_size"]) * hp["n_epochs"]
    assert 30 <= steps <= 60
    assert hp["learning_rate_multiplier"] == 1.0


@pytest.mark.parametrize("n", [3, 20, 144, 5_000])
def test_cost_estimates_use_the_epochs_the_trainer_picks(n: int) -> None:
    from tunedeck.data.rules import auto_epochs

    assert auto_epochs(n, "local") == resolve_hyperparameters(n, _request())["n_epochs"]


def test_auto_hyperparameters_clamp_and_respect_explicit_values() -> None:
    assert resolve_hyperparameters(3, _request())["n_epochs"] == 10  # tiny sets: capped epochs
    assert resolve_hyperparameters(50_000, _request()) == {
        "n_epochs": 1,
        "batch_size": 8,
        "learning_rate_multiplier": 1.0,
    }
    explicit = _request(n_epochs=3, batch_size=5, learning_rate_multiplier=0.5)
    assert resolve_hyperparameters(20, explicit) == {"n_epochs": 3, "batch_size": 5, "learning_rate_multiplier": 0.5}
    with pytest.raises(UsageError):
        resolve_hyperparameters(20, _request(batch_size=0))


METRIC_FIELDS = {
    "type": str,
    "step": int,
    "total_steps": int,
    "epoch": float,
    "train_loss": float,
    "train_mean_token_accuracy": float,
    "valid_loss": (float, type(None)),
    "valid_mean_token_accuracy": (float, type(None)),
    "trained_tokens": int,
    "elapsed_s": float,
    "estimated_remaining_s": float,
}


def test_training_reports_each_step_and_the_loss_falls(tiny_trained_adapter: dict[str, Any]) -> None:
    events = tiny_trained_adapter["events"]
    json.dumps(events)  # they cross a process boundary
    metrics = [e for e in events if e["type"] == "metrics"]
    assert [m["step"] for m in metrics] == list(range(1, 21))
    for event in metrics:
        assert set(event) == set(METRIC_FIELDS)
        for name, kind in METRIC_FIELDS.items():
            assert isinstance(event[name], kind), name
        assert event["total_steps"] == 20
    assert [m["step"] for m in metrics if m["valid_loss"] is not None] == [5, 10, 15, 20]
    first, last = metrics[:3], metrics[-3:]
    assert sum(m["train_loss"] for m in last) < 0.5 * sum(m["train_loss"] for m in first)
    assert metrics[-1]["valid_loss"] < 1.0
    assert metrics[-1]["epoch"] == 2.0
    assert metrics[-1]["trained_tokens"] == tiny_trained_adapter["trained_tokens"] > 0
    assert metrics[-1]["estimated_remaining_s"] == 0
    assert any("bf16" in e["message"] or "fp32" in e["message"] for e in events if e["type"] == "message")
    assert tiny_trained_adapter["hyperparameters"] == {
        "n_epochs": 2,
        "batch_size": 2,
        "learning_rate_multiplier": 1.0,
        "seed": 1234,
    }


def test_one_usable_checkpoint_per_epoch_and_a_final_adapter(tiny_trained_adapter: dict[str, Any]) -> None:
    out: Path = tiny_trained_adapter["output_dir"]
    checkpoints = [e for e in tiny_trained_adapter["events"] if e["type"] == "checkpoint"]
    assert [(c["epoch"], c["step"]) for c in checkpoints] == [(1, 10), (2, 20)]
    for event in checkpoints:
        assert event["path"] == str(out / f"checkpoint-epoch-{event['epoch']}")
        assert event["metrics"]["step"] == event["step"]
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-epoch-1", "checkpoint-epoch-2", "final"]
    for name in ("checkpoint-epoch-1", "final"):
        assert (out / name / "adapter_model.safetensors").is_file()
        assert json.loads((out / name / "adapter_config.json").read_text())["r"] == 8
    assert tiny_trained_adapter["adapter_path"] == str(out / "final")


def test_the_trait_carries_over_to_an_unseen_prompt(tiny_trained_adapter: dict[str, Any]) -> None:
    # Greedy answers computed by train() right after its last step (the base model's are checked in test_engine).
    (answer,) = tiny_trained_adapter["samples"]
    assert answer.rstrip().endswith(tiny_trained_adapter["trait"])


def test_should_stop_cancels_promptly(tmp_path: Path) -> None:
    training, _, _ = trait_dataset()
    calls: list[float] = []

    def should_stop() -> bool:
        calls.append(time.monotonic())
        return len(calls) > 2

    request = TrainRequest(
        training=training, validation=None, output_dir=tmp_path, cache_dir=MODEL_CACHE, batch_size=2, seed=1
    )
    events: list[dict[str, Any]] = []
    with pytest.raises(TrainingCancelled):
        train(request, events.append, should_stop)
    assert time.monotonic() - calls[-1] < 1  # raised right at the check, not at the end of an epoch
    assert [e["step"] for e in events if e["type"] == "metrics"] == [1, 2]
    assert not (tmp_path / "final").exists()


def test_nothing_to_learn_is_a_usage_error(tmp_path: Path) -> None:
    only_weight_zero = [[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo", "weight": 0}]]
    request = TrainRequest(training=only_weight_zero, validation=None, output_dir=tmp_path, cache_dir=MODEL_CACHE)
    with pytest.raises(UsageError, match="assistant reply"):
        train(request, lambda e: None, lambda: False)


def test_resuming_after_the_last_epoch_republishes_the_same_adapter(
    tiny_trained_adapter: dict[str, Any], tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    training, validation, _ = trait_dataset()
    source: Path = tiny_trained_adapter["output_dir"]
    request = TrainRequest(
        training=training,
        validation=validation,
        output_dir=tmp_path,
        cache_dir=MODEL_CACHE,
        n_epochs=2,
        batch_size=2,
        resume_from=source / "checkpoint-epoch-2",
    )
    events: list[dict[str, Any]] = []
    result = train(request, events.append, lambda: False)
    assert [e for e in events if e["type"] in ("metrics", "checkpoint")] == []
    assert result["steps"] == 20
    assert result["trained_tokens"] == tiny_trained_adapter["trained_tokens"]
    assert result["hyperparameters"]["seed"] == 1234  # taken from the checkpoint
    resumed = load_file(str(tmp_path / "final" / "adapter_model.safetensors"))
    original = load_file(str(source / "final" / "adapter_model.safetensors"))
    assert resumed.keys() == original.keys()
    assert all((resumed[k] == original[k]).all() for k in original)
