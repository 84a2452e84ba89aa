"""Word tokens and safe FTS5 queries built from free text (questions never reach FTS5's query syntax raw)."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)

# Only the commonest function words: BM25 already down-weights frequent terms, but dropping these
# keeps `OR` queries from matching every chunk on "the" and "is".
STOPWORDS = frozenset(
    """a an and are as at be but by can do does for from had has have how i if in is it its me my
    of on or our so that the their them then there these this to was we what when where which who
    why will with you your""".split()  # noqa: SIM905 - a word list reads better as prose
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits, underscore), the unit every metric and query uses."""
    return [token.casefold() for token in _WORD.findall(text)]


def match_query(text: str, max_terms: int = 32) -> str | None:
    """An FTS5 MATCH expression: each distinct content word quoted, OR-ed; None when nothing is left."""
    terms: dict[str, None] = {}
    for token in words(text):
        if token not in STOPWORDS and len(terms) < max_terms:
            terms.setdefault(token, None)
    if not terms:
        # A question made only of stopwords ("how do I?") still deserves some ranking.
        terms = dict.fromkeys(words(text)[:max_terms])
    if not terms:
        return None
    return " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
