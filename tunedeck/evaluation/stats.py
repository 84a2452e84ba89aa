"""Intervals and paired tests for comparing models on the same items, from statsmodels and SciPy.

- pass rate: Wilson score interval (statsmodels `proportion_confint(method="wilson")`);
- mean score: bootstrap interval (SciPy `bootstrap`, BCa; percentile above 500 items, where BCa's jackknife
  costs more than it adds);
- two models, pass/fail: exact McNemar test on the discordant items (statsmodels `mcnemar(exact=True)`), the
  difference in pass rates with Newcombe's paired interval (his 1998 method 10, built from the two Wilson
  intervals: the textbook interval for paired proportions, which no library we ship offers);
- two models, scores: the mean paired difference with a paired bootstrap interval, and the p-value of the
  paired sign-flip permutation test (SciPy `permutation_test`; exact whenever 2^n ≤ 9,999 resamples), which
  keeps its nominal level on small samples where a p-value read off the bootstrap distribution does not;
- pairwise judge: exact sign test on the items either side won (SciPy `binomtest`).

Every test here is two-sided at α = 0.05. "Too few items to tell" is said when even the most lopsided
result the sample allows could not reach p < α (fewer than 6 items that differ), rather than "no difference".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
CONFIDENCE = 1 - ALPHA
RESAMPLES = 9_999
SEED = 20261130
"""Fixed, so the same records always give the same intervals and p-values."""
BCA_MAX_N = 500


@dataclass(frozen=True)
class Estimate:
    """A pass rate or a mean with its 95% interval (None when the sample cannot give one)."""

    value: float
    low: float | None
    high: float | None
    n: int
    method: str
    successes: int | None = None


@dataclass(frozen=True)
class Paired:
    """B − A on the same items: the difference, its 95% interval, the two-sided p-value and how it was tested."""

    n: int
    diff: float
    low: float | None
    high: float | None
    p_value: float
    test: str
    min_p: float
    """The smallest p-value this many differing items could ever give: ≥ α means "too few items to tell"."""
    differing: int
    pass_to_fail: int | None = None
    """Pass/fail metrics: items A passed and B failed."""
    fail_to_pass: int | None = None

    @property
    def decidable(self) -> bool:
        return self.min_p < ALPHA

    @property
    def significant(self) -> bool:
        return self.decidable and self.p_value < ALPHA


def wilson(successes: int, n: int) -> Estimate:
    from statsmodels.stats.proportion import proportion_confint  # deferred: statsmodels imports slowly

    if n == 0:
        return Estimate(math.nan, None, None, 0, "wilson", 0)
    low, high = proportion_confint(successes, n, alpha=ALPHA, method="wilson")
    return Estimate(successes / n, float(low), float(high), n, "wilson", successes)


def bootstrap_mean(values: Sequence[float]) -> Estimate:
    data = np.asarray(values, dtype=float)
    n = len(data)
    if n == 0:
        return Estimate(math.nan, None, None, 0, "bootstrap")
    mean = float(data.mean())
    if n < 2:
        return Estimate(mean, None, None, n, "bootstrap")
    if np.ptp(data) == 0:  # every resample has the same mean; BCa would divide by zero
        return Estimate(mean, mean, mean, n, "bootstrap")
    low, high = _bootstrap_interval(data)
    return Estimate(mean, low, high, n, "bootstrap")


def _bootstrap_interval(data: np.ndarray) -> tuple[float, float]:
    from scipy.stats import bootstrap

    method = "BCa" if len(data) <= BCA_MAX_N else "percentile"
    result = bootstrap(
        (data,), np.mean, confidence_level=CONFIDENCE, n_resamples=RESAMPLES, method=method,
        rng=np.random.default_rng(SEED),
    )  # fmt: skip
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def mcnemar_paired(a: Sequence[bool], b: Sequence[bool]) -> Paired:
    """Exact McNemar on paired pass/fail results; the difference is B's pass rate minus A's."""
    from statsmodels.stats.contingency_tables import mcnemar

    if len(a) != len(b):
        raise ValueError("paired results must be the same length")
    n = len(a)
    both = sum(1 for x, y in zip(a, b, strict=True) if x and y)
    pass_to_fail = sum(1 for x, y in zip(a, b, strict=True) if x and not y)
    fail_to_pass = sum(1 for x, y in zip(a, b, strict=True) if not x and y)
    neither = n - both - pass_to_fail - fail_to_pass
    differing = pass_to_fail + fail_to_pass
    if differing == 0:
        p_value = 1.0
    else:
        p_value = float(mcnemar([[both, pass_to_fail], [fail_to_pass, neither]], exact=True).pvalue)
    diff = (fail_to_pass - pass_to_fail) / n if n else math.nan
    low, high = newcombe_paired(both, pass_to_fail, fail_to_pass, neither) if n else (None, None)
    return Paired(
        n, diff, low, high, min(1.0, p_value), "exact McNemar", _min_p(differing), differing, pass_to_fail,
        fail_to_pass,
    )  # fmt: skip


def newcombe_paired(both: int, a_only: int, b_only: int, neither: int) -> tuple[float, float]:
    """95% interval for p_B − p_A from paired counts: Newcombe (1998, Stat Med 17:2635), method 10."""
    n = both + a_only + b_only + neither
    p_a, p_b = (both + a_only) / n, (both + b_only) / n
    a_est, b_est = wilson(both + a_only, n), wilson(both + b_only, n)
    assert a_est.low is not None and a_est.high is not None and b_est.low is not None and b_est.high is not None
    l_a, u_a, l_b, u_b = a_est.low, a_est.high, b_est.low, b_est.high
    # phi: the correlation of the two results over items; 0 when a margin is empty (Newcombe's convention).
    margins = (both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither)
    phi = (both * neither - a_only * b_only) / math.sqrt(margins) if margins else 0.0
    diff = p_b - p_a
    lower = math.sqrt(max(0.0, (p_b - l_b) ** 2 - 2 * phi * (p_b - l_b) * (u_a - p_a) + (u_a - p_a) ** 2))
    upper = math.sqrt(max(0.0, (u_b - p_b) ** 2 - 2 * phi * (u_b - p_b) * (p_a - l_a) + (p_a - l_a) ** 2))
    return max(-1.0, diff - lower), min(1.0, diff + upper)


def paired_scores(a: Sequence[float], b: Sequence[float]) -> Paired:
    """Mean of B − A per item: paired bootstrap interval, sign-flip permutation p-value."""
    from scipy.stats import permutation_test

    if len(a) != len(b):
        raise ValueError("paired results must be the same length")
    diffs = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = len(diffs)
    differing = int(np.count_nonzero(diffs))
    if n == 0:
        return Paired(0, math.nan, None, None, 1.0, "paired bootstrap", 1.0, 0)
    mean = float(diffs.mean())
    if differing == 0:
        return Paired(n, 0.0, 0.0, 0.0, 1.0, "paired bootstrap", 1.0, 0)
    low, high = _bootstrap_interval(diffs) if n >= 2 and np.ptp(diffs) > 0 else (mean, mean)
    result = permutation_test(
        (diffs,), _mean_along, permutation_type="samples", vectorized=True, n_resamples=RESAMPLES,
        alternative="two-sided", rng=np.random.default_rng(SEED),
    )  # fmt: skip
    return Paired(n, mean, low, high, min(1.0, float(result.pvalue)), "paired bootstrap", _min_p(differing), differing)


def _mean_along(x: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x, axis=axis)


def sign_test(wins_a: int, wins_b: int, ties: int = 0) -> Paired:
    """Pairwise-judge verdicts: exact two-sided sign test on the items one side won (ties carry no information)."""
    from scipy.stats import binomtest

    decided = wins_a + wins_b
    n = decided + ties
    p_value = float(binomtest(wins_b, decided, 0.5).pvalue) if decided else 1.0
    diff = (wins_b - wins_a) / n if n else math.nan
    return Paired(n, diff, None, None, p_value, "sign test", _min_p(decided), decided, wins_a, wins_b)


def _min_p(differing: int) -> float:
    """Two-sided exact tests on `differing` informative items cannot go below 2 · 0.5^differing."""
    return 1.0 if differing == 0 else min(1.0, 2.0 * 0.5**differing)


def min_items_for_a_verdict() -> int:
    """How many items must differ before p < α is possible at all (6 at α = 0.05)."""
    k = 1
    while _min_p(k) >= ALPHA:
        k += 1
    return k


def format_p(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.2g}" if p < 0.1 else f"p={p:.2f}"


def format_diff(value: float) -> str:
    return f"{value:+.2f}" if abs(value) < 10 else f"{value:+.1f}"
