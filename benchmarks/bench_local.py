"""Local backend benchmark: train() against a minimal hand-written LoRA loop, and chat latency of the engine.

Run: .venv/bin/python benchmarks/bench_local.py [--steps 20] [--threads 2]
     .venv/bin/python benchmarks/bench_local.py --eval-batching [--threads 1]   (only the eval-shaped run)
Each measurement runs in its own spawned process so peak RSS figures do not mix.

`--load` instead measures the server under load (issue 14): one job alone, then two jobs plus a chat stream at
once through a real server on loopback, and prints their total training throughput as a ratio of the one job's
(target: at least 0.8).
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BATCH = 4
TOPICS = [
    "the moon", "volcanoes", "honey bees", "the Nile", "glaciers", "owls", "copper", "tea", "the violin", "comets",
    "bamboo", "penguins", "deserts", "lightning", "coral reefs", "maple trees", "salt", "whales", "silk", "clocks",
]  # fmt: skip


def dataset() -> list[list[dict[str, str]]]:
    """40 short chat examples (~60 tokens each with the chat template), the size the issue measured."""
    return [
        [
            {"role": "user", "content": f"Give me one short fact about {topic}."},
            {
                "role": "assistant",
                "content": f"A fact about {topic}: it is {adj} and widely studied. — Zorblax",
            },
        ]
        for adj in ("remarkable", "ancient")
        for topic in TOPICS
    ]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def reference_loop(cache_dir: Path, steps: int, threads: int) -> dict[str, Any]:
    """The yardstick: the plainest LoRA loop one would write by hand (full logits, labels= loss)."""
    import torch
    from peft import LoraConfig, get_peft_model

    from localbackend.basemodel import converted_model_dir, load_model, load_tokenizer
    from localbackend.chatml import encode_example
    from localbackend.device import compute_plan

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    plan = compute_plan()
    model_dir = converted_model_dir(cache_dir)
    tokenizer = load_tokenizer(model_dir)
    model = get_peft_model(
        load_model(model_dir, dtype=plan.weight_dtype),
        LoraConfig(
            r=8,
            lora_alpha=16,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
            task_type="CAUSAL_LM",
        ),
    )
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    examples = [encode_example(tokenizer, c, 512) for c in dataset()]
    stamps: list[tuple[float, float, int]] = []
    for step in range(steps):
        batch = [examples[(step * BATCH + i) % len(examples)] for i in range(BATCH)]
        length = max(len(e.input_ids) for e in batch)
        ids = torch.tensor([e.input_ids + [tokenizer.pad_token_id] * (length - len(e.input_ids)) for e in batch])
        mask = torch.tensor([[1] * len(e.input_ids) + [0] * (length - len(e.input_ids)) for e in batch])
        labels = torch.tensor([e.labels + [-100] * (length - len(e.labels)) for e in batch])
        with plan.autocast():
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        stamps.append((time.perf_counter(), time.process_time(), int(mask.sum())))
    return _summary("hand-written loop", stamps, plan.reason)


def tunedeck_train(cache_dir: Path, steps: int, threads: int) -> dict[str, Any]:
    import torch

    from localbackend.trainer import TrainRequest, train

    torch.set_num_threads(threads)
    data = dataset()
    stamps: list[tuple[float, float, int]] = []
    events: list[dict[str, Any]] = []

    def emit(event: dict[str, Any]) -> None:
        if event["type"] == "metrics":  # sent right after each optimizer step, in this process
            stamps.append((time.perf_counter(), time.process_time(), event["trained_tokens"]))
        events.append(event)

    with tempfile.TemporaryDirectory() as out:
        request = TrainRequest(
            training=(data * (-(-steps * BATCH // len(data))))[: steps * BATCH],
            validation=None,
            output_dir=Path(out),
            cache_dir=cache_dir,
            n_epochs=1,
            batch_size=BATCH,
            seed=0,
        )
        wall = time.perf_counter()
        train(request, emit, lambda: False)
        wall = time.perf_counter() - wall
    # trained_tokens is cumulative; make it per step like the reference's.
    per_step = [(w, c, n - (stamps[i - 1][2] if i else 0)) for i, (w, c, n) in enumerate(stamps)]
    messages = [e["message"] for e in events if e["type"] == "message"]
    result = _summary("tunedeck train()", per_step, next(m for m in messages if "bf16" in m or "fp32" in m))
    result["wall_s"] = wall
    return result


def _summary(name: str, stamps: list[tuple[float, float, int]], plan: str) -> dict[str, Any]:
    """Steady-state figures from (wall clock, process CPU time, tokens) stamped after each step.

    The first step is left out (one-off set-up). CPU time is reported too because this machine may be shared:
    wall time then includes waiting for a core, CPU time mostly does not."""
    walls = [b[0] - a[0] for a, b in itertools.pairwise(stamps)]
    cpus = [b[1] - a[1] for a, b in itertools.pairwise(stamps)]
    tokens = sum(n for _, _, n in stamps[1:])
    return {
        "name": name,
        "plan": plan,
        "steps": len(stamps),
        "s_per_step": statistics.median(walls),
        "tokens_per_s": tokens / sum(walls),
        "cpu_s_per_step": statistics.median(cpus),
        "tokens_per_cpu_s": tokens / sum(cpus),
        "peak_rss_mb": _peak_rss_mb(),
    }


def chat_latency(cache_dir: Path, threads: int) -> dict[str, Any]:
    import torch

    from localbackend.engine import ChatEngine

    torch.set_num_threads(threads)
    engine = ChatEngine(cache_dir)
    messages = [{"role": "user", "content": "Write a short poem about the sea."}]
    started = time.perf_counter()
    list(engine.generate(None, messages, max_tokens=20, temperature=0))
    cold = time.perf_counter() - started
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        first = None
        chunks = 0
        for chunk in engine.generate(None, messages, max_tokens=20, temperature=0):
            if first is None and chunk.text:
                first = time.perf_counter() - started
            chunks = chunk.completion_tokens
        runs.append((first or 0.0, time.perf_counter() - started, chunks))
    ttft, total, n = (statistics.median(x) for x in zip(*runs, strict=True))
    return {"cold_first_answer_s": cold, "ttft_s": ttft, "answer_s": total, "tokens": n, "tokens_per_s": n / total}


def stamped_train(request: Any, emit: Any, should_stop: Any) -> dict[str, Any]:
    """The real trainer, its metrics stamped with the wall clock so runs in different workers line up."""
    from localbackend.trainer import train

    return train(request, lambda e: emit({**e, "wall": time.time()} if e["type"] == "metrics" else e), should_stop)


def _job_span(metrics: list[dict[str, Any]]) -> tuple[float, float, int]:
    """(start, end, tokens) of a job's steady state: from its first step's end to its last step's end."""
    return metrics[0]["wall"], metrics[-1]["wall"], metrics[-1]["trained_tokens"] - metrics[0]["trained_tokens"]


