"""Choose few-shot examples: the first N of a dataset, or the N most similar to the question by BM25."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection

from tunedeck.profiles.examples import Example, load_examples
from tunedeck.profiles.schema import FewShot
from tunedeck.profiles.text import match_query, words

# The question is what a new question resembles; the answer's words help a little (same topic).
_RANK = "bm25(examples, 3.0, 1.0)"


class FewShotSelector:
    """Holds the dataset and, for `similar`, an in-memory FTS5 index of it (built once, reused per turn)."""

    def __init__(self, examples: list[Example], *, count: int, selection: str = "similar") -> None:
        self.examples = examples
        self.count = count
        self.selection = selection
        self._db: sqlite3.Connection | None = None
        if selection == "similar" and examples:
            self._db = sqlite3.connect(":memory:")
            self._db.execute("CREATE VIRTUAL TABLE examples USING fts5(question, answer, tokenize='porter unicode61')")
            self._db.executemany(
                "INSERT INTO examples(rowid, question, answer) VALUES (?, ?, ?)",
                [(i, ex.question, ex.answer) for i, ex in enumerate(examples)],
            )

    @classmethod
    def from_config(cls, config: FewShot) -> FewShotSelector:
        return cls(load_examples(config.dataset), count=config.count, selection=config.selection)

    def select(self, question: str, exclude: Collection[str] = ()) -> list[Example]:
        """`count` examples; questions in `exclude` never appear (so an eval never shows the model its answer).

        `similar` pads with the dataset's first examples when fewer than `count` share a word with the question.
        """
        if self.count == 0:
            return []
        banned = {_norm(text) for text in exclude}
        allowed = [i for i, ex in enumerate(self.examples) if _norm(ex.question) not in banned]
        chosen: list[int] = []
        query = match_query(question) if self._db is not None else None
        if query is not None and self._db is not None:
            rows = self._db.execute(
                f"SELECT rowid FROM examples WHERE examples MATCH ? ORDER BY {_RANK} LIMIT ?",
                (query, self.count + len(banned)),
            ).fetchall()
            allowed_set = set(allowed)
            chosen = [row[0] for row in rows if row[0] in allowed_set][: self.count]
        for index in allowed:
            if len(chosen) >= self.count:
                break
            if index not in chosen:
                chosen.append(index)
        return [self.examples[i] for i in chosen]


def _norm(text: str) -> str:
    return " ".join(words(text))
