"""Offline answer-vs-reference scores, implemented here so results are reproducible without downloads.

Both work on `text.words` tokens: lower-cased runs of letters/digits/underscore (punctuation and emoji
dropped, no stemming, no stopword removal).
- token F1 (SQuAD style): multiset overlap; P = overlap/len(candidate), R = overlap/len(reference).
- ROUGE-L F1: LCS length of the two token sequences; P = LCS/len(candidate), R = LCS/len(reference), β = 1.
Both are 1.0 when both texts are empty and 0.0 when exactly one is.
"""

from __future__ import annotations

from collections import Counter

from tunedeck.profiles.text import words


def _f1(common: int, candidate_len: int, reference_len: int) -> float:
    if candidate_len == 0 and reference_len == 0:
        return 1.0
    if common == 0:
        return 0.0
    precision = common / candidate_len
    recall = common / reference_len
    return 2 * precision * recall / (precision + recall)


def token_f1(candidate: str, reference: str) -> float:
    cand, ref = words(candidate), words(reference)
    common = sum((Counter(cand) & Counter(ref)).values())
    return _f1(common, len(cand), len(ref))


def lcs_length(a: list[str], b: list[str]) -> int:
    """Classic O(len(a)·len(b)) dynamic programme with one row of memory."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if token == other else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l_f1(candidate: str, reference: str) -> float:
    cand, ref = words(candidate), words(reference)
    return _f1(lcs_length(cand, ref), len(cand), len(ref))
