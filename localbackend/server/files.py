"""`/v1/files`: upload (validated for fine-tuning), list, retrieve, download and delete training files."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from localbackend.db import new_id, now
from localbackend.server import result_files
from localbackend.server.edge import EdgeRoute, check_text
from localbackend.server.errors import bad_request, not_found
from localbackend.server.pagination import check_limit, list_page
from localbackend.server.state import Services, Svc

router = APIRouter(prefix="/v1/files", tags=["files"], route_class=EdgeRoute)

SUPPORTED_PURPOSES = ("fine-tune",)
MAX_FILENAME_CHARS = 512
# How many line-numbered reasons an invalid upload's error lists before "and N more".
MAX_REASONS = 10


def file_object(row: dict[str, Any]) -> dict[str, Any]:
    # No `expires_at` or `status_details`: local files never expire, and OpenAI's spec types both as optional
    # integer/string, so a null breaks clients generated from it; absent is what it allows.
    return {
        "id": row["id"],
        "object": "file",
        "bytes": row["bytes"],
        "created_at": row["created_at"],
        "filename": row["filename"],
        "purpose": row["purpose"],
        "status": "processed",
    }


def _validation_message(path: Path) -> str | None:
    """None when the file is fit for local fine-tuning, else the reasons, each with its line number."""
    from tunedeck.data.validate import validate_file  # deferred: tiktoken loads its encodings

    report = validate_file(path, provider="local")
    if report.ok:
        return None
    reasons = [
        f"line {issue.line}: {issue.message.rstrip('.')}" if issue.line else issue.message.rstrip(".")
        for issue in report.errors
    ]
    shown = "; ".join(reasons[:MAX_REASONS])
    more = f"; and {len(reasons) - MAX_REASONS} more" if len(reasons) > MAX_REASONS else ""
    return f"Invalid file format for fine-tuning: {shown}{more}."


def _store(svc: Services, upload: UploadFile, file_id: str) -> tuple[Path, int]:
    """Copy the upload beside its final place, then validate; only a valid file is renamed into place."""
    target = svc.config.files_dir / f"{file_id}.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{file_id}.", suffix=".jsonl", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            upload.file.seek(0)
            shutil.copyfileobj(upload.file, out)
            out.flush()
            os.fsync(out.fileno())
        size = os.path.getsize(tmp_name)
        if size == 0:
            raise bad_request("The uploaded file is empty.", param="file", code="invalid_file_format")
        problem = _validation_message(Path(tmp_name))
        if problem:
            raise bad_request(problem, param="file", code="invalid_file_format")
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return target, size


def _filename(upload: UploadFile) -> str:
    """The file's name as the client sent it. Every current client sends UTF-8; bytes that are not UTF-8 are
    shown as U+FFFD (Starlette reads them as latin-1, which stored "cafÃ©" for a name it could not decode)."""
    from python_multipart.multipart import parse_options_header  # Starlette's own multipart parser

    name = upload.filename or ""
    for header, value in upload.headers.raw:
        if header.lower() == b"content-disposition":
            sent = parse_options_header(value)[1].get(b"filename")
            if isinstance(sent, bytes):
                name = sent.decode("utf-8", "replace")
    name = Path(name).name or "upload.jsonl"
    check_text(name, "file")
    if len(name) > MAX_FILENAME_CHARS:
        raise bad_request(f"The file name is too long: at most {MAX_FILENAME_CHARS} characters.", param="file")
    return name


@router.post("")
async def upload_file(file: Annotated[UploadFile, File()], purpose: Annotated[str, Form()], svc: Svc) -> dict[str, Any]:
    check_text(purpose, "purpose")
    filename = _filename(file)
    if purpose not in SUPPORTED_PURPOSES:
        raise bad_request(
            f"Invalid purpose {purpose!r}: the local backend accepts only {', '.join(SUPPORTED_PURPOSES)}.",
            param="purpose",
        )
    file_id = new_id("file-")
    path, size = await run_in_threadpool(_store, svc, file, file_id)
    row = {
        "id": file_id,
        "filename": filename,
        "bytes": size,
        "purpose": purpose,
        "path": str(path),
        "created_at": now(),
    }
    svc.db.insert("files", row)
    return file_object(row)


@router.get("")
async def list_files(
    svc: Svc,
    purpose: str | None = None,
    limit: int = 10000,
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
) -> dict[str, Any]:
    check_limit(limit, 10000)
    where, params = ("purpose = ?", [purpose]) if purpose else ("1", [])
    rows, more = svc.db.page("files", after=after, limit=limit, where=where, params=params, ascending=order == "asc")
    page = list_page([file_object(r) for r in rows], more)
    if not rows:  # OpenAI's spec requires first_id/last_id as strings here, even for an empty page
        page["first_id"] = page["last_id"] = ""
    return page


def _get(svc: Services, file_id: str) -> dict[str, Any]:
    row = svc.db.get("files", file_id) or result_files.materialise(svc, file_id)
    if row is None:
        raise not_found(f"No such File object: {file_id}", param="id")
    return row


@router.get("/{file_id}")
async def retrieve_file(file_id: str, svc: Svc) -> dict[str, Any]:
    return file_object(_get(svc, file_id))


@router.get("/{file_id}/content")
async def file_content(file_id: str, svc: Svc) -> FileResponse:
    row = _get(svc, file_id)
    if not Path(row["path"]).is_file():
        raise not_found(f"The content of file {file_id} is missing from the data dir.", param="id")
    return FileResponse(row["path"], media_type="application/octet-stream", filename=row["filename"])


@router.delete("/{file_id}")
async def delete_file(file_id: str, svc: Svc) -> dict[str, Any]:
    row = _get(svc, file_id)
    svc.db.delete("files", file_id)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(row["path"])
    return {"id": file_id, "object": "file", "deleted": True}
