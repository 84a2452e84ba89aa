"""The batch scheduler and packed forward pass on a tiny random model (no downloads): together equals alone.

The runner here uses `min_rows=INVARIANT_ROWS`, where a sequence's logits are bit-for-bit the same alone or in
any batch, so every comparison with one-at-a-time generation is exact, sampled requests included.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any

import pytest
import torch

from localbackend.batching import Batcher, Sampling, TokenStream
from localbackend.device import ComputePlan
from localbackend.model_generate import generate_ids
from localbackend.packed import INVARIANT_ROWS, KVCache, forward

PLAN = ComputePlan("cpu", False, "test")
VOCAB = 96
POISON = VOCAB - 1  # a prompt holding this token breaks the pass that reads it
PROMPTS = [[1, 2, 3], [5] * 17, [7, 8, 9, 10, 11, 12, 13], [3, 1, 4, 1, 5, 9, 2, 6] * 5]


@pytest.fixture(scope="module")
def model() -> Any:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
    )
    return LlamaForCausalLM(config).eval()


class Runner:
    """Runs passes on the tiny model and records (model key, batch size) of each; can hold the first pass back."""

    def __init__(
        self,
        model: Any,
        *,
        held: bool = False,
        fail_at_length: int | None = None,
        hook: Callable[[int], None] | None = None,
    ) -> None:
        self.model = model
        self.passes: list[tuple[Hashable, int]] = []
        self.prefills = 0
        self.gate = threading.Event()
        self.fail_at_length = fail_at_length
        self.hook = hook
        if not held:
            self.gate.set()

    def __call__(self, key: Hashable, batch: Sequence[tuple[KVCache, Sequence[int]]]) -> Any:
        assert self.gate.wait(30)
        if self.hook is not None:
            self.hook(len(self.passes))
        self.passes.append((key, len(batch)))
        self.prefills += sum(len(tokens) > 1 for _, tokens in batch)
        if any(len(tokens) > 1 and POISON in tokens for _, tokens in batch):
            raise RuntimeError("poisoned prompt")
        if any(cache.length == self.fail_at_length for cache, _ in batch):
            raise RuntimeError("failed mid-answer")
        return forward(self.model, batch, PLAN, min_rows=INVARIANT_ROWS)


@pytest.fixture
def batcher_factory() -> Iterator[Any]:
    made: list[Batcher] = []

    def make(runner: Runner, **kw: Any) -> Batcher:
        made.append(Batcher(runner, **kw))
        return made[-1]

    yield make
    for batcher in made:
        batcher.close()


def _alone(model: Any, prompt: list[int], sampling: Sampling) -> list[int]:
    return list(
        generate_ids(
            model,
            prompt,
            plan=PLAN,
            max_tokens=sampling.max_tokens,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            seed=sampling.seed,
            eos_ids=sampling.eos_ids,
            min_rows=INVARIANT_ROWS,
        )
    )


def alone(model: Any, prompt: list[int], sampling: Sampling) -> list[int]:
    """One-at-a-time generation on a fresh thread, like the batcher's: OpenMP's thread count is per thread, and an
    earlier test (an in-process server) may have changed this one's, which changes float summation order."""
    result: list[list[int]] = []
    worker = threading.Thread(target=lambda: result.append(_alone(model, prompt, sampling)))
    worker.start()
    worker.join()
    return result[0]


def collect(streams: list[TokenStream]) -> list[list[int] | BaseException]:
    """Read every stream from its own thread, as concurrent clients do."""
    results: list[list[int] | BaseException] = [[] for _ in streams]

    def read(index: int) -> None:
        try:
            results[index] = list(streams[index])
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(streams))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_blas_rows_do_not_depend_on_the_row_count_from_invariant_rows_up() -> None:
    """The fact `min_rows` relies on, for the shapes of SmolLM2-135M's layers and a LoRA's."""
    torch.manual_seed(1)
    for inputs, outputs in [(576, 576), (576, 192), (576, 1536), (1536, 576), (576, 8), (8, 576)]:
        weight = torch.randn(outputs, inputs) * 0.05
        x = torch.randn(300, inputs)
        with torch.inference_mode():
            reference = torch.nn.functional.linear(x[:INVARIANT_ROWS], weight)
            for rows in (INVARIANT_ROWS + 1, 24, 65, 300):
                assert torch.equal(torch.nn.functional.linear(x[:rows], weight)[:INVARIANT_ROWS], reference)


