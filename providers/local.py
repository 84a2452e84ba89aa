"""The embedded local backend: the OpenAI adapter pointed at `tunedeck serve`, plus its loaded-model endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr

from providers.base import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Capabilities, Endpoint
from providers.local_server import ServerHandle, ensure_server
from providers.openai_adapter import OpenAIConfig, OpenAIProvider, unix_time
from providers.openai_errors import LOCAL_HINTS
from providers.translate import ProviderHints

if TYPE_CHECKING:
    import openai


@dataclass(frozen=True)
class LocalConfig:
    data_dir: Path
    """The server's data dir (`<settings.data_dir>/local-backend`): where server.json is looked for."""
    cache_dir: Path
    base_url: str | None = None
    """A server to use as is (no discovery, no autostart), e.g. a test server on loopback."""
    api_key: SecretStr | None = None
    """TUNEDECK_LOCAL_API_KEY: the local server's own key, never the OpenAI one."""
    autostart: bool = True
    start_timeout_s: float = 60.0
    stop_at_exit: bool = True
    """Stop a server we started when this process exits (the issue's rule). False leaves it running, so local
    jobs keep training after a short-lived CLI command exits."""
    timeout_s: float = 120.0
    max_retries: int = 2
    idle_exit_s: float | None = 600.0
    """`[local] idle_exit`: a server we start stops itself after this long with no job, loaded model or request
    (None: never). One started with `tunedeck serve` is not ours and keeps running."""
    max_concurrent_jobs: int | None = None
    """`[local] max_concurrent_jobs` for a server we start; None: 1 below 8 CPU cores (see localbackend.device)."""


class LocalProvider(OpenAIProvider):
    name: ClassVar[str] = "local"
    capabilities: ClassVar[Capabilities] = Capabilities(
        fine_tuning=True, checkpoints=True, hourly_endpoints=False, chat=True, streaming=True
    )
    hints: ClassVar[ProviderHints] = LOCAL_HINTS

    def __init__(self, config: LocalConfig) -> None:
        self.local = config
        self.server: ServerHandle | None = None
        super().__init__(OpenAIConfig(base_url=config.base_url or "http://127.0.0.1/v1"))

    def _client(self) -> openai.OpenAI:
        if self._sdk is None:
            base_url = self.local.base_url
            if base_url is None:
                from localbackend.device import default_max_concurrent_jobs  # stdlib only; cheap

                self.server = ensure_server(
                    self.local.data_dir, self.local.cache_dir, self.local.api_key,
                    autostart=self.local.autostart, timeout_s=self.local.start_timeout_s,
                    stop_at_exit=self.local.stop_at_exit, idle_exit_s=self.local.idle_exit_s,
                    max_jobs=self.local.max_concurrent_jobs or default_max_concurrent_jobs(),
                )  # fmt: skip
                base_url = self.server.base_url
            # Only the local key (or a placeholder) ever goes to this URL; the OpenAI key is not in reach here.
            self.config = OpenAIConfig(
                api_key=self.local.api_key, base_url=base_url,
                timeout_s=self.local.timeout_s, max_retries=self.local.max_retries,
            )  # fmt: skip
            super()._client()
        assert self._sdk is not None
        return self._sdk

    def close(self) -> None:
        """Drop the connection. A server this process started is shared by every adapter here, so it is
        stopped at exit (or by `providers.local_server.stop_started_servers()`), never by one adapter."""
        if self._sdk is not None:
            self._sdk.close()
        self.server, self._sdk = None, None

    def list_endpoints(self) -> list[Endpoint]:
        """Models the server holds in memory: free to keep (no hourly bill), but they occupy RAM."""
        payload: Any = self._call(lambda: self._client().get("/loaded_models", cast_to=object))
        found = []
        for item in payload.get("data", []) if isinstance(payload, dict) else []:
            mib = int(item.get("memory_bytes") or 0) / 2**20
            found.append(
                Endpoint(
                    id=str(item["id"]),
                    provider=self.name,
                    display_name=str(item["id"]),
                    model=str(item["id"]),
                    hourly_rate_usd=0.0,
                    machine_type="local",
                    replicas=1,
                    created_at=unix_time(item.get("loaded_at")),
                    last_used_at=unix_time(item.get("last_used_at")),
                    labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE},
                    note=f"Loaded in the local backend's memory ({mib:.0f} MiB). Costs nothing per hour; "
                    "teardown unloads it (it reloads on the next chat).",
                )
            )
        return found

    def teardown_endpoint(self, endpoint_id: str) -> None:
        self._call(lambda: self._client().delete(f"/loaded_models/{endpoint_id}", cast_to=object))
