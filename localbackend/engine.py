"""The chat engine: one shared base model, LoRA adapters served unmerged and swapped by name, streamed answers.

Adapters are never merged: folding a LoRA into bf16 weights changes some greedy tokens, and a served model
must answer exactly as it did at the end of training (the trainer's samples use the same generation code).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localbackend.device import ComputePlan, Precision

if TYPE_CHECKING:
    from localbackend.batching import Batcher

BASE_NAME = "base"


@dataclass
class GenerationChunk:
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


@dataclass
class LoadedModel:
    name: str
    adapter_path: Path | None
    memory_bytes: int
    loaded_at: float
    last_used_at: float


@dataclass
class _Adapter:
    peft_name: str  # peft keeps adapters in ModuleDicts, whose keys cannot hold the dots of a path
    info: LoadedModel


def _bytes(tensors: Iterator[Any]) -> int:
    return sum(int(t.numel()) * int(t.element_size()) for t in tensors)


class ChatEngine:
    """Serve the base model and any number of trained adapters; every method is thread-safe.

    Generations requested from many threads at once run together: a batch scheduler decodes every sequence
    of a model in one forward pass per step (localbackend.batching), taking the engine lock for each pass and
    switching to its adapter first. A slow reader never holds others back: its tokens wait in its own queue.
    `batch_invariant=True` makes every answer independent of what else runs (see localbackend.packed), at
    about twice the cost per token of a request that runs alone.
    """

    def __init__(
        self,
        cache_dir: Path,
        *,
        device: str | None = None,
        precision: Precision = "auto",
        max_batch: int = 32,
        batch_invariant: bool = False,
    ) -> None:
        self._cache_dir = Path(cache_dir)
        self._device = device
        self._precision: Precision = precision
        self._lock = threading.RLock()
        self._plan: ComputePlan | None = None
        self._tokenizer: Any = None
        self._model: Any = None  # the transformers model; peft injects adapter layers into it in place
        self._peft: Any = None  # the PeftModel around it, once a first adapter is loaded
        self._base_info: LoadedModel | None = None
        self._adapters: dict[str, _Adapter] = {}
        self._active: str | None = None
        self._counter = 0
        self._max_batch = max_batch
        self._batch_invariant = batch_invariant
        self._batcher: Batcher | None = None

    # -- loading ---------------------------------------------------------------------------------------------

    def _model_dir(self) -> Path:
        from localbackend.basemodel import converted_model_dir

        return converted_model_dir(self._cache_dir)

    def _ensure_tokenizer(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                from localbackend.basemodel import load_tokenizer

                self._tokenizer = load_tokenizer(self._model_dir())
            return self._tokenizer

    def _ensure_base(self) -> ComputePlan:
        if self._model is None:
            from localbackend.basemodel import load_model
            from localbackend.device import compute_plan

            plan = self._plan or compute_plan(self._device, self._precision)
            self._ensure_tokenizer()
            self._model = load_model(self._model_dir(), dtype=plan.weight_dtype, device=plan.device)
            self._plan = plan
            now = time.time()
            memory = _bytes(self._model.parameters()) + _bytes(self._model.buffers())
            self._base_info = LoadedModel(BASE_NAME, None, memory, now, now)
        assert self._plan is not None
        return self._plan

    def _ensure(self, key: str | None) -> None:
        self._ensure_base()
        if key is None or key in self._adapters:
            return
        from peft import PeftModel

        path = Path(key)
        if not (path / "adapter_config.json").is_file():
            raise FileNotFoundError(f"No LoRA adapter at {path} (adapter_config.json is missing).")
        self._counter += 1
        name = f"adapter{self._counter}"
        # Adapter weights load in fp32 on the bf16 base (peft's autocast_adapter_dtype), exactly as trained.
        if self._peft is None:
            self._peft = PeftModel.from_pretrained(self._model, path, adapter_name=name, is_trainable=False)
        else:
            self._peft.load_adapter(path, adapter_name=name, is_trainable=False)
        self._peft.eval()
        self._active = None
        memory = _bytes(p for n, p in self._peft.named_parameters() if f".{name}." in n)
        now = time.time()
        self._adapters[key] = _Adapter(name, LoadedModel(key, path, memory, now, now))

    @staticmethod
    def _key(adapter: Path | None) -> str | None:
        return None if adapter is None else str(Path(adapter).resolve())

    @contextlib.contextmanager
    def _step(self, key: str | None) -> Iterator[None]:
        """Hold the lock for one forward pass with the right adapter active (reloading what was unloaded)."""
        with self._lock:
            self._ensure(key)
            if key is None:
                if self._peft is None:
                    yield
                else:
                    with self._peft.disable_adapter():
                        yield
                return
            name = self._adapters[key].peft_name
            if self._active != name:
                self._peft.set_adapter(name)
                self._active = name
            yield

    def _touch(self, key: str | None) -> None:
        now = time.time()
        if self._base_info is not None:
            self._base_info.last_used_at = now
        if key is not None and key in self._adapters:
            self._adapters[key].info.last_used_at = now

    # -- public API ------------------------------------------------------------------------------------------

    def count_prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        from localbackend.chatml import encode_prompt

        return len(encode_prompt(self._ensure_tokenizer(), messages))

    def generate(
        self,
        adapter: Path | None,
        messages: list[dict[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 1.0,
        top_p: float = 1.0,
        stop: list[str] | None = None,
        seed: int | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[GenerationChunk]:
        """Stream an answer: chunks of new text, the last one with finish_reason "stop" or "length".

        Loading happens on the first call (or again after an unload), in the caller's thread; the tokens come
        from the engine's batch scheduler, shared with every other request in flight. Temperature 0 is greedy.
        Generation stops early once `cancelled()` is true or the caller closes the iterator.
        """
        from localbackend.batching import Sampling
        from localbackend.chatml import encode_prompt
        from localbackend.model_decode import IncrementalDecoder, StopMatcher

        key = self._key(adapter)
        with self._lock:
            self._ensure(key)
            self._touch(key)
            tokenizer = self._tokenizer
        prompt = encode_prompt(tokenizer, messages)
        eos = frozenset(int(t) for t in (tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|endoftext|>")))
        decoder, stops = IncrementalDecoder(tokenizer), StopMatcher(stop)
        completion = 0
        finish = "length"
        sampling = Sampling(max(0, max_tokens), temperature, top_p, seed, eos)
        stream = self._scheduler().submit(key, prompt, sampling, cancelled=cancelled)
        try:
            for token in stream:
                completion += 1
                if token in eos:
                    finish = "stop"
                    break
                text, stopped = stops.push(decoder.push(token))
                if stopped:
                    yield GenerationChunk(text, "stop", len(prompt), completion)
                    return
                if text:
                    yield GenerationChunk(text, None, len(prompt), completion)
            else:
                if completion < sampling.max_tokens:
                    return  # cancelled: the caller gave up, there is no answer to finish
        finally:
            stream.cancel()  # a no-op once the sequence ended; otherwise it leaves the batch at the next step
            with self._lock:
                self._touch(key)
        text, stopped = stops.push(decoder.flush())
        if stopped:
            finish = "stop"
        else:
            text += stops.flush()
        yield GenerationChunk(text, finish, len(prompt), completion)

    def _scheduler(self) -> Batcher:
        with self._lock:
            if self._batcher is None or self._batcher.closed:  # closed: shut down, or stopped by a bug
                from localbackend.batching import Batcher

                self._batcher = Batcher(self._run_batch, max_batch=self._max_batch)
            return self._batcher

    def _run_batch(self, key: Hashable, batch: Sequence[tuple[Any, Sequence[int]]]) -> Any:
        """One packed forward pass for the sequences of one model (the scheduler calls this)."""
        from localbackend.packed import INVARIANT_ROWS, forward

        assert key is None or isinstance(key, str)
        with self._step(key):
            plan = self._ensure_base()
            return forward(self._model, batch, plan, min_rows=INVARIANT_ROWS if self._batch_invariant else 1)

    def in_flight(self) -> int:
        """Requests decoding or waiting for their first pass right now (without waiting for the engine lock)."""
        batcher = self._batcher
        return batcher.active() if batcher is not None else 0

    def close(self) -> None:
        """Stop the batch scheduler (requests still running end with an error); the engine restarts it on use."""
        with self._lock:
            batcher, self._batcher = self._batcher, None
        if batcher is not None:
            batcher.close()

    def loaded(self) -> list[LoadedModel]:
        with self._lock:
            infos = [self._base_info] if self._base_info is not None else []
            return [*infos, *(a.info for a in self._adapters.values())]

    def unload(self, adapter: Path | None) -> bool:
        """Free one adapter, or (None) the base model and every adapter. False when it was not loaded."""
        with self._lock:
            if adapter is None:
                was_loaded = self._model is not None
                self._model = self._peft = self._base_info = None
                self._adapters.clear()
                self._active = None
                return was_loaded
            entry = self._adapters.pop(str(self._key(adapter)), None)
            if entry is None:
                return False
            if self._adapters:
                # Activate a survivor first: peft warns when asked to delete the active adapter.
                self._peft.set_adapter(next(iter(self._adapters.values())).peft_name)
                self._peft.delete_adapter(entry.peft_name)
            else:
                # peft cannot delete its last adapter; taking the LoRA layers out restores the plain base model.
                self._model = self._peft.unload()
                self._peft = None
            self._active = None
            return True

    def unload_idle(self, idle_seconds: float) -> list[str]:
        """Unload adapters unused for `idle_seconds`, then the base model too if it is idle with none left."""
        cutoff = time.time() - idle_seconds
        names: list[str] = []
        with self._lock:
            for key, entry in list(self._adapters.items()):
                if entry.info.last_used_at <= cutoff and self.unload(Path(key)):
                    names.append(key)
            if self._base_info is not None and not self._adapters and self._base_info.last_used_at <= cutoff:
                self.unload(None)
                names.append(BASE_NAME)
        return names
