"""Offline tokenizers checked against tiktoken's hashes, OpenAI's counting method, epochs and priced estimates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.data.helpers import good_file
from tunedeck.costs import estimate_training_cost, training_price
from tunedeck.data import tokens
from tunedeck.data.model import Example, Message
from tunedeck.data.rules import auto_epochs
from tunedeck.data.tokencount import TokenCounter, count_messages, count_texts
from tunedeck.data.validate import validate_file
from tunedeck.errors import UnavailableError, UsageError
from tunedeck.settings import load_settings


def test_encodings_load_offline_and_match_known_ids() -> None:
    assert tokens.get_encoding("cl100k_base").encode("hello world") == [15339, 1917]
    assert tokens.get_encoding("o200k_base").encode("hello world") == [24912, 2375]


def test_model_to_encoding() -> None:
    assert tokens.encoding_name_for_model("gpt-4o-mini-2024-07-18") == "o200k_base"
    assert tokens.encoding_name_for_model("ft:gpt-4.1-nano-2025-04-14:org::abc") == "o200k_base"
    assert tokens.encoding_name_for_model("gpt-3.5-turbo-0125") == "cl100k_base"
    assert tokens.encoding_for_model("gpt-4-0613").name == "cl100k_base"
    with pytest.raises(UsageError):
        tokens.encoding_name_for_model("claude-3")


def test_a_corrupt_or_missing_bpe_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "fake.tiktoken"
    fake.write_bytes(b"aGk= 0\n")
    find = tokens.find_bpe_file
    monkeypatch.setattr(tokens, "find_bpe_file", lambda spec: fake)
    tokens.get_encoding.cache_clear()
    try:
        with pytest.raises(UnavailableError, match="does not match"):
            tokens.get_encoding("o200k_base")
    finally:
        tokens.get_encoding.cache_clear()
    spec = tokens.EncodingSpec("x", "0", "", {}, (("no_such_package_here", "x.tiktoken"),))
    with pytest.raises(UnavailableError, match="pip install"):
        find(spec)


def test_openai_counting_method() -> None:
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hi", "name": "bob"},
        {"role": "assistant", "content": "Hello!"},
    ]
    # 3 per message + role + content, +1 and the name's tokens for `name`, +3 reply primer.
    assert count_messages(messages, "cl100k_base") == 3 + (1 + 4) + 3 + (1 + 1 + 1 + 1) + 3 + (1 + 2) + 3
    example = Example(
        system="You are helpful.", messages=[Message("user", "Hi", name="bob"), Message("assistant", "Hello!")]
    )
    with TokenCounter("cl100k_base") as counter:
        [counted] = counter.add(1, example) + counter.flush()
    assert counted.tokens == count_messages(messages, "cl100k_base")
    assert counted.assistant_tokens == 2


def test_chunked_counts_equal_one_by_one() -> None:
    enc = tokens.get_encoding("o200k_base")
    texts = ["a  ", " b", "x<|endoftext|>y", "", "hi<|endofprompt|>", "\n\n", "end.\n", "ünï 123456 ", "  "]
    assert count_texts(enc, texts) == [len(enc.encode_ordinary(t)) for t in texts]


def test_auto_epochs_rule() -> None:
    assert auto_epochs(10, "openai") == 10  # raised so that 10 × epochs ≥ 100
    assert auto_epochs(3, "openai") == 25  # capped at 25
    assert auto_epochs(1000, "openai") == 3
    assert auto_epochs(10_000, "openai") == 2  # lowered so that examples × epochs ≤ 25,000
    assert auto_epochs(50_000, "openai") == 1
    assert auto_epochs(500, "vertex") is None


def test_prices_are_dated_sourced_and_overridable(isolated_home: Path) -> None:
    price = training_price("openai", "gpt-4o-mini-2024-07-18")
    assert price.matched == "gpt-4o-mini" and price.usd_per_million_tokens == 3.0
    assert price.as_of and price.source.startswith("https://")
    assert training_price("local", "anything").usd_per_million_tokens == 0.0
    cost = estimate_training_cost("openai", "gpt-4o-mini", 1_000_000, 3)
    assert cost.trained_tokens == 3_000_000 and cost.estimated_usd == 9.0
    assert "estimated" in cost.describe() and price.as_of in cost.describe()
    config = isolated_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[prices.openai."gpt-4o-mini"]\ntraining_usd_per_million_tokens = 1.5\nas_of = "2030-01-01"\n')
    settings = load_settings()
    custom = training_price("openai", "gpt-4o-mini-2024-07-18", settings)
    assert custom.usd_per_million_tokens == 1.5 and custom.from_user_config and custom.as_of == "2030-01-01"
    assert custom.source == "your config.toml"
    with pytest.raises(UsageError):
        training_price("openai", "davinci-001")


def test_stats_for_a_clean_file(tmp_path: Path) -> None:
    stats = validate_file(good_file(tmp_path / "d.jsonl", n=20), encoding="cl100k_base").stats
    assert stats.n_valid_examples == 20 and stats.encoding == "cl100k_base"
    assert stats.messages_per_example is not None and stats.messages_per_example.median == 3
    assert stats.tokens_per_example is not None and stats.tokens_per_example.p10 <= stats.tokens_per_example.p90
    assert stats.billable_tokens == stats.total_tokens
    assert stats.auto_epochs == 5 and stats.cost is not None and stats.cost.n_epochs == 5
    assert not stats.tokens_are_estimate


def test_parallel_workers_give_the_same_counts(tmp_path: Path) -> None:
    path = good_file(tmp_path / "d.jsonl", n=300)
    one = validate_file(path, workers=0).stats
    two = validate_file(path, workers=1).stats
    assert one.total_tokens == two.total_tokens and one.tokens_per_example == two.tokens_per_example


def test_chunked_counts_with_surrogates_and_without_the_buffer_path() -> None:
    texts = ["a\ud800b", "ok \udfff", "😀 pair", "", "x<|endoftext|>y", "plain words here"]
    for name in ("o200k_base", "cl100k_base"):
        enc = tokens.get_encoding(name)
        expected = [len(enc.encode_ordinary(t)) for t in texts]
        assert count_texts(enc, texts) == expected

    class NoBuffer:
        """An encoding whose core lacks encode_to_tiktoken_buffer: the token-list path is taken."""

        def __init__(self, inner: object) -> None:
            self._inner = inner
            self._core_bpe = object()

        def __getattr__(self, name: str) -> object:
            return getattr(self._inner, name)

    enc = tokens.get_encoding("o200k_base")
    assert count_texts(NoBuffer(enc), texts) == [len(enc.encode_ordinary(t)) for t in texts]  # type: ignore[arg-type]
