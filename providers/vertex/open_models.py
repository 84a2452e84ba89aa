"""Open models Vertex tunes on its own infrastructure: the supported list (data, dated), and the dataset format
open-model tuning takes.

The list lives in `open_models.toml` beside this module, with the date and source of Vertex's table, and can be
extended from config.toml (`[vertex.open_models."publisher/family@model"]`) when Vertex adds a model first.
"""

from __future__ import annotations

import functools
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from providers import errors

MODES = ("lora", "full")
_API_MODES = {"lora": "TUNING_MODE_PEFT_ADAPTER", "full": "TUNING_MODE_FULL"}
ARTIFACT_SUFFIX = "postprocess/node-0/checkpoints/final"
"""Where, under a job's output URI, open-model tuning leaves the final weights (safetensors + config)."""


@dataclass(frozen=True)
class Serving:
    machine_type: str
    accelerator_type: str = ""
    accelerator_count: int = 0


@dataclass(frozen=True)
class OpenModel:
    id: str
    """The Model Garden id tuning takes, e.g. meta/llama3_1@llama-3.1-8b-instruct."""
    name: str
    modes: tuple[str, ...]
    max_sequence_length: int | None = None
    learning_rates: Mapping[str, float] = field(default_factory=dict)
    serving: Serving | None = None

    def api_mode(self, mode: str) -> str:
        return _API_MODES[mode]


@dataclass(frozen=True)
class ServingContainer:
    image_uri: str
    predict_route: str
    health_route: str
    port: int
    shared_memory_mb: int
    as_of: str
    source: str


@functools.cache
def _table() -> dict[str, Any]:
    text = resources.files("providers.vertex").joinpath("open_models.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def as_of() -> str:
    return str(_table()["meta"]["as_of"])


def source() -> str:
    return str(_table()["meta"]["source"])


def tuning_regions() -> tuple[str, ...]:
    return tuple(_table()["meta"]["regions"])


def serving_container() -> ServingContainer:
    raw = _table()["serving_container"]
    return ServingContainer(
        image_uri=raw["image_uri"],
        predict_route=raw["predict_route"],
        health_route=raw["health_route"],
        port=int(raw["port"]),
        shared_memory_mb=int(raw["shared_memory_mb"]),
        as_of=str(raw["as_of"]),
        source=str(raw["source"]),
    )


def looks_open(base_model: str) -> bool:
    """Model Garden ids (`publisher/family@model`) are open models; Gemini ids are bare names."""
    return "/" in base_model and "@" in base_model and not base_model.startswith("projects/")


def _model(model_id: str, raw: Mapping[str, Any]) -> OpenModel:
    serving = raw.get("serving")
    modes = tuple(str(m) for m in raw.get("modes", MODES))
    if not modes or set(modes) - set(MODES):
        raise errors.ConfigurationError(
            f"Open model {model_id}: modes must be among {', '.join(MODES)} (got {list(modes)}).",
            "Fix [vertex.open_models] in config.toml.",
            provider="vertex",
        )
    return OpenModel(
        id=model_id,
        name=str(raw.get("name", model_id)),
        modes=modes,
        max_sequence_length=raw.get("max_sequence_length"),
        learning_rates={str(k): float(v) for k, v in dict(raw.get("learning_rate", {})).items()},
        serving=Serving(
            str(serving["machine_type"]),
            str(serving.get("accelerator_type", "")),
            int(serving.get("accelerator_count", 0)),
        )
        if isinstance(serving, Mapping) and serving.get("machine_type")
        else None,
    )


def supported(overrides: Mapping[str, Any] | None = None) -> dict[str, OpenModel]:
    """The shipped list plus config.toml's additions (which win)."""
    table = {**_table()["models"], **dict(overrides or {})}
    return {model_id: _model(model_id, raw) for model_id, raw in table.items() if isinstance(raw, Mapping)}


def find(base_model: str, overrides: Mapping[str, Any] | None = None) -> OpenModel:
    """The open model `base_model` names, or a clear refusal naming the list's date and what is supported."""
    models = supported(overrides)
    if base_model in models:
        return models[base_model]
    listed = ", ".join(sorted(models))
    raise errors.InvalidRequestError(
        f"{base_model} is not in tunedeck's list of open models Vertex can tune (as of {as_of()}).",
        f"Supported: {listed}. If Vertex has added it since ({source()}), add it under "
        f'[vertex.open_models."{base_model}"] in config.toml.',
        provider="vertex",
    )


def choose_mode(model: OpenModel, requested: str | None, adapter_size: int | None) -> str:
    """LoRA when asked for (or implied by an adapter size), full when asked for; by default LoRA where the
    model offers it (cheaper, and Vertex's own advice for small datasets), else full."""
    mode = (requested or ("lora" if adapter_size else "")).lower() or ("lora" if "lora" in model.modes else "full")
    if mode not in MODES:
        raise errors.InvalidRequestError(
            f"Unknown tuning mode {requested!r}.", f"Choose one of: {', '.join(MODES)}.", provider="vertex"
        )
    if mode not in model.modes:
        raise errors.InvalidRequestError(
            f"Vertex tunes {model.name} only with {' or '.join(model.modes)} (not {mode}).",
            "Pick a supported tuning mode, or another base model.",
            provider="vertex",
        )
    if adapter_size and mode != "lora":
        raise errors.InvalidRequestError(
            "An adapter size only applies to LoRA tuning.",
            "Drop the adapter size or tune with LoRA.",
            provider="vertex",
        )
    return mode


def learning_rate(model: OpenModel, mode: str, multiplier: float | str) -> float | None:
    """The absolute rate open-model tuning takes: the model's documented starting rate scaled by the multiplier;
    None (Vertex's default) when no multiplier is given and none is documented."""
    base = model.learning_rates.get(mode)
    if not isinstance(multiplier, int | float):
        return base
    if base is None:
        raise errors.InvalidRequestError(
            f"No starting learning rate is documented for {model.name} ({mode}): a multiplier has nothing to scale.",
            f'Leave the multiplier at auto, or add learning_rate under [vertex.open_models."{model.id}"].',
            provider="vertex",
        )
    return base * float(multiplier)


def chat_dataset(path: Path, workdir: Path) -> Path:
    """`path` in the turn-based chat format open-model tuning accepts (OpenAI-style `messages`), converting
    from tunedeck's other formats; the same path when it already is one."""
    from tunedeck.data.convert import convert_file  # deferred: only open-model submissions convert
    from tunedeck.data.formats import DatasetFormat, detect_format

    if detect_format(path) is DatasetFormat.OPENAI_CHAT:
        return path
    target = workdir / f"{path.stem}.messages.jsonl"
    result = convert_file(path, target, DatasetFormat.OPENAI_CHAT)
    if result.n_written == 0:
        raise errors.InvalidRequestError(
            f"{path.name} has no example that converts to the chat format open-model tuning accepts.",
            "Run `tunedeck data validate` on it and fix the reported lines.",
            provider="vertex",
        )
    return target


def chat_dataset_uri(config: Any, uri: str) -> str:
    """The gs:// URI of `uri`'s content in chat format: downloaded, converted when needed, and uploaded once
    (content-addressed, so a retried submit finds the converted copy already there)."""
    from providers.vertex import gcs

    if not uri.startswith("gs://"):
        return uri
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    with tempfile.TemporaryDirectory(prefix="tunedeck-vertex-") as tmp:
        local = Path(tmp) / Path(name).name
        gcs.download(config, bucket, name, local)
        converted = chat_dataset(local, Path(tmp))
        return uri if converted == local else gcs.upload_dataset(config, converted)
