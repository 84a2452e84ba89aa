"""The evaluation metrics, each named `NAME[:ARG]` on the command line and in eval files (stable names).

Pass/fail metrics score 1.0 or 0.0; scores lie in [0, 1]; `length` is a count. Word-based metrics share one
tokenization, `tunedeck.profiles.text.words`: lower-cased runs of letters, digits and underscore (punctuation
and emoji dropped, no stemming), so token F1 and ROUGE-L here equal those of `profile eval` before.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from tunedeck.errors import UsageError
from tunedeck.profiles.metrics import rouge_l_f1, token_f1
from tunedeck.profiles.text import words

DEFAULT_METRICS = ("token-f1", "rouge-l")
JUDGE = "judge"
JUDGE_SCORE = "judge-score"


class Kind(StrEnum):
    PASS = "pass"
    """1.0 or 0.0 per answer: reported as a pass rate (Wilson interval), compared with exact McNemar."""
    SCORE = "score"
    """A number in [0, 1] per answer: reported as a mean (bootstrap interval), compared by paired bootstrap."""
    VALUE = "value"
    """A count (answer length): compared like a score, but neither direction is called better."""


Scorer = Callable[[str, str], float]


@dataclass(frozen=True)
class Metric:
    name: str
    """As written: `contains:— Byte`, `rouge-l`, `judge` (the key of its scores in the store)."""
    family: str
    kind: Kind
    description: str
    scorer: Scorer | None = None
    """(output, reference) → score; None for judge metrics (their scores come from verdicts) and for metrics
    rebuilt from a stored run for reporting (`from_dict`), which score nothing."""

    @property
    def higher_is_better(self) -> bool | None:
        return None if self.kind is Kind.VALUE else True

    @property
    def judged(self) -> bool:
        return self.family == JUDGE

    def score(self, output: str, reference: str) -> float:
        assert self.scorer is not None, f"{self.name} has no scorer here"
        return float(self.scorer(output, reference))

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "family": self.family, "kind": str(self.kind), "description": self.description}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Metric:
        return cls(data["name"], data["family"], Kind(data["kind"]), data["description"])


def normalize(text: str) -> str:
    """NFKC, case-folded, punctuation removed, runs of whitespace made one space (`normalized`'s folding)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch for ch in folded if not unicodedata.category(ch).startswith("P"))
    return " ".join(kept.split())


def _exact(output: str, reference: str) -> float:
    return float(output.strip() == reference.strip())


def _normalized(output: str, reference: str) -> float:
    return float(normalize(output) == normalize(reference))


def _length(output: str, _reference: str) -> float:
    return float(len(words(output)))


_FENCE = re.compile(r"^```[\w-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)


def parse_json_answer(output: str) -> Any:
    """The answer as JSON: the whole text, or the inside of one ```json fenced block; ValueError if neither."""
    text = output.strip()
    fenced = _FENCE.match(text)
    return orjson.loads(fenced.group(1) if fenced else text)


def _json_schema(arg: str, base_dir: Path) -> tuple[Scorer, str]:
    import jsonschema  # deferred: only runs that use the metric pay for it

    path = Path(arg).expanduser()
    path = path if path.is_absolute() else base_dir / path
    try:
        schema = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UsageError(f"json-schema:{arg}: cannot read {path} ({exc.strerror}).", "Check the path.") from exc
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"json-schema:{arg}: {path} is not JSON ({exc}).", "Give a JSON Schema file.") from exc
    cls = jsonschema.validators.validator_for(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise UsageError(f"json-schema:{arg}: {path} is not a valid JSON Schema ({exc.message}).") from exc
    validator = cls(schema)

    def score(output: str, _reference: str) -> float:
        try:
            value = parse_json_answer(output)
        except ValueError:
            return 0.0
        return float(validator.is_valid(value))

    return score, f"parses as JSON and validates against {path.name}"


def _regex(arg: str) -> Scorer:
    try:
        pattern = re.compile(arg)
    except re.error as exc:
        raise UsageError(f"regex:{arg} is not a valid regular expression ({exc}).", "Python `re` syntax.") from exc
    return lambda output, _reference: float(pattern.search(output) is not None)


# family → (kind, takes an argument, description)
FAMILIES: dict[str, tuple[Kind, bool, str]] = {
    "exact": (Kind.PASS, False, "the answer equals the reference (outer whitespace ignored)"),
    "normalized": (Kind.PASS, False, "equal after folding case, whitespace and punctuation"),
    "contains": (Kind.PASS, True, "the answer contains TEXT (case-sensitive)"),
    "not-contains": (Kind.PASS, True, "the answer does not contain TEXT (case-sensitive)"),
    "regex": (Kind.PASS, True, "PATTERN (Python re) matches somewhere in the answer"),
    "json-schema": (Kind.PASS, True, "the answer parses as JSON and validates against the schema in FILE"),
    "token-f1": (Kind.SCORE, False, "SQuAD-style token F1 against the reference (word tokens, lower-cased)"),
    "rouge-l": (Kind.SCORE, False, "ROUGE-L F1 (longest common subsequence of word tokens, lower-cased)"),
    "length": (Kind.VALUE, False, "number of word tokens in the answer"),
}


def parse_metric(spec: str, base_dir: Path | None = None) -> Metric:
    """`NAME[:ARG]` → a Metric; a clear UsageError (exit 2) names the known metrics otherwise."""
    family, sep, arg = spec.partition(":")
    family = family.strip().lower()
    if family in (JUDGE, JUDGE_SCORE):
        raise UsageError(f"{spec!r}: the judge metrics come from --judge MODEL --rubric TEXT, not --metric.")
    if family not in FAMILIES:
        raise UsageError(f"Unknown metric {spec!r}.", f"Known: {', '.join(FAMILIES)} (see README, Evaluation).")
    kind, takes_arg, description = FAMILIES[family]
    if takes_arg and not (sep and arg):
        raise UsageError(f"The metric {family} needs an argument: {family}:VALUE.", f"e.g. --metric '{family}:…'")
    if not takes_arg and sep:
        raise UsageError(f"The metric {family} takes no argument (got {spec!r}).")
    name = f"{family}:{arg}" if takes_arg else family
    scorer: Scorer
    if family == "exact":
        scorer = _exact
    elif family == "normalized":
        scorer = _normalized
    elif family == "contains":
        scorer = lambda output, _ref: float(arg in output)  # noqa: E731 - one-line closures over arg
        description = f"the answer contains {arg!r} (case-sensitive)"
    elif family == "not-contains":
        scorer = lambda output, _ref: float(arg not in output)  # noqa: E731
        description = f"the answer does not contain {arg!r} (case-sensitive)"
    elif family == "regex":
        scorer = _regex(arg)
        description = f"/{arg}/ matches somewhere in the answer"
    elif family == "json-schema":
        scorer, description = _json_schema(arg, base_dir or Path.cwd())
    elif family == "token-f1":
        scorer = token_f1
    elif family == "rouge-l":
        scorer = rouge_l_f1
    else:
        scorer = _length
    return Metric(name, family, kind, description, scorer)


def parse_metrics(specs: list[str] | tuple[str, ...], base_dir: Path | None = None) -> list[Metric]:
    """Each spec once, in order; none given means the reference-based defaults (token-f1, rouge-l)."""
    metrics: dict[str, Metric] = {}
    for spec in specs or DEFAULT_METRICS:
        metric = parse_metric(spec, base_dir)
        metrics.setdefault(metric.name, metric)
    return list(metrics.values())


def judge_metrics(judge_label: str) -> list[Metric]:
    opinion = f"a judge's opinion ({judge_label}), not a measurement"
    return [
        Metric(JUDGE, JUDGE, Kind.PASS, f"the rubric is met, in {opinion}"),
        Metric(JUDGE_SCORE, JUDGE, Kind.SCORE, f"how well the rubric is met (0-10, shown /10), in {opinion}"),
    ]


def score_all(metrics: list[Metric], output: str, reference: str) -> dict[str, float]:
    return {m.name: m.score(output, reference) for m in metrics if not m.judged}