def test_a_sequence_gets_the_same_logits_alone_or_packed_with_others(model: Any) -> None:
    lone = KVCache(64, 64)
    first = forward(model, [(lone, PROMPTS[1])], PLAN, min_rows=INVARIANT_ROWS)
    caches = [KVCache(64, 64) for _ in PROMPTS]
    packed = forward(model, list(zip(caches, PROMPTS, strict=True)), PLAN, min_rows=INVARIANT_ROWS)
    assert torch.equal(packed[1], first[0])
    assert [c.length for c in caches] == [len(p) for p in PROMPTS]
    # A decode step, with neighbours at other positions than the lone run.
    step = forward(model, [(lone, [42])], PLAN, min_rows=INVARIANT_ROWS)
    together = forward(model, [(caches[3], [7]), (caches[1], [42])], PLAN, min_rows=INVARIANT_ROWS)
    assert torch.equal(together[1], step[0])


def test_requests_that_arrive_together_decode_together_and_answer_as_alone(model: Any, batcher_factory: Any) -> None:
    runner = Runner(model, held=True)
    batcher = batcher_factory(runner)
    samplings = [Sampling(20), Sampling(7), Sampling(33), Sampling(12)]
    streams = [batcher.submit(None, p, s) for p, s in zip(PROMPTS, samplings, strict=True)]
    runner.gate.set()
    results = collect(streams)
    assert results == [alone(model, p, s) for p, s in zip(PROMPTS, samplings, strict=True)]
    assert [len(r) for r in results] == [20, 7, 33, 12]  # each its own max_tokens
    assert max(size for _, size in runner.passes) == len(PROMPTS)
    # Far fewer passes than tokens: one pass per step for everyone, shrinking as requests finish.
    assert len(runner.passes) < sum(s.max_tokens for s in samplings) / 2
    assert batcher.active() == 0


def test_each_request_keeps_its_own_eos_seed_and_temperature(model: Any, batcher_factory: Any) -> None:
    free_run = alone(model, PROMPTS[2], Sampling(30))
    eos_token = free_run[6]
    samplings = [
        Sampling(30, eos_ids=frozenset({eos_token})),
        Sampling(25, temperature=0.9, seed=3),
        Sampling(25, temperature=0.7, top_p=0.8, seed=4),
        Sampling(25),
    ]
    prompts = [PROMPTS[2], PROMPTS[0], PROMPTS[0], PROMPTS[1]]
    runner = Runner(model, held=True)
    batcher = batcher_factory(runner)
    streams = [batcher.submit(None, p, s) for p, s in zip(prompts, samplings, strict=True)]
    runner.gate.set()
    results = collect(streams)
    expected = [alone(model, p, s) for p, s in zip(prompts, samplings, strict=True)]
    assert results == expected
    assert results[0] == free_run[: free_run.index(eos_token) + 1]  # ended at its own EOS, the EOS included
    assert results[1] != results[2]  # the same prompt, sampled with other seeds and settings


def test_a_request_that_breaks_the_pass_fails_alone(model: Any, batcher_factory: Any) -> None:
    runner = Runner(model, held=True)
    batcher = batcher_factory(runner)
    prompts = [PROMPTS[0], [POISON, 4, 5], PROMPTS[2]]
    streams = [batcher.submit(None, p, Sampling(15)) for p in prompts]
    runner.gate.set()
    results = collect(streams)
    assert isinstance(results[1], RuntimeError) and "poisoned" in str(results[1])
    assert results[0] == alone(model, prompts[0], Sampling(15))
    assert results[2] == alone(model, prompts[2], Sampling(15))
    assert max(size for _, size in runner.passes[-5:]) == 2  # the survivors went on decoding together


def test_a_request_that_fails_mid_answer_keeps_what_it_had_and_others_go_on(model: Any, batcher_factory: Any) -> None:
    long_prompt = PROMPTS[3]  # 40 tokens: the only sequence that ever reaches 43
    runner = Runner(model, held=True, fail_at_length=len(long_prompt) + 3)
    batcher = batcher_factory(runner)
    streams = [batcher.submit(None, p, Sampling(10)) for p in (PROMPTS[0], long_prompt, PROMPTS[1])]
    runner.gate.set()
    received: list[int] = []
    with pytest.raises(RuntimeError, match="failed mid-answer"):
        for token in streams[1]:
            received.append(token)
    assert received == alone(model, long_prompt, Sampling(10))[:4]
    others = collect([streams[0], streams[2]])
    assert others == [alone(model, PROMPTS[0], Sampling(10)), alone(model, PROMPTS[1], Sampling(10))]


def test_a_cancelled_request_leaves_the_batch_and_the_others_finish(model: Any, batcher_factory: Any) -> None:
    flag = threading.Event()
    streams: list[TokenStream] = []

    def cancel_two(index: int) -> None:
        if index == 5:  # from inside a pass, so the moment does not depend on how fast the readers are
            streams[1].cancel()
            flag.set()  # the third request's own cancel check turns true

    runner = Runner(model, held=True, hook=cancel_two)
    batcher = batcher_factory(runner)
    streams.append(batcher.submit(None, PROMPTS[0], Sampling(40)))
    streams.append(batcher.submit(None, PROMPTS[1], Sampling(40)))
    streams.append(batcher.submit(None, PROMPTS[2], Sampling(40), cancelled=flag.is_set))
    runner.gate.set()
    results = collect(streams)
    assert results[0] == alone(model, PROMPTS[0], Sampling(40))
    for cancelled in results[1:]:  # their streams simply ended, early, with what they had
        assert isinstance(cancelled, list) and 1 <= len(cancelled) <= 6
    assert [size for _, size in runner.passes[6:]] == [1] * (len(runner.passes) - 6)  # only the survivor


