"""Request bodies of `/v1/fine_tuning/jobs`: OpenAI's shape plus the local backend's LoRA options.

LoRA options go beside OpenAI's hyperparameters, in `method.supervised.hyperparameters` (or the older
top-level `hyperparameters`): `lora_rank`, `lora_alpha`, `lora_targets`, `max_seq_len`, `eval_every`.
Any other key is rejected with a 400 naming it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from localbackend.server.params import Range

# Hyperparameters OpenAI knows; the rest of `Hyperparameters`' fields are local options for the trainer.
OPENAI_HYPERPARAMETERS = ("n_epochs", "batch_size", "learning_rate_multiplier")


class Hyperparameters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_epochs: Annotated[Literal["auto"] | int, Range(1, 50, auto=True)] = "auto"
    batch_size: Annotated[Literal["auto"] | int, Range(1, 256, auto=True)] = "auto"
    learning_rate_multiplier: Annotated[
        Literal["auto"] | float, Range(0, 100, integer=False, low_exclusive=True, auto=True)
    ] = "auto"
    lora_rank: Annotated[int | None, Field(ge=1, le=256)] = None
    lora_alpha: Annotated[int | None, Field(ge=1, le=1024)] = None
    lora_targets: Annotated[list[str] | None, Field(min_length=1, max_length=32)] = None
    max_seq_len: Annotated[int | None, Field(ge=16, le=8192)] = None
    eval_every: Annotated[int | None, Field(ge=1)] = None

    def split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """(OpenAI hyperparameters, local trainer options), options only where the client set them."""
        values = self.model_dump()
        openai = {key: values[key] for key in OPENAI_HYPERPARAMETERS}
        options = {
            key: value for key, value in values.items() if key not in OPENAI_HYPERPARAMETERS and value is not None
        }
        return openai, options


class Supervised(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hyperparameters: Hyperparameters = Field(default_factory=lambda: Hyperparameters())


class Method(BaseModel):
    model_config = ConfigDict(extra="allow")  # dpo/reinforcement bodies are refused by `type`, not by shape

    type: str
    supervised: Supervised | None = None


class CreateJobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    training_file: str
    validation_file: str | None = None
    suffix: Annotated[str | None, Field(max_length=64)] = None
    seed: Annotated[int | None, Range(0, 2**31 - 1, optional=True)] = None
    metadata: Annotated[dict[str, str] | None, Field(max_length=16)] = None
    method: Method | None = None
    hyperparameters: Hyperparameters | None = None
    integrations: list[dict[str, Any]] | None = None
