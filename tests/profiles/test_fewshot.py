"""Few-shot selection: first N, BM25-similar N, and never the evaluated question itself."""

from __future__ import annotations

from pathlib import Path

from tests.profiles.conftest import EXAMPLES, write_dataset
from tunedeck.profiles.examples import load_examples
from tunedeck.profiles.fewshot import FewShotSelector


def _selector(tmp_path: Path, selection: str, count: int = 2) -> FewShotSelector:
    examples = load_examples(write_dataset(tmp_path / "train.jsonl", EXAMPLES))
    return FewShotSelector(examples, count=count, selection=selection)


def test_first_takes_dataset_order(tmp_path: Path) -> None:
    chosen = _selector(tmp_path, "first").select("anything about VPN")
    assert [ex.question for ex in chosen] == [EXAMPLES[0][0], EXAMPLES[1][0]]


def test_similar_ranks_by_bm25(tmp_path: Path) -> None:
    selector = _selector(tmp_path, "similar")
    chosen = selector.select("vpn certificate error again")
    assert [ex.question for ex in chosen] == ["VPN says certificate error.", "The VPN will not connect from home."]
    assert selector.select("printers printing faint")[0].question == "My printer prints faint grey pages."


def test_similar_pads_with_first_and_excludes_the_question(tmp_path: Path) -> None:
    selector = _selector(tmp_path, "similar", count=3)
    chosen = selector.select("toner")
    assert chosen[0].question == "My printer prints faint grey pages."
    assert [ex.question for ex in chosen[1:]] == [EXAMPLES[0][0], EXAMPLES[1][0]]
    held_out = "VPN says certificate error."
    assert held_out not in [ex.question for ex in selector.select(held_out, exclude=[held_out])]
    assert _selector(tmp_path, "similar", count=0).select("vpn") == []


def test_examples_keep_system_and_history(tmp_path: Path) -> None:
    path = tmp_path / "multi.jsonl"
    path.write_text(
        '{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "q1"}, '
        '{"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"}, '
        '{"role": "assistant", "content": "a2"}]}\n',
        encoding="utf-8",
    )
    (example,) = load_examples(path)
    assert (example.system, example.history, example.question, example.answer) == (
        "S",
        (("user", "q1"), ("assistant", "a1")),
        "q2",
        "a2",
    )