def test_adapters_never_share_a_pass(model: Any, batcher_factory: Any) -> None:
    prompts = {None: [[1, 2, 3], [7, 8, 9, 10]], "/adapters/a": [[5] * 17, [11, 12]], "/adapters/b": [[4] * 9, [20]]}
    owner: dict[int, Hashable] = {}  # id(cache) -> the model its prompt was sent to
    seen: list[tuple[Hashable, set[Hashable]]] = []

    def run(key: Hashable, batch: Sequence[tuple[KVCache, Sequence[int]]]) -> Any:
        for cache, tokens in batch:
            if cache.length == 0:
                owner[id(cache)] = next(k for k, ps in prompts.items() if list(tokens) in ps)
        seen.append((key, {owner[id(cache)] for cache, _ in batch}))
        return runner(key, batch)

    runner = Runner(model, held=True)
    batcher = batcher_factory(run)
    streams = [batcher.submit(key, p, Sampling(6)) for key, ps in prompts.items() for p in ps]
    runner.gate.set()
    results = collect(streams)
    assert results == [alone(model, p, Sampling(6)) for ps in prompts.values() for p in ps]
    assert all(owners == {key} for key, owners in seen)  # every pass ran one model's sequences only
    assert {key for key, size in runner.passes if size == 2} == set(prompts)  # and each model's two together


def test_max_batch_bounds_a_pass_and_the_rest_wait_their_turn(model: Any, batcher_factory: Any) -> None:
    runner = Runner(model, held=True)
    batcher = batcher_factory(runner, max_batch=2)
    streams = [batcher.submit(None, p, Sampling(5)) for p in PROMPTS]
    runner.gate.set()
    assert collect(streams) == [alone(model, p, Sampling(5)) for p in PROMPTS]
    assert max(size for _, size in runner.passes) == 2


def test_a_request_cancelled_while_waiting_never_runs(model: Any, batcher_factory: Any) -> None:
    runner = Runner(model, held=True)
    batcher = batcher_factory(runner, max_batch=1)
    streams = [batcher.submit(None, p, Sampling(8)) for p in PROMPTS[:3]]
    streams[1].cancel()
    runner.gate.set()
    results = collect(streams)
    assert results == [alone(model, PROMPTS[0], Sampling(8)), [], alone(model, PROMPTS[2], Sampling(8))]
    assert runner.prefills == 2


def test_nothing_to_generate_ends_at_once_and_close_ends_what_runs(model: Any) -> None:
    runner = Runner(model, held=True)
    batcher = Batcher(runner)
    assert list(batcher.submit(None, PROMPTS[0], Sampling(0))) == []
    running = batcher.submit(None, PROMPTS[0], Sampling(50))
    batcher.close(timeout=0)  # the scheduler is held in its first pass: it stops right after it
    runner.gate.set()
    with pytest.raises(RuntimeError, match="shut down"):
        list(running)
    with pytest.raises(RuntimeError, match="shut down"):
        batcher.submit(None, PROMPTS[0], Sampling(5))


def test_a_cache_that_grows_on_the_way_answers_as_one_sized_up_front(model: Any) -> None:
    def run(cache: KVCache) -> list[Any]:
        rows, pending = [], PROMPTS[2]
        for _ in range(30):
            logits = forward(model, [(cache, pending)], PLAN, min_rows=INVARIANT_ROWS)[0]
            rows.append(logits)
            pending = [int(logits.argmax())]
        return rows

    grown, sized = run(KVCache(reserve=8, limit=100)), run(KVCache(reserve=100, limit=100))
    assert all(torch.equal(a, b) for a, b in zip(grown, sized, strict=True))


def test_passes_on_one_model_from_several_threads_never_mix_their_attention_switch(model: Any) -> None:
    """Each pass switches the model's attention implementation (a config field every thread reads) and puts it
    back. Unserialized, two threads' switches interleaved: a pass ran with the other's setting restored under it
    (transformers then asked for a mask of an implementation it has none for: KeyError 'tunedeck_packed'), and
    the model could be left switched for good."""
    expected = [alone(model, p, Sampling(6)) for p in PROMPTS[:3]]
    original = model.config._attn_implementation
    results: dict[int, list[list[int]]] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            results[n] = [_alone(model, p, Sampling(6)) for p in PROMPTS[:3] for _ in range(3)][::3]
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert all(results[n] == expected for n in range(4))
    assert model.config._attn_implementation == original
