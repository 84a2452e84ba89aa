"""`tunedeck serve`: run the local backend's OpenAI- and Anthropic-compatible HTTP server."""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from tunedeck.cli.output import stderr
from tunedeck.errors import UnavailableError, UsageError
from tunedeck.util.atomic import atomic_write_text

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_api_key(host: str, api_key: str | None) -> str | None:
    """The key clients must present. Off loopback a key is mandatory: a model server open to the network
    without one would train and serve for anyone who finds the port."""
    from tunedeck.settings import get_secret

    key = api_key or (secret.get_secret_value() if (secret := get_secret("local")) else None)
    if not key and not is_loopback(host):
        raise UsageError(
            f"Refusing to serve on {host} without an API key.",
            "Pass --api-key or set TUNEDECK_LOCAL_API_KEY; without a key, bind to 127.0.0.1.",
        )
    return key or None


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """One server per data dir: two would each believe they own the jobs they find `running`."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "server.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise UnavailableError(
                f"Another tunedeck server is already using {data_dir}.",
                f"Stop it first, or read {data_dir / 'server.json'} for its address.",
            ) from exc
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UnavailableError(
            f"Cannot listen on {host}:{port}: {exc.strerror}.", "Pick another --port (0 picks a free one)."
        ) from exc
    sock.set_inheritable(True)
    return sock


def serve(
    host: Annotated[
        str, typer.Option(help="Address to bind; anything but loopback requires an API key.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one (see <data-dir>/server.json).")] = 8765,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where files, jobs and adapters live.")] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", help="Bearer token clients must send (or TUNEDECK_LOCAL_API_KEY).", show_default=False
        ),
    ] = None,
    idle_unload: Annotated[
        float | None, typer.Option("--idle-unload", help="Unload a model after this many idle seconds.")
    ] = None,
    max_jobs: Annotated[int, typer.Option("--max-jobs", min=1, help="Fine-tuning jobs that train at once.")] = 1,
    idle_exit: Annotated[
        float | None,
        typer.Option("--idle-exit", min=0.1, help="Stop after this many seconds with no job, loaded model or request."),
    ] = None,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="Largest upload accepted, in MiB.")] = 512,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "warning",
) -> None:
    """Serve the local backend: OpenAI's /v1 files, fine-tuning, models and chat, plus Anthropic's /v1/messages.

    LoRA options go beside OpenAI's hyperparameters in `method.supervised.hyperparameters`: lora_rank,
    lora_alpha, lora_targets, max_seq_len, eval_every. Loaded models: GET/DELETE /v1/loaded_models.
    """
    from tunedeck.settings import load_settings

    settings = load_settings()
    data_dir = (data_dir or settings.data_dir / "local-backend").expanduser().resolve()
    key = resolve_api_key(host, api_key)
    with data_dir_lock(data_dir):
        sock = bind_socket(host, port)
        _run(
            sock,
            host,
            data_dir,
            settings.cache_dir,
            key,
            idle_unload,
            max_jobs,
            int(max_upload_mb * 1024 * 1024),
            log_level,
            idle_exit,
        )


def _run(
    sock: socket.socket,
    host: str,
    data_dir: Path,
    cache_dir: Path,
    key: str | None,
    idle_unload: float | None,
    max_jobs: int,
    max_upload: int,
    log_level: str,
    idle_exit: float | None = None,
) -> None:
    import uvicorn  # deferred: the server stack is only needed here

    from localbackend.server.app import create_app
    from localbackend.server.state import ServerConfig

    config = ServerConfig(
        data_dir=data_dir,
        cache_dir=cache_dir,
        api_key=key,
        idle_unload_s=idle_unload,
        max_jobs=max_jobs,
        max_upload_bytes=max_upload,
        idle_exit_s=idle_exit,
    )
    port = sock.getsockname()[1]
    display_host = f"[{host}]" if ":" in host else host
    info: dict[str, Any] = {
        "host": host,
        "port": port,
        "pid": os.getpid(),
        "base_url": f"http://{display_host}:{port}/v1",
        "started_at": int(time.time()),
    }
    server_json = data_dir / "server.json"

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                # Announce before publishing server.json: whoever waits on that file may read the log next.
                stderr.print(f"tunedeck serve: listening on {info['base_url']}", highlight=False, soft_wrap=True)
                stderr.file.flush()
                atomic_write_text(server_json, json.dumps(info, indent=2) + "\n")

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # Here, not only in `finally`: uvicorn re-raises SIGTERM/SIGINT once serving ends, which ends the
            # process before a `finally` after run() could remove the file.
            await super().shutdown(sockets)
            with contextlib.suppress(FileNotFoundError):
                server_json.unlink()

    uv_config = uvicorn.Config(
        create_app(config), log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=10
    )
    try:
        Server(uv_config).run(sockets=[sock])
    finally:
        with contextlib.suppress(FileNotFoundError):
            server_json.unlink()
        sock.close()
