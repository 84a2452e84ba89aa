"""ROUGE-L F1 and token F1 against values worked out by hand (see the comments)."""

from __future__ import annotations

import pytest

from tunedeck.profiles.metrics import lcs_length, rouge_l_f1, token_f1


@pytest.mark.parametrize(
    ("candidate", "reference", "rouge_l", "f1"),
    [
        # 6 vs 6 tokens; LCS "the cat on the mat" = 5; overlap the×2 cat on mat = 5 → both 5/6.
        ("the cat sat on the mat", "the cat is on the mat", 5 / 6, 5 / 6),
        # Classic ROUGE example: LCS police·the·gunman = 3 of 4 each side → 0.75; overlap 3 → 0.75.
        ("police killed the gunman", "police kill the gunman", 0.75, 0.75),
        # Same words reordered: LCS "the gunman" = 2 → P=R=1/2 → 0.5; bag overlap still 3 → 0.75.
        ("the gunman police killed", "police kill the gunman", 0.5, 0.75),
        # Fully reversed: every token shared (F1 = 1) but LCS = 1 → P=R=1/4 → 0.25.
        ("a b c d", "d c b a", 0.25, 1.0),
        # Short candidate: LCS 2, P=1, R=2/6 → F = 2·1·(1/3)/(4/3) = 0.5.
        ("a b", "a b c d e f", 0.5, 0.5),
        # Repeats are clipped: overlap min(3,1)=1 → P=1/3, R=1/2 → F = 2·(1/6)/(5/6) = 0.4.
        ("a a a", "a b", 0.4, 0.4),
        # Case and punctuation do not count.
        ("Hello, World!", "hello world", 1.0, 1.0),
        ("", "", 1.0, 1.0),
        ("", "something", 0.0, 0.0),
        ("no overlap here", "completely different words", 0.0, 0.0),
    ],
)
def test_hand_computed(candidate: str, reference: str, rouge_l: float, f1: float) -> None:
    assert rouge_l_f1(candidate, reference) == pytest.approx(rouge_l)
    assert token_f1(candidate, reference) == pytest.approx(f1)


def test_lcs_is_symmetric() -> None:
    a, b = ["x", "a", "y", "b", "z", "c"], ["a", "b", "c"]
    assert lcs_length(a, b) == lcs_length(b, a) == 3
