"""The chat engine: streamed text, stops and lengths, adapters answering exactly as trained, bookkeeping, threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from localbackend.engine import ChatEngine, GenerationChunk
from localbackend.model_decode import IncrementalDecoder, StopMatcher
from tests.conftest import MODEL_CACHE

PROMPT = [{"role": "user", "content": "Tell me one fact about the moon."}]


@pytest.fixture(scope="module")
def engine(model_dir: Path) -> ChatEngine:
    return ChatEngine(MODEL_CACHE)


def _run(engine: ChatEngine, adapter: Path | None, messages: list[dict[str, str]], **kw: Any) -> list[GenerationChunk]:
    return list(engine.generate(adapter, messages, **{"temperature": 0.0, **kw}))


def _text(chunks: list[GenerationChunk]) -> str:
    return "".join(c.text for c in chunks)


def test_incremental_decoding_never_splits_a_character(engine: ChatEngine) -> None:
    tokenizer = engine._ensure_tokenizer()
    text = "Olá 😀🎉 naïve café — 👍🏽 東京\nend"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(ids) > len(text.split())  # the emoji really are spread over several tokens
    decoder = IncrementalDecoder(tokenizer)
    pieces = [decoder.push(i) for i in ids] + [decoder.flush()]
    assert "".join(pieces) == text
    assert not any("\ufffd" in p for p in pieces)


def test_stop_matcher_cases() -> None:
    stops = StopMatcher(["END", "\n\n"])
    assert stops.push("abc E") == ("abc ", False)
    assert stops.push("N") == ("", False)
    assert stops.push("Dx") == ("", True)  # "END" completed: the text before it was already emitted
    fresh = StopMatcher(["END"])
    assert fresh.push("xEN") == ("x", False)
    assert fresh.push("o") == ("ENo", False)  # not a stop after all: released
    assert fresh.push("E") == ("", False)
    assert fresh.flush() == "E"
    assert StopMatcher(None).push("anything") == ("anything", False)
    assert StopMatcher(["b", "ab"]).push("xab") == ("x", True)  # the earliest stop wins


def test_stream_concatenates_to_the_whole_answer(engine: ChatEngine) -> None:
    from localbackend.chatml import encode_prompt
    from localbackend.model_generate import generate_ids

    chunks = _run(engine, None, PROMPT, max_tokens=24)
    assert all(c.finish_reason is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.finish_reason in ("stop", "length")
    assert last.prompt_tokens == engine.count_prompt_tokens(PROMPT)
    # The same greedy tokens decoded in one go, outside the streaming path.
    tokenizer = engine._ensure_tokenizer()
    ids = list(
        generate_ids(
            engine._model,
            encode_prompt(tokenizer, PROMPT),
            plan=engine._ensure_base(),
            max_tokens=24,
            eos_ids=frozenset({tokenizer.eos_token_id}),
        )
    )
    assert last.completion_tokens == len(ids)
    assert _text(chunks) == tokenizer.decode(ids, skip_special_tokens=True)
    assert len([c for c in chunks if c.text]) > 5  # really streamed, not one lump


def test_max_tokens_ends_with_length(engine: ChatEngine) -> None:
    chunks = _run(engine, None, [{"role": "user", "content": "Write a long story about a dragon."}], max_tokens=5)
    assert chunks[-1].finish_reason == "length"
    assert chunks[-1].completion_tokens == 5
    assert _text(chunks)


def test_stop_sequence_cuts_the_answer(engine: ChatEngine) -> None:
    full = _text(_run(engine, None, PROMPT, max_tokens=24))
    words = full.split()
    stop = f"{words[3]} {words[4]}"  # spans several tokens, so it arrives across chunks
    chunks = _run(engine, None, PROMPT, max_tokens=24, stop=["NEVER-THERE", stop])
    assert chunks[-1].finish_reason == "stop"
    assert _text(chunks) == full[: full.index(stop)]


def test_seeded_sampling_is_reproducible(engine: ChatEngine) -> None:
    first = _text(_run(engine, None, PROMPT, max_tokens=12, temperature=1.0, seed=7))
    assert _text(_run(engine, None, PROMPT, max_tokens=12, temperature=1.0, seed=7)) == first
    others = {_text(_run(engine, None, PROMPT, max_tokens=12, temperature=1.0, seed=s)) for s in (8, 9, 10)}
    assert others != {first}


def test_served_adapter_answers_exactly_as_at_the_end_of_training(
    engine: ChatEngine, tiny_trained_adapter: dict[str, Any]
) -> None:
    adapter = Path(tiny_trained_adapter["adapter_path"])
    (prompt,) = tiny_trained_adapter["unseen_prompts"]
    (at_training_end,) = tiny_trained_adapter["samples"]
    served = _run(engine, adapter, prompt, max_tokens=64)
    assert _text(served) == at_training_end
    assert served[-1].finish_reason == "stop"  # it learned to end its reply, too
    trait = tiny_trained_adapter["trait"]
    assert at_training_end.rstrip().endswith(trait)
    assert trait not in _text(_run(engine, None, prompt, max_tokens=64))  # the base model has no such habit
    # Switching back and forth between adapters and the base model changes nothing.
    checkpoint = Path(tiny_trained_adapter["output_dir"]) / "checkpoint-epoch-1"
    _run(engine, checkpoint, prompt, max_tokens=4)
    assert _text(_run(engine, adapter, prompt, max_tokens=64)) == at_training_end


def test_loaded_and_unload_bookkeeping(tiny_trained_adapter: dict[str, Any]) -> None:
    engine = ChatEngine(MODEL_CACHE)
    assert engine.loaded() == []
    assert engine.count_prompt_tokens(PROMPT) > 10  # the tokenizer alone, no model load
    assert engine.loaded() == []
    final = Path(tiny_trained_adapter["adapter_path"])
    epoch1 = Path(tiny_trained_adapter["output_dir"]) / "checkpoint-epoch-1"
    _run(engine, final, PROMPT, max_tokens=2)
    _run(engine, epoch1, PROMPT, max_tokens=2)
    models = {m.name: m for m in engine.loaded()}
    assert set(models) == {"base", str(final.resolve()), str(epoch1.resolve())}
    assert models["base"].adapter_path is None
    assert models[str(final.resolve())].adapter_path == final.resolve()
    assert models["base"].memory_bytes > 100_000_000 > models[str(final.resolve())].memory_bytes > 100_000
    assert all(m.loaded_at <= m.last_used_at <= time.time() for m in models.values())

    assert engine.unload(epoch1)
    assert not engine.unload(epoch1)
    assert {m.name for m in engine.loaded()} == {"base", str(final.resolve())}
    answer = _text(_run(engine, final, tiny_trained_adapter["unseen_prompts"][0], max_tokens=64))
    assert answer == tiny_trained_adapter["samples"][0]
    assert engine.unload(final)  # the last adapter: peft's layers come out, the plain base model stays
    base_after = _text(_run(engine, None, PROMPT, max_tokens=8))
    assert [m.name for m in engine.loaded()] == ["base"]
    assert engine.unload_idle(3600) == []
    time.sleep(0.05)
    assert engine.unload_idle(0.01) == ["base"]
    assert engine.loaded() == []
    assert not engine.unload(None)
    assert _text(_run(engine, None, PROMPT, max_tokens=8)) == base_after  # reloads on demand


def test_two_threads_generate_at_once(engine: ChatEngine, tiny_trained_adapter: dict[str, Any]) -> None:
    adapter = Path(tiny_trained_adapter["adapter_path"])
    (prompt,) = tiny_trained_adapter["unseen_prompts"]
    jobs = {"base": (None, PROMPT), "tuned": (adapter, prompt)}
    expected = {name: _text(_run(engine, path, msgs, max_tokens=20)) for name, (path, msgs) in jobs.items()}
    results: dict[str, list[str]] = {name: [] for name in jobs}
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def worker(name: str) -> None:
        path, msgs = jobs[name]
        try:
            start.wait()
            for chunk in engine.generate(path, msgs, max_tokens=20, temperature=0.0):
                results[name].append(chunk.text)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert {name: "".join(parts) for name, parts in results.items()} == expected
