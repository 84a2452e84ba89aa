"""The arithmetic of `advise` against hand-computed cases: prices from the table, cost per 1,000 requests, the
break-even volume (a tuned model dearer per token than its base that still pays off, one that never does, a free
local model, unknown prices), and the verdict read off paired comparisons."""

from __future__ import annotations

import pytest

from tunedeck.advice import decide
from tunedeck.advice.candidates import Candidate, TrainingCost, latency
from tunedeck.advice.costs import LOCAL_PRICE, break_even, cost_per_1000, request_price
from tunedeck.evaluation.report import Comparison
from tunedeck.settings import Settings, load_settings


@pytest.fixture
def settings(isolated_home: object) -> Settings:
    return load_settings()


def test_a_tuned_model_is_priced_apart_from_its_base(settings: Settings) -> None:
    base = request_price(settings, "openai", "gpt-4o-mini", tuned=False)
    tuned = request_price(settings, "openai", "ft:gpt-4o-mini-2024-07-18:acme::abc123", tuned=True)
    assert base is not None and tuned is not None
    assert (base.input_usd_per_million, base.output_usd_per_million) == (0.15, 0.60)
    assert (tuned.input_usd_per_million, tuned.output_usd_per_million) == (0.30, 1.20)
    assert base.as_of == "2025-06-01" and "openai.com" in base.source
    # Vertex has no inference price in the table: unknown, never free.
    assert request_price(settings, "vertex", "gemini-2.5-flash", tuned=False) is None
    assert request_price(settings, "anthropic", "claude-sonnet-4-5", tuned=False) is None
    local = request_price(settings, "local", "smollm2-135m-instruct", tuned=True)
    assert local is LOCAL_PRICE and local.free and "no provider charge" in local.describe()


def test_cost_per_1000_requests_by_hand(settings: Settings) -> None:
    base = request_price(settings, "openai", "gpt-4o-mini", tuned=False)
    tuned = request_price(settings, "openai", "ft:gpt-4o-mini:acme::abc", tuned=True)
    # A profile's 1,200-token prompt (few-shot + retrieval) on the base: (1200·0.15 + 100·0.60)/1e6 = $0.00024.
    assert cost_per_1000(base, 1200, 100) == pytest.approx(0.24)
    # The tuned model's 200-token prompt at twice the per-token price: (200·0.30 + 100·1.20)/1e6 = $0.00018.
    assert cost_per_1000(tuned, 200, 100) == pytest.approx(0.18)
    assert cost_per_1000(None, 200, 100) is None
    assert cost_per_1000(base, None, 100) is None
    assert cost_per_1000(LOCAL_PRICE, None, None) == 0.0  # local: free whatever the tokens


def test_break_even_of_a_tuned_model_dearer_per_token_but_with_shorter_prompts() -> None:
    # Saving $0.06 per 1,000 requests; training $3.00 → 50,000 requests; over 12 months ⌈50,000/12⌉ = 4,167 a month.
    result = break_even(0.18, 0.24, 3.00, volume_per_month=10_000)
    assert result.status == "volume"
    assert result.savings_per_1000_usd == pytest.approx(0.06)
    assert (result.requests, result.per_month, result.months) == (50_000, 4_167, 12)
    assert result.payback_months == pytest.approx(5.0)  # $3 / ($0.06 · 10)
    assert "50,000 requests" in result.describe() and "5.0 months" in result.describe()
    assert break_even(0.18, 0.24, 3.00, months=1).per_month == 50_000


def test_break_even_never_when_the_tuned_model_costs_more_per_request(settings: Settings) -> None:
    base = request_price(settings, "openai", "gpt-4o-mini", tuned=False)
    tuned = request_price(settings, "openai", "ft:gpt-4o-mini:acme::abc", tuned=True)
    # A 400-token prompt on the base: (400·0.15 + 100·0.60)/1e6 = $0.00012 < the tuned model's $0.00018.
    prompting, fine_tuned = cost_per_1000(base, 400, 100), cost_per_1000(tuned, 200, 100)
    assert prompting == pytest.approx(0.12)
    result = break_even(fine_tuned, prompting, 3.00)
    assert result.status == "never" and result.requests is None and result.savings_per_1000_usd == pytest.approx(-0.06)
    assert "never" in result.describe()


def test_break_even_with_free_and_unknown_costs() -> None:
    assert break_even(0.0, 0.0, 0.0).status == "never"  # all local: nothing to save
    assert break_even(0.0, 0.24, 0.0).status == "immediately"
    assert break_even(None, 0.24, 3.0).status == "unknown"
    unknown = break_even(0.18, 0.24, None)
    assert unknown.status == "unknown" and unknown.savings_per_1000_usd == pytest.approx(0.06)


def test_latency_median_and_p90() -> None:
    assert latency([]) == (None, None)
    assert latency([0.5]) == (0.5, 0.5)
    median, p90 = latency([float(v) for v in range(1, 11)])  # 1..10: median 5.5, p90 (inclusive) 9.1
    assert median == 5.5 and p90 == pytest.approx(9.1)


