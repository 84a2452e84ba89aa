"""Intervals and paired tests against published worked examples and cases computed by hand."""

from __future__ import annotations

import pytest

from tunedeck.evaluation import stats


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
        # methods", Stat Med 17:857-872, Table I, method 3 (Wilson score without continuity correction).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_newcombes_published_table(successes: int, n: int, low: float, high: float) -> None:
    est = stats.wilson(successes, n)
    assert est.value == pytest.approx(successes / n)
    assert est.low == pytest.approx(low, abs=5e-5) and est.high == pytest.approx(high, abs=5e-5)
    assert est.method == "wilson" and est.successes == successes


def test_mcnemar_exact_matches_the_published_example() -> None:
    # Fagerland, Lydersen & Laake (2013), BMC Med Res Methodol 13:91, Table 1 (Bentur et al. 2009): airway
    # hyper-responsiveness before/after stem cell transplantation, 1 yes→no and 7 no→yes of 21 children;
    # exact conditional McNemar p = 0.070.
    before = [True] * 2 + [False] * 19  # 1 yes/yes, 1 yes/no
    after = [True, False] + [True] * 7 + [False] * 12
    result = stats.mcnemar_paired(before, after)
    assert (result.pass_to_fail, result.fail_to_pass, result.n) == (1, 7, 21)
    assert result.p_value == pytest.approx(0.0703, abs=5e-5)  # = 2 · (1 + 8) / 2^8 = 18/256
    assert result.diff == pytest.approx(6 / 21) and not result.significant and result.decidable


def test_mcnemar_by_hand() -> None:
    # 6 items flip fail→pass, none the other way: p = 2 · 0.5^6 = 0.03125, the smallest 6 flips can give.
    a = [False] * 6 + [True] * 2 + [False] * 2
    b = [True] * 6 + [True] * 2 + [False] * 2
    result = stats.mcnemar_paired(a, b)
    assert result.p_value == pytest.approx(0.03125) and result.min_p == pytest.approx(0.03125)
    assert result.significant and result.diff == pytest.approx(0.6)
    # 5 flips can never reach p < 0.05 (2 · 0.5^5 = 0.0625): "too few items to tell", not "no difference".
    result = stats.mcnemar_paired(a[1:], b[1:])
    assert not result.decidable and result.p_value == pytest.approx(0.0625)
    same = stats.mcnemar_paired([True, False], [True, False])
    assert same.p_value == 1.0 and same.differing == 0 and not same.decidable


def test_newcombe_paired_interval_by_hand() -> None:
    # 10 items: 5 both pass, 1 only A, 3 only B, 1 neither → p_A = 0.6, p_B = 0.8.
    # Wilson (z = 1.95996): A [0.312674, 0.831820], B [0.490162, 0.943318];
    # phi = (5·1 − 1·3) / sqrt(6·4·8·2) = 0.102062;
    # lower = 0.2 − sqrt((0.8 − 0.490162)² − 2·phi·(0.8 − 0.490162)(0.831820 − 0.6) + (0.831820 − 0.6)²)
    #       = −0.167530; upper = 0.2 + sqrt((0.943318 − 0.8)² − 2·phi·(0.943318 − 0.8)(0.6 − 0.312674)
    #       + (0.6 − 0.312674)²) = 0.507719.
    low, high = stats.newcombe_paired(5, 1, 3, 1)
    assert low == pytest.approx(-0.167530, abs=1e-6) and high == pytest.approx(0.507719, abs=1e-6)
    # The interval is used for the difference McNemar tests.
    result = stats.mcnemar_paired([True] * 6 + [False] * 4, [True] * 5 + [False] + [True] * 3 + [False])
    assert (result.low, result.high) == pytest.approx((low, high))


def test_paired_scores_permutation_p_by_hand() -> None:
    # Differences 1, 2, 3, −1: of the 16 sign assignments, 3 have sum ≥ 5 (the observed sum) and 3 have
    # sum ≤ −5 → exact two-sided p = 6/16 = 0.375.
    result = stats.paired_scores([0, 0, 0, 1], [1, 2, 3, 0])
    assert result.p_value == pytest.approx(0.375) and result.diff == pytest.approx(1.25)
    assert not result.decidable  # 4 differing items: at best p = 2/16
    # Six equal gains: p = 2/2^6 = 0.03125; every resample has the same mean, so the interval is a point.
    result = stats.paired_scores([0.5] * 6 + [0.3, 0.3], [0.7] * 6 + [0.3, 0.3])
    assert result.p_value == pytest.approx(0.03125) and result.significant
    assert result.diff == pytest.approx(0.15) and result.low is not None and result.low > 0


def test_paired_scores_without_differences() -> None:
    result = stats.paired_scores([0.4, 0.5], [0.4, 0.5])
    assert (result.diff, result.low, result.high, result.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_bootstrap_mean() -> None:
    values = [0.1, 0.4, 0.35, 0.8, 0.6, 0.2, 0.9, 0.5]
    est = stats.bootstrap_mean(values)
    assert est.value == pytest.approx(sum(values) / 8)
    assert est.low is not None and est.high is not None and est.low < est.value < est.high
    assert est.low > 0.1 and est.high < 0.9
    assert stats.bootstrap_mean(values) == est  # seeded: the same records give the same interval
    assert stats.bootstrap_mean([0.5, 0.5, 0.5]) == stats.Estimate(0.5, 0.5, 0.5, 3, "bootstrap")
    one = stats.bootstrap_mean([0.7])
    assert (one.value, one.low, one.high) == (0.7, None, None)


def test_sign_test_and_thresholds() -> None:
    assert stats.sign_test(0, 6, ties=4).p_value == pytest.approx(0.03125)
    assert stats.sign_test(1, 1).p_value == pytest.approx(1.0)
    assert stats.min_items_for_a_verdict() == 6
    assert stats.format_p(0.0019) == "p=0.0019" and stats.format_p(0.0004) == "p<0.001"
    assert stats.format_p(0.41) == "p=0.41" and stats.format_diff(0.583) == "+0.58"
