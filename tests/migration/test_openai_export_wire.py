"""`providers/openai_export.py` against OpenAI's wire shapes (a stub on loopback): a model's shutdown_date, and a
download that fails leaves no file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from providers import errors
from providers.openai_adapter import OpenAIConfig, OpenAIProvider
from providers.openai_export import OpenAIExport
from tests.providers.stub_http import Reply, stub_server
from tunedeck.migration.listing import list_fine_tunes

MODEL = "ft:gpt-4o-mini-2024-07-18:acme::abc123"


def adapter(url: str) -> OpenAIProvider:
    return OpenAIProvider(OpenAIConfig(api_key=SecretStr("stub-key-123"), base_url=f"{url}/v1", max_retries=0))


def test_a_models_shutdown_date_is_read_when_the_api_gives_it() -> None:
    with stub_server() as stub:
        stub.replies[f"GET /v1/models/{MODEL}"] = Reply(
            body={"id": MODEL, "object": "model", "created": 1730000000, "owned_by": "acme",
                  "shutdown_date": "2027-03-31"}
        )  # fmt: skip
        stub.replies["GET /v1/models/gpt-4.1"] = Reply(
            body={"id": "gpt-4.1", "object": "model", "created": 1730000000, "owned_by": "system"}
        )
        export = OpenAIExport(adapter(stub.url))
        found = export.model(MODEL)
        assert found.shutdown_date == "2027-03-31" and found.fine_tuned and found.owned_by == "acme"
        assert export.model("gpt-4.1").shutdown_date is None
        assert export.secrets() == ["stub-key-123"]


def test_list_joins_jobs_with_shutdown_dates_and_orphan_models() -> None:
    job = {
        "object": "fine_tuning.job", "id": "ftjob-1", "model": "gpt-4o-mini-2024-07-18", "created_at": 1730000000,
        "finished_at": 1730000500, "fine_tuned_model": MODEL, "organization_id": "org", "result_files": [],
        "status": "succeeded", "validation_file": None, "training_file": "file-1", "hyperparameters": {},
        "trained_tokens": 10, "error": None, "seed": 1,
    }  # fmt: skip
    orphan = "ft:gpt-3.5-turbo-0125:acme::old1"
    with stub_server() as stub:
        stub.replies["GET /v1/fine_tuning/jobs"] = Reply(body={"object": "list", "data": [job], "has_more": False})
        stub.replies["GET /v1/models"] = Reply(body={"object": "list", "data": [
            {"id": MODEL, "object": "model", "created": 1, "owned_by": "acme", "shutdown_date": "2027-03-31"},
            {"id": MODEL + ":ckpt-step-10", "object": "model", "created": 1, "owned_by": "acme"},
            {"id": orphan, "object": "model", "created": 1, "owned_by": "acme"},
            {"id": "gpt-4.1", "object": "model", "created": 1, "owned_by": "system"},
        ]})  # fmt: skip
        found = list_fine_tunes(adapter(stub.url), {"ftjob-1": "td-1"})
    rows = {row.model: row for row in found.rows}
    assert set(rows) == {MODEL, orphan}  # the checkpoint and the base model are not rows
    assert rows[MODEL].shutdown_date == "2027-03-31" and rows[MODEL].tunedeck_job == "td-1"
    assert rows[orphan].job_id == "" and rows[orphan].base_model == "gpt-3.5-turbo-0125"


def test_a_failed_download_leaves_nothing(tmp_path: Path) -> None:
    with stub_server() as stub:
        stub.replies["GET /v1/files/file-9/content"] = Reply(status=404, body={"error": {"message": "No such File"}})
        target = tmp_path / "training.jsonl"
        with pytest.raises(errors.NotFoundError):
            OpenAIExport(adapter(stub.url)).download("file-9", target)
    assert list(tmp_path.iterdir()) == []
