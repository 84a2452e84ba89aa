"""LoRA fine-tuning of the local base model: a plain PyTorch loop with OpenAI-style hyperparameters and events.

`train()` is what a job's worker process runs. It reports through `emit` (JSON-able dicts: messages, one
metrics event per optimizer step, one checkpoint event per epoch) and stops when `should_stop()` turns true.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from localbackend.device import ComputePlan, Precision, compute_plan
from tunedeck.data.rules import local_auto_batch_size, local_auto_epochs
from tunedeck.errors import UsageError

# lr = BASE_LEARNING_RATE × multiplier. 2e-3 is a good LoRA rate for this 135M model at rank 8 / alpha 16: a
# fixed trait (a sign-off, a persona) takes hold in ~20 steps at batch 2 without wrecking general answers.
BASE_LEARNING_RATE = 2e-3
# "auto" epochs aim at about this many optimizer steps: ~20 is the least that makes a trait stick on unseen
# prompts, while ~60 steps on all linear layers over-fits and damages general answers.
# Attention and MLP projections: the usual "all-linear" set without the (tied) LM head.
DEFAULT_LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# No LoRA dropout: it costs ~40% of step time here and gives little regularisation over 20-60 steps.
LORA_DROPOUT = 0.0
VALIDATION_CAP = 32  # validation examples scored at each evaluation: a stable estimate at a bounded cost
EVALS_PER_RUN = 8  # "auto" eval_every spreads about this many evaluations over the run
SAMPLE_MAX_TOKENS = 64
CHECKPOINT_INFO = "tunedeck-checkpoint.json"

Emit = Callable[[dict[str, Any]], None]


class TrainingCancelled(Exception):
    """should_stop() turned true; nothing after the last saved checkpoint was kept."""


@dataclass
class TrainRequest:
    training: list[list[dict[str, Any]]]
    validation: list[list[dict[str, Any]]] | None
    output_dir: Path
    cache_dir: Path
    n_epochs: int | Literal["auto"] = "auto"
    batch_size: int | Literal["auto"] = "auto"
    learning_rate_multiplier: float | Literal["auto"] = "auto"
    seed: int | None = None
    lora_rank: int = 8
    lora_alpha: int = 16
    lora_targets: list[str] | None = None
    max_seq_len: int = 512
    eval_every: int | None = None
    resume_from: Path | None = None
    # Beyond the contract, all optional: where and how to compute, and prompts to answer greedily with the
    # final adapter (the answers land in the result's "samples"; a served model must answer the same).
    device: str | None = None
    precision: Precision = "auto"
    sample_prompts: list[list[dict[str, Any]]] = field(default_factory=list)


def resolve_hyperparameters(n_examples: int, request: TrainRequest) -> dict[str, Any]:
    """Fill in "auto" values.

    The rules live in `tunedeck.data.rules` so cost estimates and validation use the same numbers.
    - batch_size: 2 under 64 examples, 4 under 1024, else 8 (small batches = more steps from little data).
    - n_epochs: round(40 / steps per epoch), clamped to 1..10: 100-200 short examples at batch 4
      give 38-50 steps, 20 examples at batch 2 give 4 epochs of 10 steps; big sets train one epoch.
    - learning_rate_multiplier: 1.0, i.e. lr = BASE_LEARNING_RATE (2e-3).
    """
    n = max(1, n_examples)
    given = (request.n_epochs, request.batch_size, request.learning_rate_multiplier)
    if any(v != "auto" and not (isinstance(v, int | float) and v > 0) for v in given) or any(
        v != "auto" and not isinstance(v, int) for v in given[:2]
    ):
        raise UsageError(
            f"Invalid hyperparameters: n_epochs={given[0]!r}, batch_size={given[1]!r}, "
            f"learning_rate_multiplier={given[2]!r}.",
            'n_epochs and batch_size must be whole numbers of at least 1 (or "auto"), learning_rate_multiplier '
            'a number above 0 (or "auto").',
        )
    batch = request.batch_size
    if batch == "auto":
        batch = local_auto_batch_size(n)
    epochs = request.n_epochs
    if epochs == "auto":
        epochs = local_auto_epochs(n, int(batch))
    multiplier = request.learning_rate_multiplier
    if multiplier == "auto":
        multiplier = 1.0
    return {"n_epochs": int(epochs), "batch_size": int(batch), "learning_rate_multiplier": float(multiplier)}


def _lr_lambda(total_steps: int) -> Callable[[int], float]:
    """Linear warm-up over the first 10% of steps (at least one), then linear decay to 10% of the peak."""
    warmup = max(1, total_steps // 10)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        remaining = max(1, total_steps - warmup)
        return max(0.1, 1.0 - 0.9 * (step - warmup) / remaining)

    return factor


def _save_adapter(model: Any, target: Path, info: dict[str, Any]) -> None:
    """Save the adapter to a temp dir beside `target`, then rename: readers never see a half-written adapter."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        (tmp / CHECKPOINT_INFO).write_text(json.dumps(info, indent=2), encoding="utf-8")
        tmp.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _evaluate(model: Any, batches: Sequence[Any], plan: ComputePlan) -> tuple[float, float] | None:
    import torch

    from localbackend.train_step import masked_loss

    if not batches:
        return None
    model.eval()
    loss_sum = 0.0
    correct = targets = 0
    with torch.no_grad():
        for batch in batches:
            loss, right = masked_loss(model, batch, plan)
            loss_sum += float(loss) * batch.target_tokens
            correct += right
            targets += batch.target_tokens
    model.train()
    return loss_sum / targets, correct / targets


