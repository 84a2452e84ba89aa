"""Shared by the migration tests: a tiny chat dataset, an "OpenAI" job made with the official SDK against a local
server (as a user's job was made outside tunedeck), and the config that points `openai` and `local` at it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from localbackend.basemodel import BASE_MODEL_ID
from tests.backend.test_server_support import openai_client, wait_until

QA = [
    ("What is 2 plus 2?", "4. — Zorblax"),
    ("What color is grass?", "Green. — Zorblax"),
    ("What do bees make?", "Honey. — Zorblax"),
    ("What is frozen water?", "Ice. — Zorblax"),
]
HELD_OUT = [("What is 3 plus 3?", "6. — Zorblax"), ("What color is the sky?", "Blue. — Zorblax")]


def chat_lines(pairs: list[tuple[str, str]]) -> bytes:
    rows = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in pairs]
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def point_providers_at(home: Path, base_url: str, *, openai_url: str | None = None) -> None:
    """`openai` (and `local`) talk to the local server: the stand-in for OpenAI speaks the same API."""
    config = home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[openai]\nbase_url = "{openai_url or base_url}"\nmax_retries = 0\ntimeout_s = 20\n'
        f'[local]\nbase_url = "{base_url}"\n[monitor]\ninterval_s = 0.1\nmax_interval_s = 0.5\n'
    )


def original_job(base_url: str, *, validation: bool = True, timeout: float = 120, **hyper: Any) -> Any:
    """A fine-tuning job made the way a user made theirs on OpenAI: the SDK, no tunedeck; waited to its end."""
    client = openai_client(base_url)
    training = client.files.create(file=("train.jsonl", chat_lines(QA)), purpose="fine-tune").id
    kwargs: dict[str, Any] = {"model": BASE_MODEL_ID, "training_file": training, "suffix": "zorblax"}
    if validation:
        kwargs["validation_file"] = client.files.create(
            file=("valid.jsonl", chat_lines(HELD_OUT)), purpose="fine-tune"
        ).id
    if hyper:
        kwargs["method"] = {"type": "supervised", "supervised": {"hyperparameters": hyper}}
    job = client.fine_tuning.jobs.create(**kwargs)

    def done() -> Any:
        found = client.fine_tuning.jobs.retrieve(job.id)
        return found if found.status in {"succeeded", "failed", "cancelled"} else None

    return wait_until(done, timeout, f"{job.id} to finish")
