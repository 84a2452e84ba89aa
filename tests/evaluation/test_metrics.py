"""Each metric against answers worked out by hand, and its parsing errors (what, where, what to do)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedeck.errors import UsageError
from tunedeck.evaluation.metrics import DEFAULT_METRICS, Kind, normalize, parse_metric, parse_metrics


@pytest.mark.parametrize(
    ("spec", "output", "reference", "expected"),
    [
        ("exact", "  Paris.\n", "Paris.", 1.0),  # outer whitespace only
        ("exact", "paris.", "Paris.", 0.0),
        ("normalized", "  PARIS!!  is   the capital ", "paris is the capital", 1.0),
        ("normalized", "Paris, France", "Paris France!", 1.0),  # punctuation dropped, not spaced
        ("normalized", "Paris", "Lyon", 0.0),
        ("contains:— Zorblax", "Four. — Zorblax", "", 1.0),
        ("contains:— Zorblax", "Four. — zorblax", "", 0.0),  # case-sensitive
        ("contains:a:b", "x a:b y", "", 1.0),  # the argument is everything after the first colon
        ("not-contains:As an AI", "Sure, here it is.", "", 1.0),
        ("not-contains:As an AI", "As an AI, I cannot.", "", 0.0),
        ("regex:^Happy to help", "Happy to help! Try this.", "", 1.0),
        ("regex:(?i)byte from it$", "… — Byte from IT", "", 1.0),
        ("regex:^Happy", "I am Happy", "", 0.0),
        # token F1: candidate {the, capital, is, paris} vs reference {paris, is, the, capital, of, france}:
        # overlap 4, P = 4/4, R = 4/6 → F1 = 2·1·(2/3)/(5/3) = 0.8.
        ("token-f1", "The capital is Paris", "Paris is the capital of France", 0.8),
        # ROUGE-L: LCS of (the capital is paris) and (paris is the capital of france) = "the capital" = 2 →
        # P = 2/4, R = 2/6 → F = 2·(1/2)(1/3)/(5/6) = 0.4.
        ("rouge-l", "The capital is Paris", "Paris is the capital of France", 0.4),
        ("length", "Hello, world — it's me!", "", 5.0),  # hello world it s me
        ("length", "", "x", 0.0),
    ],
)
def test_hand_computed(spec: str, output: str, reference: str, expected: float) -> None:
    assert parse_metric(spec).score(output, reference) == pytest.approx(expected)


def test_kinds_and_names() -> None:
    assert parse_metric("contains:X").kind is Kind.PASS and parse_metric("contains:X").name == "contains:X"
    assert parse_metric("ROUGE-L").name == "rouge-l" and parse_metric("rouge-l").kind is Kind.SCORE
    assert parse_metric("length").kind is Kind.VALUE and parse_metric("length").higher_is_better is None
    assert [m.name for m in parse_metrics([])] == list(DEFAULT_METRICS) == ["token-f1", "rouge-l"]
    assert [m.name for m in parse_metrics(["exact", "exact", "length"])] == ["exact", "length"]


def test_normalize_folds_case_whitespace_punctuation_and_width() -> None:
    assert normalize("  Ｈｅｌｌｏ,\tWORLD!  ") == "hello world"


def test_json_schema(tmp_path: Path) -> None:
    schema = tmp_path / "ticket.json"
    schema.write_text(
        json.dumps({"type": "object", "required": ["priority"], "properties": {"priority": {"enum": ["low", "high"]}}})
    )
    metric = parse_metric("json-schema:ticket.json", base_dir=tmp_path)
    assert metric.kind is Kind.PASS and "ticket.json" in metric.description
    assert metric.score('{"priority": "high"}', "") == 1.0
    assert metric.score('```json\n{"priority": "low"}\n```', "") == 1.0  # one fenced block is read
    assert metric.score('{"priority": "urgent"}', "") == 0.0  # parses, does not validate
    assert metric.score("priority: high", "") == 0.0  # does not parse


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bleu", "Unknown metric 'bleu'"),
        ("contains", "needs an argument"),
        ("contains:", "needs an argument"),
        ("exact:x", "takes no argument"),
        ("regex:(", "not a valid regular expression"),
        ("judge", "--judge MODEL --rubric"),
        ("json-schema:missing.json", "cannot read"),
    ],
)
def test_bad_specs_are_usage_errors(spec: str, message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        parse_metric(spec, base_dir=tmp_path)
    assert caught.value.exit_code == 2


def test_json_schema_that_is_not_a_schema(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"type": 12}')
    with pytest.raises(UsageError, match="not a valid JSON Schema"):
        parse_metric("json-schema:bad.json", base_dir=tmp_path)
    (tmp_path / "notjson.json").write_text("{")
    with pytest.raises(UsageError, match="is not JSON"):
        parse_metric("json-schema:notjson.json", base_dir=tmp_path)