def train(request: TrainRequest, emit: Emit, should_stop: Callable[[], bool]) -> dict[str, Any]:
    """Fine-tune a LoRA adapter; see the module docstring and TrainRequest for the protocol."""
    started = time.monotonic()
    import torch
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    from localbackend.basemodel import converted_model_dir, load_model, load_tokenizer
    from localbackend.train_data import collate, encode_set, epoch_batches, steps_per_epoch
    from localbackend.train_step import masked_loss

    def message(text: str, level: str = "info") -> None:
        emit({"type": "message", "level": level, "message": text})

    plan = compute_plan(request.device, request.precision)
    model_dir = converted_model_dir(request.cache_dir)
    tokenizer = load_tokenizer(model_dir)
    train_set = encode_set(tokenizer, request.training, request.max_seq_len)
    if not train_set.examples:
        raise UsageError(
            "No training example has an assistant reply to learn from.",
            "Each example needs an assistant message without weight 0 that fits in max_seq_len tokens.",
        )
    for count, what in ((train_set.dropped, "had nothing to learn from"), (train_set.truncated, "were truncated")):
        if count:
            message(f"{count} training examples {what} (max_seq_len {request.max_seq_len}).", "warn")
    valid_set = encode_set(tokenizer, (request.validation or [])[:VALIDATION_CAP], request.max_seq_len)

    hp = resolve_hyperparameters(len(request.training), request)  # as the server resolves them for display
    resumed: dict[str, Any] = {}
    if request.resume_from is not None:
        resumed = json.loads((Path(request.resume_from) / CHECKPOINT_INFO).read_text(encoding="utf-8"))
    seed = request.seed if request.seed is not None else resumed.get("seed", random.randrange(2**31))
    hp["seed"] = seed
    lr = BASE_LEARNING_RATE * hp["learning_rate_multiplier"]
    batch_size, n_epochs = hp["batch_size"], hp["n_epochs"]
    per_epoch = steps_per_epoch(len(train_set.examples), batch_size)
    total_steps = per_epoch * n_epochs
    eval_every = request.eval_every or max(1, math.ceil(total_steps / EVALS_PER_RUN))
    targets = request.lora_targets or DEFAULT_LORA_TARGETS

    load_started = time.monotonic()
    torch.manual_seed(seed)  # the LoRA A matrices are initialised from torch's RNG
    base = load_model(model_dir, dtype=plan.weight_dtype, device=plan.device)
    message(f"Loaded base model in {time.monotonic() - load_started:.1f} s")
    message(f"{plan.reason}; {torch.get_num_threads()} CPU threads" if plan.device == "cpu" else plan.reason)
    lora = LoraConfig(
        r=request.lora_rank,
        lora_alpha=request.lora_alpha,
        lora_dropout=LORA_DROPOUT,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    # LoRA weights stay fp32 on a bf16 base (peft's default autocast_adapter_dtype): bf16 optimizer updates
    # of 1e-3-sized steps would mostly round away.
    model: Any = get_peft_model(base, lora)
    first_epoch, step = 1, 0
    if resumed:
        set_peft_model_state_dict(model, load_file(str(Path(request.resume_from or "") / "adapter_model.safetensors")))
        first_epoch, step = int(resumed["epoch"]) + 1, int(resumed["step"])
        message(f"Resumed after epoch {resumed['epoch']} (step {step}); optimizer state starts fresh")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    schedule, done = _lr_lambda(total_steps), step  # a resumed run continues the schedule where it stopped
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: schedule(i + done))
    message(
        f"Training {total_steps} steps: {n_epochs} epochs × {per_epoch} steps, batch {batch_size}, lr {lr:.3g}, "
        f"LoRA r={request.lora_rank} alpha={request.lora_alpha} on {', '.join(targets)}"
    )

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    valid_batches = [
        collate(valid_set.examples[i : i + batch_size], pad_id, plan.device)
        for i in range(0, len(valid_set.examples), batch_size)
    ]
    trained_tokens = int(resumed.get("trained_tokens", 0))
    loop_started = time.monotonic()
    steps_this_run = 0
    last_metrics: dict[str, Any] = {}
    info: dict[str, Any] = {k: v for k, v in resumed.items() if k != "hyperparameters"}
    model.train()
    for epoch in range(first_epoch, n_epochs + 1):
        for index, rows in enumerate(epoch_batches(train_set.examples, batch_size, seed, epoch)):
            if should_stop():
                raise TrainingCancelled(f"Cancelled at step {step} of {total_steps}")
            batch = collate([train_set.examples[i] for i in rows], pad_id, plan.device)
            loss, correct = masked_loss(model, batch, plan)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            steps_this_run += 1
            trained_tokens += batch.tokens
            valid = None
            if valid_batches and (step % eval_every == 0 or step == total_steps):
                valid = _evaluate(model, valid_batches, plan)
            elapsed = time.monotonic() - loop_started
            last_metrics = {
                "type": "metrics",
                "step": step,
                "total_steps": total_steps,
                "epoch": round(epoch - 1 + (index + 1) / per_epoch, 4),
                "train_loss": float(loss.detach()),
                "train_mean_token_accuracy": correct / batch.target_tokens,
                "valid_loss": valid[0] if valid else None,
                "valid_mean_token_accuracy": valid[1] if valid else None,
                "trained_tokens": trained_tokens,
                "elapsed_s": time.monotonic() - started,
                "estimated_remaining_s": elapsed / steps_this_run * (total_steps - step),
            }
            emit(last_metrics)
        metrics = {k: v for k, v in last_metrics.items() if k != "type"}
        adapter_path = Path(request.output_dir) / f"checkpoint-epoch-{epoch}"
        info = {"epoch": epoch, "step": step, "seed": seed, "trained_tokens": trained_tokens, "metrics": metrics}
        _save_adapter(model, adapter_path, info | {"hyperparameters": hp})
        emit({"type": "checkpoint", "epoch": epoch, "step": step, "path": str(adapter_path), "metrics": metrics})

    final = Path(request.output_dir) / "final"
    _save_adapter(model, final, info | {"hyperparameters": hp})
    samples = _samples(model, tokenizer, request.sample_prompts, plan)
    message(f"Trained {step} steps ({trained_tokens} tokens) in {time.monotonic() - started:.1f} s")
    return {
        "adapter_path": str(final),
        "trained_tokens": trained_tokens,
        "steps": step,
        "hyperparameters": hp,
        "samples": samples,
    }


def _samples(model: Any, tokenizer: Any, prompts: Sequence[Sequence[dict[str, Any]]], plan: ComputePlan) -> list[str]:
    """Greedy answers of the just-trained model, with the engine's own generation code."""
    from localbackend.chatml import encode_prompt
    from localbackend.model_generate import generate_ids

    model.eval()
    eos = frozenset({int(tokenizer.eos_token_id)})
    answers = []
    for prompt in prompts:
        ids = list(
            generate_ids(model, encode_prompt(tokenizer, prompt), plan=plan, max_tokens=SAMPLE_MAX_TOKENS, eos_ids=eos)
        )
        answers.append(str(tokenizer.decode([t for t in ids if t not in eos], skip_special_tokens=True)))
    return answers
