"""`tunedeck serve`: run the local backend's OpenAI- and Anthropic-compatible HTTP server (options only; the
launch rules live in `localbackend.server.launch`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class LogLevel(StrEnum):
    """uvicorn's level names: anything else would fail inside uvicorn with a KeyError."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"
    TRACE = "trace"


def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback requires an API key.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one (see <data-dir>/server.json).")
    ] = 8765,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where files, jobs and adapters live.")] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", help="Bearer token clients must send (or TUNEDECK_LOCAL_API_KEY).", show_default=False
        ),
    ] = None,
    idle_unload: Annotated[
        float | None,
        typer.Option("--idle-unload", min=0.001, help="Unload a model after this many idle seconds."),
    ] = None,
    max_jobs: Annotated[
        int | None,
        typer.Option(
            "--max-jobs", min=1, help="Fine-tuning jobs that train at once (default: 1 below 8 cores, else cores/4)."
        ),
    ] = None,
    idle_exit: Annotated[
        float | None,
        typer.Option("--idle-exit", min=0.1, help="Stop after this many seconds with no job, loaded model or request."),
    ] = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", min=0.001, max=1024 * 1024, help="Largest upload accepted, in MiB.")
    ] = 512,
    log_level: Annotated[LogLevel, typer.Option("--log-level", help="uvicorn's log level.")] = LogLevel.WARNING,
) -> None:
    """Serve the local backend: OpenAI's /v1 files, fine-tuning, models and chat, plus Anthropic's /v1/messages.

    LoRA options go beside OpenAI's hyperparameters in `method.supervised.hyperparameters`: lora_rank,
    lora_alpha, lora_targets, max_seq_len, eval_every. Loaded models: GET/DELETE /v1/loaded_models.
    """
    from localbackend.server.launch import LaunchOptions, serve_forever
    from tunedeck.settings import get_secret, load_settings

    settings = load_settings()
    secret = get_secret("local")
    serve_forever(
        LaunchOptions(
            host=host,
            port=port,
            data_dir=(data_dir or settings.data_dir / "local-backend").expanduser().resolve(),
            cache_dir=settings.cache_dir,
            api_key=api_key or (secret.get_secret_value() if secret else None),
            idle_unload_s=idle_unload,
            max_jobs=max_jobs,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024),
            log_level=log_level.value,
            idle_exit_s=idle_exit,
        )
    )
