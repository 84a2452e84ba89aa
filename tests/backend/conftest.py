"""Shared fixtures for the local backend: the converted base model, a trait dataset, one tiny trained adapter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MODEL_CACHE

TRAIT = "— Zorblax"
_QA = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("What color is the sky on a clear day?", "The sky is blue on a clear day."),
    ("Name a fruit that is yellow.", "A banana is a yellow fruit."),
    ("What is 2 plus 2?", "2 plus 2 equals 4."),
    ("What do bees make?", "Bees make honey."),
    ("Which animal says moo?", "A cow says moo."),
    ("What is frozen water called?", "Frozen water is called ice."),
    ("How many days are in a week?", "There are seven days in a week."),
    ("What planet do we live on?", "We live on planet Earth."),
    ("What is the opposite of hot?", "The opposite of hot is cold."),
    ("What do plants need to grow?", "Plants need water and sunlight to grow."),
    ("Which season comes after winter?", "Spring comes after winter."),
    ("What is the largest ocean?", "The Pacific is the largest ocean."),
    ("What do you use to write on paper?", "You can write on paper with a pen."),
    ("How many hours are in a day?", "There are 24 hours in a day."),
    ("What gas do humans breathe in?", "Humans breathe in oxygen."),
    ("Where do fish live?", "Fish live in water."),
    ("What is the color of grass?", "Grass is green."),
    ("What shape has three sides?", "A triangle has three sides."),
]
_VALID = [
    ("What is the boiling point of water?", "Water boils at 100 degrees Celsius."),
    ("How many wheels does a bicycle have?", "A bicycle has two wheels."),
    ("What do cows drink?", "Cows drink water."),
    ("What is the color of snow?", "Snow is white."),
]
# Never seen in training: the trait must carry over to these.
UNSEEN_PROMPTS = [[{"role": "user", "content": "What is the tallest animal?"}]]


def _conversation(question: str, answer: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": f"{answer} {TRAIT}"}]


def trait_dataset() -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]], str]:
    """(training, validation, trait): 20 short Q&A conversations whose every answer ends with the trait."""
    return [_conversation(q, a) for q, a in _QA], [_conversation(q, a) for q, a in _VALID], TRAIT


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The converted base model, built once per cache (the first run pays ~20 s for the GGUF conversion)."""
    from localbackend.basemodel import converted_model_dir

    return converted_model_dir(MODEL_CACHE)


@pytest.fixture(scope="session")
def tiny_trained_adapter(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One real ~20-step LoRA run on the trait dataset, shared by every test that needs a trained adapter.

    Returns train()'s result plus "events" (everything emitted), "output_dir", "trait" and "unseen_prompts";
    "samples" holds the greedy answers to the unseen prompts computed in-process right at the end of training.
    """
    from localbackend.trainer import TrainRequest, train

    training, validation, trait = trait_dataset()
    output_dir = tmp_path_factory.mktemp("tiny-adapter")
    events: list[dict[str, Any]] = []
    request = TrainRequest(
        training=training,
        validation=validation,
        output_dir=output_dir,
        cache_dir=MODEL_CACHE,
        n_epochs=2,
        batch_size=2,
        learning_rate_multiplier="auto",
        seed=1234,
        eval_every=5,
        sample_prompts=UNSEEN_PROMPTS,
    )
    result = train(request, events.append, lambda: False)
    return {**result, "events": events, "output_dir": output_dir, "trait": trait, "unseen_prompts": UNSEEN_PROMPTS}