def _candidate(label: str, per_1000: float | None, training: float | None = None) -> Candidate:
    c = Candidate(label, label, "openai", label, cost_per_1000_usd=per_1000, prompt_tokens_per_request=10.0)
    if training is not None:
        c.training = TrainingCost(training, "job td-1: actual cost")
    return c


def _cmp(a: str, b: str, outcome: str, verdict: str = "", p: float = 0.5) -> Comparison:
    return Comparison("contains:X", "pass", a, b, 20, 0.0, None, None, p, "exact McNemar", outcome, verdict)


def test_indistinguishable_candidates_get_no_winner_and_a_break_even() -> None:
    candidates = [_candidate("base", 0.05), _candidate("profile", 0.24), _candidate("tuned", 0.18, 3.0)]
    comparisons = [
        _cmp("base", "profile", "b-better", "profile beats base on contains:X (+0.80, p<0.001)", 0.0001),
        _cmp("base", "tuned", "b-better", "tuned beats base on contains:X (+0.80, p<0.001)", 0.0001),
        _cmp("profile", "tuned", "no-clear-difference"),
    ]
    advice = decide("ev-1", 20, candidates, comparisons, volume_per_month=10_000)
    assert advice.best == ["profile", "tuned"] and advice.indistinguishable == [["profile", "tuned"]]
    assert advice.cheapest_among_best == "tuned" and advice.against == "profile"
    assert advice.outcome == "fine-tuning-pays-off" and advice.break_even is not None
    assert advice.break_even.per_month == 4_167
    assert "profile and tuned are statistically indistinguishable" in advice.recommendation
    assert "above 4,167 requests/month" in advice.recommendation and "it pays off" in advice.recommendation
    assert "beats" not in advice.recommendation  # no winner claimed between the two


def test_prompting_enough_fine_tuning_wins_and_too_few_items() -> None:
    candidates = [_candidate("base", 0.05), _candidate("profile", 0.12), _candidate("tuned", 0.18, 3.0)]
    tie = [
        _cmp("base", "profile", "b-better", "profile beats base", 0.001),
        _cmp("base", "tuned", "b-better", "tuned beats base", 0.001),
        _cmp("profile", "tuned", "too-few-items"),
    ]
    advice = decide("ev-1", 20, candidates, tie)
    assert advice.outcome == "prompting-enough" and advice.break_even is not None
    assert advice.break_even.status == "never" and "costs more per request" in advice.recommendation

    wins = [
        _cmp("base", "profile", "no-clear-difference"),
        _cmp("base", "tuned", "b-better", "tuned beats base on contains:X (+0.60, p=0.002)", 0.002),
        _cmp("profile", "tuned", "b-better", "tuned beats profile on contains:X (+0.55, p=0.004)", 0.004),
    ]
    advice = decide("ev-1", 20, candidates, wins)
    assert advice.outcome == "fine-tuning-wins" and advice.best == ["tuned"] and advice.break_even is None
    assert "tuned beats profile on contains:X (+0.55, p=0.004)" in advice.recommendation

    loses = [_cmp("base", "tuned", "a-better", "base beats tuned (+0.5, p=0.01)", 0.01)]
    advice = decide("ev-1", 20, candidates[::2], loses)
    assert advice.outcome == "prompting-enough" and advice.best == ["base"]

    few = [
        _cmp("base", "profile", "too-few-items"),
        _cmp("base", "tuned", "too-few-items"),
        _cmp("profile", "tuned", "too-few-items"),
    ]
    advice = decide("ev-1", 3, candidates, few)
    assert advice.outcome == "too-few-items" and advice.recommendation.startswith("too few items to tell")
    assert advice.best == ["base", "profile", "tuned"]


def test_an_unknown_price_names_no_cheapest() -> None:
    candidates = [_candidate("base", None), _candidate("tuned", 0.18, 3.0)]
    advice = decide("ev-1", 20, candidates, [_cmp("base", "tuned", "no-clear-difference")])
    assert advice.cheapest_among_best is None and advice.outcome == "cost-unknown"
    assert "cannot be named: a price is unknown" in advice.paragraph


def test_free_candidates_tie_and_none_is_called_cheaper() -> None:
    candidates = [_candidate("base", 0.0), _candidate("profile", 0.0), _candidate("tuned", 0.0, 0.0)]
    comparisons = [
        _cmp("base", "profile", "b-better", "profile beats base", 0.001),
        _cmp("base", "tuned", "b-better", "tuned beats base", 0.001),
        _cmp("profile", "tuned", "no-clear-difference"),
    ]
    advice = decide("ev-1", 10, candidates, comparisons)
    assert advice.cheapest_among_best is None and advice.against == "profile"
    assert "profile and tuned cost the same per request" in advice.paragraph
    assert advice.break_even is not None and advice.break_even.status == "never"
    assert advice.outcome == "prompting-enough" and "saves nothing per request" in advice.recommendation
