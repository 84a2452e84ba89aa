"""Dataset upload to GCS against the real fake-gcs-server binary: the object lands, byte-exact, verified."""

from __future__ import annotations

import base64
import hashlib
import uuid
from pathlib import Path

import pytest

from providers import errors
from providers.base import MANAGED_BY_LABEL
from providers.vertex.config import VertexConfig
from providers.vertex.gcs import upload_dataset
from tests.providers.conftest import FakeGCS


@pytest.fixture
def bucket(fake_gcs: FakeGCS) -> str:
    name = f"tunedeck-{uuid.uuid4().hex[:12]}"
    fake_gcs.client().create_bucket(name)
    return name


def _config(fake_gcs: FakeGCS, bucket: str) -> VertexConfig:
    from google.auth.credentials import AnonymousCredentials

    return VertexConfig(
        project=fake_gcs.project, bucket=bucket, storage_endpoint=fake_gcs.url, credentials=AnonymousCredentials()
    )


def _dataset(tmp_path: Path, lines: int = 200) -> Path:
    path = tmp_path / "train.jsonl"
    row = (
        '{"contents": [{"role": "user", "parts": [{"text": "question %d"}]}, '
        '{"role": "model", "parts": [{"text": "answer"}]}]}\n'
    )
    path.write_text("".join(row % i for i in range(lines)), encoding="utf-8")
    return path


def test_upload_lands_byte_exact_with_matching_checksums(fake_gcs: FakeGCS, bucket: str, tmp_path: Path) -> None:
    import google_crc32c

    path = _dataset(tmp_path)
    uri = upload_dataset(_config(fake_gcs, bucket), path)
    assert uri.startswith(f"gs://{bucket}/tunedeck/datasets/") and uri.endswith("/train.jsonl")
    blob = fake_gcs.client().bucket(bucket).get_blob(uri.removeprefix(f"gs://{bucket}/"))
    data = path.read_bytes()
    assert blob.download_as_bytes() == data
    assert blob.md5_hash == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert blob.crc32c == base64.b64encode(google_crc32c.Checksum(data).digest()).decode()
    assert blob.metadata[MANAGED_BY_LABEL] == "tunedeck"


def test_reupload_of_same_content_is_idempotent(fake_gcs: FakeGCS, bucket: str, tmp_path: Path) -> None:
    config = _config(fake_gcs, bucket)
    path = _dataset(tmp_path)
    first = upload_dataset(config, path)
    generation = fake_gcs.client().bucket(bucket).get_blob(first.removeprefix(f"gs://{bucket}/")).generation
    assert upload_dataset(config, path) == first
    again = fake_gcs.client().bucket(bucket).get_blob(first.removeprefix(f"gs://{bucket}/"))
    assert again.generation == generation  # not rewritten
    path.write_text(path.read_text() + "\n", encoding="utf-8")
    assert upload_dataset(config, path) != first  # new content, new object: old runs keep their data


def test_missing_bucket_is_a_translated_not_found(fake_gcs: FakeGCS, tmp_path: Path) -> None:
    with pytest.raises(errors.NotFoundError):
        upload_dataset(_config(fake_gcs, "no-such-bucket-here"), _dataset(tmp_path, 3))


def test_no_bucket_configured_says_where_to_set_it(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigurationError, match="No GCS bucket"):
        upload_dataset(VertexConfig(project="p"), _dataset(tmp_path, 1))


def test_multi_chunk_resumable_upload_verifies(
    fake_gcs: FakeGCS, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from providers.vertex import gcs

    monkeypatch.setattr(gcs, "CHUNK_SIZE", 256 * 1024)  # the smallest legal chunk: forces several PUTs
    path = _dataset(tmp_path, 8000)
    assert path.stat().st_size > 3 * 256 * 1024
    uri = upload_dataset(_config(fake_gcs, bucket), path)
    blob = fake_gcs.client().bucket(bucket).get_blob(uri.removeprefix(f"gs://{bucket}/"))
    assert blob.download_as_bytes() == path.read_bytes()
