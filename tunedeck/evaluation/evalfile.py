"""Eval files (`tunedeck eval run evals/support.yaml`): models with their providers, the data, metrics, judge, gates.

    data: heldout.jsonl              # relative paths are read from the eval file's folder
    models:
      - {name: base, model: smollm2-135m-instruct, provider: local}
      - {name: tuned, model: "ft:smollm2-135m-instruct:local:support:ftjob-1", provider: local}
      - {name: helpdesk, profile: helpdesk, provider: anthropic}
    metrics: [token-f1, rouge-l, "contains:— Byte"]
    judge: {model: gpt-4o-mini, provider: openai, rubric_file: rubric.md, pairwise: true}
    max_tokens: 128
    fail_if: ["tuned.contains < base.contains"]

Command-line flags given beside the file override its values (`--metric`, `--fail-if` replace its lists).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tunedeck.errors import UnreadableInputError, UsageError
from tunedeck.evaluation.plan import DEFAULT_CONCURRENCY, DEFAULT_MAX_TOKENS, EvalRequest
from tunedeck.evaluation.targets import ModelRef


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelEntry(_Strict):
    name: str | None = None
    model: str | None = None
    profile: str | None = None
    provider: str | None = None
    max_tokens: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_of(self) -> ModelEntry:
        if self.profile is None and self.model is None:
            raise ValueError("give `model:` or `profile:`")
        return self


class JudgeEntry(_Strict):
    model: str
    provider: str | None = None
    rubric: str | None = None
    rubric_file: str | None = None
    pairwise: bool = False

    @model_validator(mode="after")
    def _rubric(self) -> JudgeEntry:
        if (self.rubric is None) == (self.rubric_file is None):
            raise ValueError("give exactly one of `rubric:` and `rubric_file:`")
        return self


class EvalFile(_Strict):
    data: str
    models: list[ModelEntry] = Field(min_length=2)
    metrics: list[str] = Field(default_factory=list)
    judge: JudgeEntry | None = None
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    repeat: int = Field(default=1, ge=1)
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1)
    limit: int | None = Field(default=None, ge=1)
    fail_if: list[str] = Field(default_factory=list)


def load_eval_file(path: Path) -> EvalRequest:
    """The file as an EvalRequest; errors name the file, the line and the setting (exit 2)."""
    import yaml  # deferred: only eval files need it

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableInputError(f"Cannot read the eval file {path}: {exc}.", "Check the path.") from exc
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UsageError(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}.") from exc
    if not isinstance(raw, dict):
        raise UsageError(f"{path} must be a mapping with `data:` and `models:`.", "See README, Evaluation.")
    try:
        parsed = EvalFile.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(
            f"{path} is invalid:\n" + "\n".join(_describe(path, text, err) for err in exc.errors()),
            "See README, Evaluation, for the eval file's settings.",
        ) from exc
    base = path.parent.resolve()
    judge = parsed.judge
    rubric = None
    if judge is not None:
        rubric = judge.rubric if judge.rubric is not None else _rubric_file(base, str(judge.rubric_file))
    return EvalRequest(
        models=[
            ModelRef(model=m.model, provider=m.provider, profile=m.profile, label=m.name, max_tokens=m.max_tokens)
            for m in parsed.models
        ],
        data=_path(base, parsed.data),
        metrics=parsed.metrics,
        judge_model=judge.model if judge else None,
        judge_provider=judge.provider if judge else None,
        rubric=rubric,
        pairwise=judge.pairwise if judge else False,
        concurrency=parsed.concurrency,
        repeat=parsed.repeat,
        max_tokens=parsed.max_tokens,
        temperature=parsed.temperature,
        limit=parsed.limit,
        fail_if=parsed.fail_if,
        base_dir=base,
    )


def _rubric_file(base: Path, value: str) -> str:
    path = _path(base, value)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableInputError(f"Cannot read the judge's rubric_file {path}: {exc}.", "Check the path.") from exc


def _path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _describe(path: Path, text: str, err: Any) -> str:
    loc = tuple(str(part) for part in err["loc"])
    line = _locate(text, err["loc"])
    where = f"{path.name}:{line}: " if line else f"{path.name}: "
    message = {"extra_forbidden": "unknown setting (typo?)", "missing": "required setting is missing"}.get(
        err["type"], err["msg"]
    )
    return f"  {where}{'.'.join(loc) or '(top level)'}: {message}"


def _locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest part of `loc` found in the YAML (list indices included)."""
    import yaml

    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