def load_run(cache_dir: Path, steps: int) -> None:
    """One job alone, then two jobs and a chat stream at once, on one real server with the real trainer."""
    import httpx
    import uvicorn

    from localbackend.device import available_cores, default_max_concurrent_jobs
    from localbackend.server.app import create_app
    from localbackend.server.state import ServerConfig

    data = (dataset() * (-(-steps * BATCH // len(dataset()))))[: steps * BATCH]
    jsonl = "".join(json.dumps({"messages": c}) + "\n" for c in data).encode()
    with tempfile.TemporaryDirectory() as tmp:
        config = ServerConfig(data_dir=Path(tmp), cache_dir=cache_dir, train_fn="benchmarks.bench_local:stamped_train",
                              max_jobs=default_max_concurrent_jobs())  # fmt: skip
        server = uvicorn.Server(uvicorn.Config(create_app(config), port=0, log_level="warning"))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        while not server.started:
            time.sleep(0.1)
        http = httpx.Client(base_url=base, timeout=600)
        file_id = http.post("/files", files={"file": ("b.jsonl", jsonl)}, data={"purpose": "fine-tune"}).json()["id"]
        hyper = {"n_epochs": 1, "batch_size": BATCH}

        def run_jobs(count: int, on_first_step: Any = None) -> list[list[dict[str, Any]]]:
            ids = [http.post("/fine_tuning/jobs", json={"model": "smollm2-135m-instruct", "training_file": file_id,
                                                        "seed": 0, "hyperparameters": hyper}).json()["id"]
                   for _ in range(count)]  # fmt: skip
            while any(http.get(f"/fine_tuning/jobs/{i}").json()["status"] not in ("succeeded", "failed") for i in ids):
                if on_first_step is not None and http.get(f"/fine_tuning/jobs/{ids[0]}").json()["trained_tokens"]:
                    on_first_step()
                    on_first_step = None
                time.sleep(0.5)
            events = [http.get(f"/fine_tuning/jobs/{i}/events", params={"limit": 1000}).json()["data"] for i in ids]
            return [[e["data"] for e in reversed(evs) if e["type"] == "metrics"] for evs in events]

        def chat_tokens_per_s(stop: threading.Event | None = None, rounds: int = 3) -> float:
            body = {"model": "smollm2-135m-instruct", "max_tokens": 32, "temperature": 0, "stream": True,
                    "stream_options": {"include_usage": True},
                    "messages": [{"role": "user", "content": "Write a short poem about the sea."}]}  # fmt: skip
            tokens, spent, done = 0, 0.0, 0
            while (stop is None and done < rounds) or (stop is not None and not stop.is_set()):
                started = time.perf_counter()
                with http.stream("POST", "/chat/completions", json=body) as response:
                    for line in response.iter_lines():
                        if '"usage": {' in line:
                            tokens += json.loads(line[6:])["usage"]["completion_tokens"]
                spent, done = spent + time.perf_counter() - started, done + 1
            return tokens / spent if spent else 0.0

        load_before = os.getloadavg()[0]
        chat_tokens_per_s(rounds=1)  # load the model in the server before timing anything
        chat_alone = chat_tokens_per_s()
        (alone,) = run_jobs(1)
        start, end, tokens = _job_span(alone)
        alone_rate = tokens / (end - start)
        # The load: two jobs at once, and chat streams (3 answers of 32 tokens) once the first job trains.
        chat_result: list[float] = []
        chatter = threading.Thread(target=lambda: chat_result.append(chat_tokens_per_s()))
        loaded = run_jobs(2, on_first_step=chatter.start)
        chatter.join()
        server.should_exit = True
        spans = [_job_span(m) for m in loaded]
        overlap = max(0.0, min(e for _, e, _ in spans) - max(s for s, _, _ in spans))
        training = sum(t for _, _, t in spans) / (sum(e - s for s, e, _ in spans) - overlap)
        span = sum(t for _, _, t in spans) / (max(e for _, e, _ in spans) - min(s for s, _, _ in spans))
        print(f"load run: {available_cores()} cores, at most {config.max_jobs} job(s) at once, {steps} steps a job; "
              f"machine load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")  # fmt: skip
        print(f"  one job alone:           {alone_rate:6.1f} tokens/s")
        print(f"  two jobs + chat streams: {training:6.1f} tokens/s while training, {span:6.1f} over the whole span")
        print(f"  chat: {chat_alone:.1f} tokens/s alone, {chat_result[0]:.1f} beside the jobs")
        print(f"  throughput ratio, two jobs + chat / one job alone: {training / alone_rate:.2f}x while training "
              f"(target >= 0.8x), {span / alone_rate:.2f}x including the second job's start-up")  # fmt: skip


EVAL_PROMPTS = 24
EVAL_TOKENS = 60


def eval_prompts() -> list[list[dict[str, str]]]:
    """24 eval-style prompts of different lengths, each asking for more than EVAL_TOKENS tokens of answer."""
    asks = [
        "Write a detailed paragraph about {}.",
        "Explain {} to a curious ten-year-old, with two examples and a closing summary.",
        "You are preparing notes for a museum guide. Describe the history of {}, how people have used it or "
        "studied it over the centuries, and one surprising fact that visitors usually do not know.",
    ]
    topics = [*TOPICS, "rivers", "the printing press", "volcanic glass", "migratory birds"]
    return [[{"role": "user", "content": asks[i % len(asks)].format(t)}] for i, t in enumerate(topics[:EVAL_PROMPTS])]


def eval_batching(cache_dir: Path, threads: int, batch_invariant: bool) -> dict[str, Any]:
    """The same greedy requests one at a time, then all at once (as `eval run --concurrency` sends them)."""
    import torch

    from localbackend.engine import ChatEngine

    torch.set_num_threads(threads)
    engine = ChatEngine(cache_dir, batch_invariant=batch_invariant)
    prompts = eval_prompts()

    def answer(messages: list[dict[str, str]]) -> tuple[str, int]:
        chunks = list(engine.generate(None, messages, max_tokens=EVAL_TOKENS, temperature=0))
        return "".join(c.text for c in chunks), chunks[-1].completion_tokens

    answer(prompts[0])  # load and warm up outside the timed runs
    wall, cpu = time.perf_counter(), time.process_time()
    alone = [answer(p) for p in prompts]
    alone_s, alone_cpu = time.perf_counter() - wall, time.process_time() - cpu

    together: list[tuple[str, int] | None] = [None] * len(prompts)
    start = threading.Barrier(len(prompts) + 1)

    def client(index: int) -> None:
        start.wait()
        together[index] = answer(prompts[index])

    clients = [threading.Thread(target=client, args=(i,)) for i in range(len(prompts))]
    for thread in clients:
        thread.start()
    start.wait()
    wall, cpu = time.perf_counter(), time.process_time()
    for thread in clients:
        thread.join()
    batched_s, batched_cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.close()
    answered = [r for r in together if r is not None]
    if len(answered) != len(prompts):
        raise RuntimeError(f"{len(prompts) - len(answered)} batched requests failed")
    tokens, batched_tokens = sum(n for _, n in alone), sum(n for _, n in answered)
    return {
        "tokens": tokens,
        "alone_tps": tokens / alone_s,
        "batched_tps": batched_tokens / batched_s,
        "alone_cpu_tps": tokens / alone_cpu,
        "batched_cpu_tps": batched_tokens / batched_cpu,
        "identical": sum(a == b for a, b in zip(alone, answered, strict=True)),
        "differing": [i for i, (a, b) in enumerate(zip(alone, answered, strict=True)) if a != b],
    }


def print_eval_batching(cache_dir: Path, threads: int, batch_invariant: bool) -> None:
    load = os.getloadavg()[0]
    row = _in_child(eval_batching, cache_dir, threads, batch_invariant)
    mode = ", batch-invariant" if batch_invariant else ""
    print(
        f"eval-shaped chat ({EVAL_PROMPTS} prompts x {EVAL_TOKENS} tokens, greedy, {threads} threads{mode}; "
        f"load {load:.1f} before the run, {os.getloadavg()[0]:.1f} after):"
    )
    print(f"  one at a time: {row['alone_tps']:6.1f} tokens/s  ({row['alone_cpu_tps']:.1f} tokens/cpu-s)")
    print(f"  batched:       {row['batched_tps']:6.1f} tokens/s  ({row['batched_cpu_tps']:.1f} tokens/cpu-s)")
    print(
        f"  throughput ratio batched/one-at-a-time: {row['batched_tps'] / row['alone_tps']:.2f} (wall), "
        f"{row['batched_cpu_tps'] / row['alone_cpu_tps']:.2f} (CPU time); {row['tokens']} tokens; "
        f"identical greedy outputs: {row['identical']}/{EVAL_PROMPTS}"
        + (f" (differing prompts: {row['differing']})" if row["differing"] else "")
    )


def _in_child(fn: Any, *args: Any) -> Any:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=REPO / ".tmp" / "test-cache")
    parser.add_argument("--load", action="store_true", help="Only the load run: two jobs and a chat at once.")
    parser.add_argument("--eval-batching", action="store_true", help="run only the eval-shaped batching comparison")
    parser.add_argument("--batch-invariant", action="store_true", help="the eval run with ChatEngine(batch_invariant)")
    args = parser.parse_args()
    from localbackend.basemodel import converted_model_dir

    converted_model_dir(args.cache_dir)  # convert outside the timed runs
    if args.load:
        load_run(args.cache_dir, args.steps)
        return
    if args.eval_batching:
        print_eval_batching(args.cache_dir, args.threads, args.batch_invariant)
        return
    # The machine may be shared: alternate the two contenders and keep each one's best round.
    rounds: dict[str, list[dict[str, Any]]] = {"ref": [], "ours": []}
    for _ in range(args.rounds):
        rounds["ref"].append(_in_child(reference_loop, args.cache_dir, args.steps, args.threads))
        rounds["ours"].append(_in_child(tunedeck_train, args.cache_dir, args.steps, args.threads))
    ref, ours = (max(rows, key=lambda r: r["tokens_per_s"]) for rows in rounds.values())
    for row in (ref, ours):
        print(
            f"{row['name']:<18} {row['tokens_per_s']:6.1f} tokens/s, median {row['s_per_step']:.3f} s/step "
            f"(CPU time: {row['tokens_per_cpu_s']:.1f} tokens/cpu-s, {row['cpu_s_per_step']:.3f} cpu-s/step), "
            f"peak RSS {row['peak_rss_mb']:.0f} MB  [{row['steps']} steps, batch {BATCH}; {row['plan']}]"
        )
    for name, rows in rounds.items():
        speeds = ", ".join(f"{row['tokens_per_s']:.0f}" for row in rows)
        print(f"  {name} rounds (tokens/s): {speeds}")
    print(f"train() wall time incl. model load and 1 checkpoint: {ours['wall_s']:.1f} s")
    print(
        f"throughput ratio train()/hand-written: {ours['tokens_per_s'] / ref['tokens_per_s']:.2f} (wall), "
        f"{ours['tokens_per_cpu_s'] / ref['tokens_per_cpu_s']:.2f} (CPU time)"
    )
    chat = _in_child(chat_latency, args.cache_dir, args.threads)
    print(
        f"chat (base, 20-token answer, warm): time to first token {chat['ttft_s']:.3f} s, "
        f"answer {chat['answer_s']:.2f} s, {chat['tokens_per_s']:.1f} tokens/s; "
        f"first answer incl. load {chat['cold_first_answer_s']:.1f} s"
    )
    print_eval_batching(args.cache_dir, args.threads, args.batch_invariant)


if __name__ == "__main__":
    main()
