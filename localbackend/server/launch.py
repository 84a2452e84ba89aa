"""Starting the local backend's server: who may use it (a key off loopback), one server per data dir, the
database checked before serving, the socket, and `server.json` published once it listens.

`tunedeck serve` parses options and calls `serve_forever`; autostart (providers/local_server.py) runs the same
command in a subprocess.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tunedeck.errors import UnavailableError, UsageError
from tunedeck.util.atomic import atomic_write_text

LOOPBACK_NAMES = {"localhost"}


@dataclass(frozen=True)
class LaunchOptions:
    host: str
    port: int
    data_dir: Path
    cache_dir: Path
    api_key: str | None
    idle_unload_s: float | None
    max_jobs: int | None
    max_upload_bytes: int
    log_level: str
    idle_exit_s: float | None


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
    key = api_key
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


def check_database(data_dir: Path) -> None:
    """Open the backend's database once before serving, so a damaged or locked file is one sentence here
    rather than a traceback from uvicorn's startup (the app opens it again in its lifespan)."""
    from localbackend.db import Database
    from localbackend.server.state import ServerConfig

    Database(ServerConfig(data_dir=data_dir, cache_dir=data_dir).db_path, busy_timeout_s=2).close()


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


def serve_forever(options: LaunchOptions) -> None:
    """Check the key policy, take the data dir, check the database, bind, then serve until stopped."""
    key = resolve_api_key(options.host, options.api_key)
    with data_dir_lock(options.data_dir):
        check_database(options.data_dir)
        sock = bind_socket(options.host, options.port)
        _run(sock, options, key)


def _run(sock: socket.socket, options: LaunchOptions, key: str | None) -> None:
    import uvicorn  # deferred: the server stack is only needed here

    from localbackend.device import default_max_concurrent_jobs
    from localbackend.server.app import create_app
    from localbackend.server.state import ServerConfig

    host, data_dir = options.host, options.data_dir
    config = ServerConfig(
        data_dir=data_dir,
        cache_dir=options.cache_dir,
        api_key=key,
        idle_unload_s=options.idle_unload_s,
        max_jobs=options.max_jobs or default_max_concurrent_jobs(),
        max_upload_bytes=options.max_upload_bytes,
        idle_exit_s=options.idle_exit_s,
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
                print(f"tunedeck serve: listening on {info['base_url']}", file=sys.stderr, flush=True)
                atomic_write_text(server_json, json.dumps(info, indent=2) + "\n")

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # Here, not only in `finally`: uvicorn re-raises SIGTERM/SIGINT once serving ends, which ends the
            # process before a `finally` after run() could remove the file.
            await super().shutdown(sockets)
            with contextlib.suppress(FileNotFoundError):
                server_json.unlink()

    uv_config = uvicorn.Config(
        create_app(config), log_level=options.log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=10
    )
    try:
        Server(uv_config).run(sockets=[sock])
    finally:
        with contextlib.suppress(FileNotFoundError):
            server_json.unlink()
        sock.close()
