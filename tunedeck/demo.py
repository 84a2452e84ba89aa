"""The local end-to-end rehearsal behind `make demo`: validate, upload, fine-tune, compare base vs tuned, clean up.

Every step is a function over a `Workspace`, so the CLI prints it and a UI could drive the same steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from providers.base import ChatMessage
from tunedeck.errors import UsageError
from tunedeck.workspace import Workspace

PROVIDER = "local"
BASE_MODEL = "smollm2-135m-instruct"
DATASET = Path("examples/helpdesk.jsonl")
PROMPTS = Path("examples/heldout_prompts.txt")
# The sample dataset's learnable style (examples/README.md): every reply signs off with this line.
TRAIT = "Byte from IT"


def locate(relative: Path) -> Path:
    """A bundled example, looked up from the working directory first, then from the source checkout."""
    for root in (Path.cwd(), Path(__file__).resolve().parent.parent):
        candidate = root / relative
        if candidate.is_file():
            return candidate
    raise UsageError(f"Cannot find {relative}.", "Run the demo from the tunedeck checkout or pass --dataset/--prompts.")


def read_prompts(path: Path, limit: int) -> list[str]:
    from tunedeck.data.reader import open_dataset  # a missing --prompts file is a usage error, not a traceback

    with open_dataset(path) as handle:
        text = handle.read().decode("utf-8", errors="replace")
    prompts = [line.strip() for line in text.splitlines() if line.strip()]
    if not prompts:
        raise UsageError(f"{path} holds no prompts.", "Write one held-out question per line.")
    return prompts[:limit]


def system_prompt_of(path: Path) -> str | None:
    """The dataset's system prompt, so base and tuned models are asked exactly as in training."""
    from tunedeck.data.reader import load_conversations

    for conversation in load_conversations(path):
        for message in conversation:
            if message.get("role") == "system":
                return str(message["content"])
    return None


@dataclass(frozen=True)
class Comparison:
    prompt: str
    base: str
    tuned: str

    @property
    def base_has_trait(self) -> bool:
        return TRAIT in self.base

    @property
    def tuned_has_trait(self) -> bool:
        return TRAIT in self.tuned


def answer(workspace: Workspace, model: str, system: str | None, prompt: str, max_tokens: int) -> str:
    """A greedy (temperature 0) answer, so the comparison is repeatable."""
    messages = ([ChatMessage("system", system)] if system else []) + [ChatMessage("user", prompt)]
    chunks = workspace.chat(PROVIDER, model, messages, max_tokens=max_tokens, temperature=0.0)
    return "".join(chunk.text for chunk in chunks).strip()


def compare(
    workspace: Workspace,
    tuned_model: str,
    prompts: Iterable[str],
    system: str | None,
    *,
    max_tokens: int = 96,
    on_result: Callable[[Comparison], None] | None = None,
) -> list[Comparison]:
    results = []
    for prompt in prompts:
        result = Comparison(
            prompt,
            base=answer(workspace, BASE_MODEL, system, prompt, max_tokens),
            tuned=answer(workspace, tuned_model, system, prompt, max_tokens),
        )
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def clean_up(workspace: Workspace, tuned_model: str | None, *, keep_model: bool) -> list[str]:
    """Unload every model the local backend holds and, unless kept, delete the tuned model. Returns what was done."""
    from tunedeck.endpoints.teardown import teardown_endpoint

    provider = workspace.provider(PROVIDER)
    done = []
    # Recorded first, so an adapter that goes with its base model counts as already gone, not unknown.
    for view in workspace.refresh_endpoints(only=PROVIDER).ours:
        result = teardown_endpoint(workspace.store, provider, view.id, reason="demo clean-up")
        done.append(
            f"unloaded {view.id} ({result.outcome})" if result.ok else f"could not unload {view.id}: {result.detail}"
        )
    if tuned_model and not keep_model:
        provider.delete_model(tuned_model)
        done.append(f"deleted {tuned_model}")
    return done
