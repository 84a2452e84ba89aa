"""The local end-to-end rehearsal behind `make demo`: validate, upload, fine-tune, compare base vs tuned, clean up.

`run_demo` drives every step through the workspace and reports as it goes on the event stream (`StepStarted`,
`SubmissionPlanned`, the job's own events, `ProgressAdvanced` per answered question, `OutputLine` for the
clean-up), so the CLI only renders and a UI could run the same demo.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from providers.base import ChatMessage, TuningSpec
from tunedeck.errors import UsageError
from tunedeck.events import OutputLine, ProgressAdvanced, StepStarted, SubmissionPlanned
from tunedeck.jobs.submit import SubmissionPlan
from tunedeck.store import JobRecord
from tunedeck.workspace import Workspace

PROVIDER = "local"
BASE_MODEL = "smollm2-135m-instruct"
DATASET = Path("examples/helpdesk.jsonl")
PROMPTS = Path("examples/heldout_prompts.txt")
# The sample dataset's learnable style (examples/README.md): every reply signs off with this line.
TRAIT = "Byte from IT"
TASK = "demo"
STEPS = 5


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


@dataclass
class DemoResult:
    plan: SubmissionPlan | None = None
    job: JobRecord | None = None
    comparisons: list[Comparison] = field(default_factory=list)
    cleaned_up: list[str] = field(default_factory=list)

    @property
    def tuned_model(self) -> str | None:
        return self.job.fine_tuned_model if self.job else None

    @property
    def completed(self) -> bool:
        return bool(self.comparisons) and self.tuned_model is not None


def answer(workspace: Workspace, model: str, system: str | None, prompt: str, max_tokens: int) -> str:
    """A greedy (temperature 0) answer, so the comparison is repeatable."""
    messages = ([ChatMessage("system", system)] if system else []) + [ChatMessage("user", prompt)]
    return workspace.reply(PROVIDER, model, messages, max_tokens=max_tokens, temperature=0.0).reply.strip()


def compare(
    workspace: Workspace, tuned_model: str, prompts: Iterable[str], system: str | None, *, max_tokens: int = 96
) -> list[Comparison]:
    """Base and tuned answers to each prompt; a `ProgressAdvanced` event after each."""
    prompts = list(prompts)
    results = []
    for done, prompt in enumerate(prompts, start=1):
        result = Comparison(
            prompt,
            base=answer(workspace, BASE_MODEL, system, prompt, max_tokens),
            tuned=answer(workspace, tuned_model, system, prompt, max_tokens),
        )
        results.append(result)
        workspace.publish(ProgressAdvanced("compare", done, len(prompts), "questions", prompt))
    return results


def clean_up(workspace: Workspace, tuned_model: str | None, *, keep_model: bool) -> list[str]:
    """Unload every model the local backend holds and, unless kept, delete the tuned model. Returns what was done."""
    done = []
    # Recorded first, so an adapter that goes with its base model counts as already gone, not unknown.
    for view in workspace.endpoints.inventory(only=PROVIDER).ours:
        result = workspace.endpoints.teardown_targets([(PROVIDER, view.id)], reason="demo clean-up")[0]
        done.append(
            f"unloaded {view.id} ({result.outcome})" if result.ok else f"could not unload {view.id}: {result.detail}"
        )
        workspace.publish(OutputLine(TASK, done[-1]))
    if tuned_model and not keep_model:
        workspace.provider(PROVIDER).delete_model(tuned_model)
        done.append(f"deleted {tuned_model}")
        workspace.publish(OutputLine(TASK, done[-1]))
    return done


def run_demo(
    workspace: Workspace,
    dataset: Path,
    questions: list[str],
    *,
    keep_model: bool = False,
    epochs: int | None = None,
) -> DemoResult:
    """Split → validate → submit → train (followed live) → compare → clean up. Stops early (with what it has)
    when validation fails or the job ends without a model."""
    result = DemoResult()
    work_dir = workspace.settings.data_dir / "demo"

    def step(number: int, title: str) -> None:
        workspace.publish(StepStarted(TASK, number, STEPS, title))

    step(1, "validate and split")
    split = workspace.data.split(
        dataset, 0.1, 0, work_dir / "train.jsonl", work_dir / "validation.jsonl",
        overwrite=True,  # the demo's own work dir: a rerun replaces the last run's split
    )  # fmt: skip
    workspace.publish(
        OutputLine(TASK, f"{dataset}: {split.n_train} training / {split.n_validation} validation examples")
    )
    spec = TuningSpec(
        base_model=BASE_MODEL, training_file=split.train_path, suffix="helpdesk", seed=0, n_epochs=epochs or "auto"
    )
    result.plan = workspace.jobs.plan(PROVIDER, spec, Path(split.train_path), Path(split.validation_path))
    workspace.publish(SubmissionPlanned(result.plan))
    if not result.plan.ok:
        return result

    step(2, "upload and submit to the local backend")
    result.job = workspace.jobs.submit(result.plan)

    step(3, "fine-tune (LoRA on SmolLM2-135M-Instruct, CPU)")
    for _event in workspace.jobs.watch(result.job.id):
        pass  # the events reach every subscriber; the demo only waits for the end
    result.job = workspace.jobs.find(result.job.id)
    if result.tuned_model is None:
        return result

    step(4, f"base vs tuned on {len(questions)} held-out questions (greedy)")
    system = system_prompt_of(Path(split.train_path))
    result.comparisons = compare(workspace, result.tuned_model, questions, system)

    step(5, "clean up")
    result.cleaned_up = clean_up(workspace, result.tuned_model, keep_model=keep_model)
    return result
