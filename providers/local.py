"""The embedded local backend: the OpenAI adapter pointed at `tunedeck serve`, plus its loaded-model endpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr

from providers import errors
from providers.base import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    Capabilities,
    ChatMessage,
    CreatedResource,
    Deployment,
    DeploymentPlan,
    DeploySpec,
    Endpoint,
)
from providers.capabilities import CAPABILITIES
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
    capabilities: ClassVar[Capabilities] = CAPABILITIES["local"]
    hints: ClassVar[ProviderHints] = LOCAL_HINTS

    def __init__(self, config: LocalConfig) -> None:
        self.local = config
        self.server: ServerHandle | None = None
        super().__init__(OpenAIConfig(base_url=config.base_url or "http://127.0.0.1/v1"))

    def _client(self) -> openai.OpenAI:
        if self._sdk is None:
            base_url = self.local.base_url
            if base_url is None:
                self.server = ensure_server(
                    self.local.data_dir, self.local.cache_dir, self.local.api_key,
                    autostart=self.local.autostart, timeout_s=self.local.start_timeout_s,
                    stop_at_exit=self.local.stop_at_exit, idle_exit_s=self.local.idle_exit_s,
                    max_jobs=self.local.max_concurrent_jobs,  # None: the backend's own default for its cores
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

    def plan_deployment(self, spec: DeploySpec) -> DeploymentPlan:
        return DeploymentPlan(
            provider=self.name,
            model=spec.model,
            deploy_key=spec.deploy_key,
            hourly_rate_usd=0.0,
            rate_note="free: the local backend runs on this machine",
            note="Loads the model into the local backend's memory (what a chat does on first use); "
            "`tunedeck endpoints teardown` unloads it.",
        )

    def deploy_model(
        self,
        plan: DeploymentPlan,
        progress: Callable[[str], None] | None = None,
        created: Callable[[CreatedResource], None] | None = None,
    ) -> Deployment:
        """Load the model by asking it for one token: the server loads on first use and has no separate load
        call, and a one-token reply is the cheapest request that proves the model answers."""
        if progress:
            progress(f"loading {plan.model} into the local backend")
        for _ in self.chat(plan.model, [ChatMessage("user", "Hi")], max_tokens=1):
            pass
        loaded = {e.id: e for e in self.list_endpoints()}
        if plan.model not in loaded:
            raise errors.UnavailableError(
                f"The local backend answered with {plan.model} but does not list it as loaded.",
                "Run `tunedeck endpoints list`; the model may have been unloaded for memory.",
                provider=self.name,
            )
        if created:
            created(CreatedResource("endpoint", plan.model))
        if progress:
            progress(f"{plan.model} is loaded")
        return Deployment(plan, plan.model, created=(CreatedResource("endpoint", plan.model),))
