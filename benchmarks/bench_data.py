"""Benchmark the streaming dataset toolkit against the naive approach on one generated chat JSONL.

    python benchmarks/bench_data.py [--examples 100000] [--keep]

Writes a synthetic OpenAI-chat file to a temp dir, then runs, each in a fresh interpreter so peak
memory (ru_maxrss) is its own: (1) tunedeck's one-pass validate + stats (`validate_file`, which also
computes the stats `tunedeck data stats` prints) and (2) the naive approach: read the whole file with
`json.loads`, then encode every message one by one with tiktoken. Prints throughput and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_TEXT = (
    "the model answers questions about orders refunds shipping invoices accounts passwords and delivery "
    "times customers ask politely or angrily please help me with my order number which arrived late "
    "damaged missing parts we apologise and offer a refund replacement or discount code valid for thirty days"
)
WORDS = _TEXT.split(" ")
SYSTEM_PROMPTS = [
    "You are Northwind's support assistant. Answer briefly, politely, and only from company policy.",
    "You are a helpful assistant for an online shop. Keep answers under five sentences.",
]


def generate(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            turns = [{"role": "system", "content": SYSTEM_PROMPTS[i % 17 == 0]}]
            for _ in range(rng.choice((1, 1, 2))):
                user = " ".join(rng.choices(WORDS, k=rng.randint(8, 40)))
                reply = " ".join(rng.choices(WORDS, k=rng.randint(20, 120)))
                turns += [{"role": "user", "content": f"#{i} {user}?"}, {"role": "assistant", "content": reply}]
            out.write(json.dumps({"messages": turns}) + "\n")


def run_ours(path: Path, encoding: str) -> dict[str, float]:
    from tunedeck.data.tokencount import default_workers
    from tunedeck.data.tokens import get_encoding
    from tunedeck.data.validate import validate_file

    get_encoding(encoding)  # load outside the timing, as the naive run does
    start = time.perf_counter()
    report = validate_file(path, "openai", "gpt-4o-mini-2024-07-18", encoding=encoding)
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "examples": report.stats.n_valid_examples,
        "tokens": report.stats.total_tokens,
        "workers": default_workers(path.stat().st_size),
    }


def run_naive(path: Path, encoding: str) -> dict[str, float]:
    from tunedeck.data.tokens import get_encoding

    enc = get_encoding(encoding)
    start = time.perf_counter()
    with path.open(encoding="utf-8") as handle:
        data = [json.loads(line) for line in handle]
    total = 0
    for example in data:
        tokens = 3
        for message in example["messages"]:
            tokens += 3 + len(enc.encode(message["role"])) + len(enc.encode(message["content"]))
        total += tokens
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "examples": len(data), "tokens": total}


def child(mode: str, path: Path, encoding: str) -> None:
    from tunedeck.data.tokens import get_encoding

    get_encoding(encoding)  # load outside the measurement, for both approaches
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = own.ru_utime + own.ru_stime
    result = (run_ours if mode == "ours" else run_naive)(path, encoding)
    result["cpu_before"] = cpu_before
    # ru_maxrss is in KiB on Linux: the whole process, interpreter and tokenizer included.
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds, workers included: the work done, whatever else the machine is running.
    result["cpu_s"] = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime - result.pop("cpu_before")
    result["peak_mib"] = own.ru_maxrss / 1024
    # Forked tokenizer workers: the largest one's peak (it shares the parent's tokenizer pages).
    result["worker_peak_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


def measure(mode: str, path: Path, encoding: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), "--encoding", encoding],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def baseline_mib(encoding: str) -> float:
    """Memory of an interpreter that only loaded the tokenizer: the floor both runs share."""
    code = (
        "import resource; from tunedeck.data.tokens import get_encoding; "
        f"get_encoding({encoding!r}); print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--encoding", default="o200k_base")
    parser.add_argument("--keep", action="store_true", help="Keep the generated file and print its path.")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), args.encoding)
        return
    tmp = Path(tempfile.mkdtemp(prefix="tunedeck-bench-"))
    path = tmp / "chat.jsonl"
    generate(path, args.examples)
    size_mb = path.stat().st_size / 1e6
    print(f"file: {args.examples:,} examples, {size_mb:.1f} MB ({path if args.keep else 'temp'}), {args.encoding}")
    floor = baseline_mib(args.encoding)
    results = {}
    for mode in ("ours", "naive"):
        r = measure(mode, path, args.encoding)
        results[mode] = r
        label = (
            "tunedeck validate+stats (one streaming pass)"
            if mode == "ours"
            else "naive (json.loads all, encode 1 by 1)"
        )
        print(
            f"{label:<46} {r['seconds']:7.2f} s ({r['cpu_s']:.2f} CPU-s)  "
            f"{r['examples'] / r['seconds']:>9,.0f} examples/s  "
            f"{size_mb / r['seconds']:6.1f} MB/s  peak {r['peak_mib']:7.1f} MiB (+{r['peak_mib'] - floor:.1f} over "
            f"the {floor:.0f} MiB tokenizer floor)  tokens {r['tokens']:,}"
        )
    ours, naive = results["ours"], results["naive"]
    if ours["workers"]:
        print(
            f"  (tunedeck used {ours['workers']:.0f} forked tokenizer worker(s), each peaking at "
            f"{ours['worker_peak_mib']:.0f} MiB RSS, most of it the tokenizer pages shared with the parent; "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})"
        )
    print(
        f"speed-up {naive['seconds'] / ours['seconds']:.2f}× wall, {naive['cpu_s'] / ours['cpu_s']:.2f}× CPU; "
        "memory above floor: "
        f"{ours['peak_mib'] - floor:.1f} MiB vs {naive['peak_mib'] - floor:.1f} MiB "
        f"({(ours['peak_mib'] - floor) / max(naive['peak_mib'] - floor, 1e-9):.0%})"
    )
    if not args.keep:
        path.unlink()
        tmp.rmdir()


if __name__ == "__main__":
    main()
