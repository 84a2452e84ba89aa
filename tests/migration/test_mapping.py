"""Hyperparameter mapping from an OpenAI job to a comparable local or Vertex job, and the days-left arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from providers.openai_export import shutdown_iso
from tunedeck.migration.deadline import days_left, describe
from tunedeck.migration.mapping import map_hyperparameters, source_hyperparameters

OPENAI = {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 1.8}


def test_local_keeps_all_three_and_says_what_differs() -> None:
    mapped = map_hyperparameters(OPENAI, "local")
    assert (mapped.n_epochs, mapped.batch_size, mapped.learning_rate_multiplier) == (3, 4, 1.8)
    assert len(mapped.notes) == 2
    assert "scales the target's own default rate (2e-3 (LoRA))" in mapped.notes[0]
    assert mapped.notes[1].startswith("batch size 4: carried over")


def test_vertex_drops_the_batch_size_and_says_so() -> None:
    mapped = map_hyperparameters(OPENAI, "vertex")
    assert (mapped.n_epochs, mapped.batch_size, mapped.learning_rate_multiplier) == (3, "auto", 1.8)
    assert any("Vertex takes no batch size for Gemini" in note for note in mapped.notes)


def test_overrides_win_and_silence_their_note() -> None:
    mapped = map_hyperparameters(OPENAI, "vertex", {"learning_rate_multiplier": 0.5, "batch_size": None})
    assert mapped.learning_rate_multiplier == 0.5
    assert not any("learning-rate" in note for note in mapped.notes)
    local = map_hyperparameters(OPENAI, "local", {"batch_size": 8, "n_epochs": 1})
    assert (local.n_epochs, local.batch_size) == (1, 8) and not any("batch" in n for n in local.notes)


def test_auto_stays_auto_and_an_unrecorded_epoch_count_is_said() -> None:
    mapped = map_hyperparameters(
        {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}, "local"
    )
    assert (mapped.n_epochs, mapped.batch_size, mapped.learning_rate_multiplier) == ("auto", "auto", "auto")
    assert mapped.notes == ["epochs: the OpenAI job did not record a number; the target chooses (auto)."]


def test_unknown_target_is_refused() -> None:
    with pytest.raises(ValueError):
        map_hyperparameters(OPENAI, "azure")


def test_the_method_hyperparameters_win_over_the_legacy_field() -> None:
    job = {
        "hyperparameters": {"n_epochs": "auto", "batch_size": 2},
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 5, "lora_rank": 8}}},
    }
    assert source_hyperparameters(job) == {"n_epochs": 5, "batch_size": 2, "learning_rate_multiplier": "auto"}
    assert source_hyperparameters({}) == {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto"}


def test_days_left_before_new_jobs_stop() -> None:
    assert days_left(date(2026, 11, 30)) == 37
    assert days_left(date(2027, 1, 6)) == 0 and days_left(date(2027, 1, 7)) == -1
    assert describe(date(2026, 11, 30)).startswith("37 days left") and "2027-01-06" in describe(date(2026, 11, 30))
    assert describe(date(2027, 1, 5)).startswith("1 day left")
    assert "last day" in describe(date(2027, 1, 6)) and "stopped" in describe(date(2027, 2, 1))


def test_shutdown_dates_as_iso_whatever_the_api_sends() -> None:
    assert shutdown_iso("2027-03-01") == "2027-03-01"
    assert shutdown_iso(1804118400) == "2027-03-04"  # midnight UTC
    assert shutdown_iso(None) is None and shutdown_iso("") is None and shutdown_iso(0) is None
