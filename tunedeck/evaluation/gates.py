"""`--fail-if` gates for CI: conditions on the summary that, when true, make `eval` exit 1.

A condition is `MODEL.METRIC OP MODEL.METRIC` or `MODEL.METRIC OP NUMBER`, OP one of < <= > >= == !=. MODEL is a
model's label or its letter by position (A = the first model, B = the second …); METRIC is a metric's full name
(`contains:— Byte`) or its family when the run has one metric of that family (`contains`). The value compared
is the pass rate or the mean score.
"""

from __future__ import annotations

import math
import operator
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tunedeck.errors import UsageError

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_SPLIT = re.compile(r"\s*(<=|>=|==|!=|<|>)\s*")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Operand:
    model: str | None
    metric: str | None
    number: float | None = None

    def describe(self) -> str:
        return f"{self.number:g}" if self.number is not None else f"{self.model}.{self.metric}"


@dataclass(frozen=True)
class Gate:
    text: str
    left: Operand
    op: str
    right: Operand


@dataclass(frozen=True)
class GateResult:
    condition: str
    crossed: bool
    detail: str


def parse_gate(text: str, labels: Sequence[str], metrics: Sequence[tuple[str, str]]) -> Gate:
    """`metrics` are (name, family) pairs of the run; errors name what is known (exit 2)."""
    parts = _SPLIT.split(text.strip())
    if len(parts) != 3:
        raise UsageError(
            f"--fail-if {text!r} is not a condition.",
            'Write MODEL.METRIC OP MODEL.METRIC or MODEL.METRIC OP NUMBER, e.g. "B.contains < A.contains".',
        )
    left, op, right = parts
    return Gate(text, _operand(left, labels, metrics, text), op, _operand(right, labels, metrics, text))


def _operand(part: str, labels: Sequence[str], metrics: Sequence[tuple[str, str]], text: str) -> Operand:
    if _NUMBER.match(part):
        return Operand(None, None, float(part))
    letters = {string.ascii_uppercase[i]: label for i, label in enumerate(labels[:26])}
    # Longest label first: labels such as "gpt-4.1-mini" contain dots themselves.
    for label in sorted([*labels, *letters], key=len, reverse=True):
        if part.startswith(label + "."):
            model = letters.get(label, label) if label not in labels else label
            return Operand(model, _metric(part[len(label) + 1 :], metrics, text), None)
    known = ", ".join(f"{letter} ({label})" for letter, label in letters.items())
    raise UsageError(f"--fail-if {text!r}: {part!r} names no model of this run.", f"Models: {known}.")


def _metric(name: str, metrics: Sequence[tuple[str, str]], text: str) -> str:
    exact = [full for full, _family in metrics if full == name]
    if exact:
        return exact[0]
    family = [full for full, fam in metrics if fam == name]
    if len(family) == 1:
        return family[0]
    known = ", ".join(full for full, _family in metrics)
    if len(family) > 1:
        raise UsageError(f"--fail-if {text!r}: {name!r} is ambiguous here.", f"Give the full name, one of: {known}.")
    raise UsageError(f"--fail-if {text!r}: this run has no metric {name!r}.", f"Metrics: {known}.")


def evaluate_gate(gate: Gate, value_of: Callable[[str, str], float | None]) -> GateResult:
    """`value_of(model, metric)` is the pass rate or mean (None or NaN when nothing was scored)."""
    values = []
    for operand in (gate.left, gate.right):
        if operand.number is not None:
            values.append(operand.number)
            continue
        assert operand.model is not None and operand.metric is not None
        value = value_of(operand.model, operand.metric)
        if value is None or math.isnan(value):
            # Nothing to compare is not a pass: a gate in CI must not wave through a run that scored nothing.
            return GateResult(gate.text, True, f"{operand.describe()} has no scored answers")
        values.append(value)
    crossed = _OPS[gate.op](values[0], values[1])
    detail = f"{gate.left.describe()} = {values[0]:.3f} {gate.op} {gate.right.describe()} = {values[1]:.3f}"
    return GateResult(gate.text, crossed, f"{detail}: {'crossed' if crossed else 'not crossed'}")
