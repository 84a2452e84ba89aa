"""OpenAI fine-tuning and chat through the official `openai` SDK; also the engine behind the local backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlparse

from pydantic import SecretStr

from providers import errors
from providers.base import (
    CLIENT_KEY_LABEL,
    Capabilities,
    ChatChunk,
    ChatMessage,
    Checkpoint,
    CreatedResource,
    Deployment,
    DeploymentPlan,
    DeploySpec,
    Endpoint,
    JobEvent,
    ModelInfo,
    ProviderJob,
    TuningSpec,
    resource_labels,
)
from providers.capabilities import CAPABILITIES
from providers.openai_errors import OPENAI_HINTS, custom_url_hints, translate_openai_error
from providers.states import openai_status
from providers.translate import ProviderHints, openai_not_eligible, redact_secrets

if TYPE_CHECKING:
    import openai

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Sent to custom base URLs that need no key: the SDK insists on one, and it must never be the user's real key.
PLACEHOLDER_KEY = "tunedeck-no-key"
T = TypeVar("T")


@dataclass(frozen=True)
class OpenAIConfig:
    api_key: SecretStr | None = None
    base_url: str = OPENAI_BASE_URL
    organization: str | None = None
    timeout_s: float = 60.0
    max_retries: int = 2
    api_key_name: str | None = None
    """For a custom base URL: the `[openai] api_key_name` whose key is sent there (named in error hints)."""
    api_key_env: str | None = None
    """The environment variable that holds `api_key_name`'s key, when it has one."""

    @property
    def is_official(self) -> bool:
        return urlparse(self.base_url).hostname == "api.openai.com"


def _detail(error: errors.ProviderError) -> str:
    """The provider's own words inside one of our titles ("OpenAI denied permission: <detail>")."""
    return error.title.split(": ", 1)[1] if ": " in error.title else error.title


def unix_time(value: Any) -> datetime | None:
    """A Unix timestamp (int, float or numeric string) as an aware UTC datetime; None for 0/None."""
    return datetime.fromtimestamp(float(value), UTC) if value else None


class OpenAIProvider:
    name: ClassVar[str] = "openai"
    capabilities: ClassVar[Capabilities] = CAPABILITIES["openai"]
    hints: ClassVar[ProviderHints] = OPENAI_HINTS

    def __init__(self, config: OpenAIConfig) -> None:
        self.config = config
        self._sdk: openai.OpenAI | None = None
        self.error_hints = self.hints
        """The hints errors carry: a custom base URL's name the key it was actually sent, not OPENAI_API_KEY."""
        if self.name == "openai" and not config.is_official:
            self.error_hints = custom_url_hints(
                config.base_url, config.api_key is not None, config.api_key_name, config.api_key_env
            )

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()
        self._sdk = None

    # -- plumbing ---------------------------------------------------------------------------------------

    def _client(self) -> openai.OpenAI:
        if self._sdk is None:
            import openai  # deferred: ~350 ms measured here, kept off CLI start-up

            key = self.config.api_key.get_secret_value() if self.config.api_key else None
            if key is None and self.config.is_official:
                raise errors.AuthenticationError(
                    "No OpenAI API key is set.", self.hints.auth, provider=self.name, status=None
                )
            # Always pass key, base URL and organization explicitly: left as None the SDK reads OPENAI_API_KEY,
            # OPENAI_BASE_URL and OPENAI_ORG_ID, and would send the user's real key to a custom server.
            headers: dict[str, Any] = {}
            if not self.config.is_official:
                headers = {"OpenAI-Organization": openai.Omit(), "OpenAI-Project": openai.Omit()}
            self._sdk = openai.OpenAI(
                api_key=key or PLACEHOLDER_KEY,
                base_url=self.config.base_url,
                organization=self.config.organization if self.config.is_official else None,
                timeout=self.config.timeout_s,
                max_retries=self.config.max_retries,
                default_headers=headers or None,
            )
        return self._sdk

    @contextmanager
    def _boundary(self, *, fine_tuning: bool = False) -> Iterator[None]:
        import openai  # deferred: already loaded by _client(); this is a dict lookup

        try:
            yield
        except openai.OpenAIError as exc:
            # Only OpenAI itself is winding fine-tuning down; elsewhere a 403 is just a 403.
            eligible_check = fine_tuning and self.name == "openai"
            # The key actually sent may have any shape (a local server's key is free text): removed verbatim.
            sent = [self.config.api_key.get_secret_value()] if self.config.api_key else []
            raise translate_openai_error(
                exc, self.name, self.error_hints, fine_tuning=eligible_check, secrets=sent
            ) from exc

    def _call(self, fn: Callable[[], T], *, fine_tuning: bool = False) -> T:
        with self._boundary(fine_tuning=fine_tuning):
            return fn()

    def _job(self, job: Any) -> ProviderJob:
        error = None
        if job.error is not None and (job.error.message or job.error.code):
            # A provider's failure text is stored and shown: it must not carry a credential either.
            known = [self.config.api_key.get_secret_value()] if self.config.api_key else []
            error = redact_secrets(str(job.error.message or job.error.code), known)
        return ProviderJob(
            id=job.id,
            provider=self.name,
            base_model=job.model,
            status=openai_status(job.status),
            created_at=unix_time(job.created_at),
            finished_at=unix_time(job.finished_at),
            fine_tuned_model=job.fine_tuned_model,
            trained_tokens=job.trained_tokens,
            labels=dict(job.metadata or {}),
            error=error,
            raw=job.model_dump(mode="json"),
        )

    # -- datasets and jobs ------------------------------------------------------------------------------

    def upload_dataset(self, path: Path) -> str:
        def upload() -> str:
            with path.open("rb") as handle:
                return str(self._client().files.create(file=(path.name, handle), purpose="fine-tune").id)

        return self._call(upload, fine_tuning=True)

    def create_job(self, spec: TuningSpec) -> ProviderJob:
        if spec.client_key:
            existing = self.find_jobs_by_client_key(spec.client_key)
            if existing:  # a retry after a crash or timeout: never submit (and pay for) the same job twice
                return existing[0]
        hyperparameters = {
            "n_epochs": spec.n_epochs,
            "batch_size": spec.batch_size,
            "learning_rate_multiplier": spec.learning_rate_multiplier,
        }
        kwargs: dict[str, Any] = {
            "model": spec.base_model,
            "training_file": spec.training_file,
            "method": {"type": "supervised", "supervised": {"hyperparameters": hyperparameters}},
            "metadata": resource_labels(spec),
        }
        if spec.validation_file:
            kwargs["validation_file"] = spec.validation_file
        if spec.suffix:
            kwargs["suffix"] = spec.suffix
        if spec.seed is not None:
            kwargs["seed"] = spec.seed
        # No SDK retries for the one call that spends money: the SDK would re-send a create the server accepted
        # but answered late (timeouts, 408, 429, 5xx) with no idempotency key, creating a second paid job. The
        # error surfaces instead, and tunedeck's own reconcile (find_jobs_by_client_key) decides what to do.
        create = self._client().with_options(max_retries=0).fine_tuning.jobs.create
        try:
            created = self._call(lambda: create(**kwargs), fine_tuning=True)
        except errors.AuthenticationError as error:
            if self.name == "openai" and error.status == 403:
                # A 403 on create itself, whatever its wording, is most likely the fine-tuning wind-down.
                raise openai_not_eligible(self.name, _detail(error), refused_create=True) from error
            raise
        return self._job(created)

    def get_job(self, job_id: str) -> ProviderJob:
        return self._job(self._call(lambda: self._client().fine_tuning.jobs.retrieve(job_id), fine_tuning=True))

    def list_jobs(self, limit: int = 50) -> list[ProviderJob]:
        page = self._call(lambda: self._client().fine_tuning.jobs.list(limit=limit), fine_tuning=True)
        return [self._job(job) for job in page.data]

    def find_jobs_by_client_key(self, client_key: str) -> list[ProviderJob]:
        page = self._call(
            lambda: self._client().fine_tuning.jobs.list(metadata={CLIENT_KEY_LABEL: client_key}, limit=100),
            fine_tuning=True,
        )
        # Filter again here: a server that ignores the metadata filter must not make us adopt a stranger's job.
        return [self._job(j) for j in page.data if (j.metadata or {}).get(CLIENT_KEY_LABEL) == client_key]

    def cancel_job(self, job_id: str) -> ProviderJob:
        return self._job(self._call(lambda: self._client().fine_tuning.jobs.cancel(job_id), fine_tuning=True))

    def list_events(self, job_id: str, after: str | None = None) -> list[JobEvent]:
        """Events in time order; with `after`, only those newer than that event id."""

        def fetch() -> list[Any]:
            # The API lists newest first and its own `after` is a cursor towards *older* events, so walk from
            # the newest and stop at the caller's last-seen event.
            newer = []
            for event in self._client().fine_tuning.jobs.list_events(job_id, limit=100):
                if after is not None and event.id == after:
                    break
                newer.append(event)
            return newer

        return [self._event(e) for e in reversed(self._call(fetch, fine_tuning=True))]

    @staticmethod
    def _event(event: Any) -> JobEvent:
        metrics = None
        data = event.data if isinstance(event.data, dict) else None
        if event.type == "metrics" and data:
            metrics = {k: float(v) for k, v in data.items() if isinstance(v, int | float) and v is not None}
        return JobEvent(
            id=event.id,
            created_at=unix_time(event.created_at) or datetime.now(UTC),
            level=event.level,
            message=event.message,
            metrics=metrics,
        )

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        page = self._call(
            lambda: list(self._client().fine_tuning.jobs.checkpoints.list(job_id, limit=100)), fine_tuning=True
        )
        checkpoints = [
            Checkpoint(
                id=c.id,
                model=c.fine_tuned_model_checkpoint,
                step=c.step_number,
                metrics={k: float(v) for k, v in c.metrics.model_dump().items() if isinstance(v, int | float)},
            )
            for c in page
        ]
        return sorted(checkpoints, key=lambda c: c.step)

    # -- models and chat --------------------------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        def fetch() -> list[ModelInfo]:
            return [
                ModelInfo(
                    id=m.id,
                    provider=self.name,
                    owned_by=m.owned_by or "",
                    created_at=unix_time(m.created),
                    shutdown_date=getattr(m, "shutdown_date", None),
                    fine_tuned=m.id.startswith("ft:"),
                )
                for m in self._client().models.list()
            ]

        return self._call(fetch)

    def delete_model(self, model: str) -> None:
        self._call(lambda: self._client().models.delete(model))

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]:
        wire_messages: Any = [{"role": m.role, "content": m.content} for m in messages]
        stream = self._call(
            lambda: self._client().chat.completions.create(
                model=model,
                messages=wire_messages,
                # OpenAI's current name: newer (reasoning) models reject the deprecated `max_tokens`.
                max_completion_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        # Errors can also arrive mid-stream, so iteration stays inside the boundary.
        with self._boundary():
            finish: str | None = None
            for chunk in stream:
                if chunk.choices:
                    choice = chunk.choices[0]
                    finish = choice.finish_reason or finish
                    text = choice.delta.content or "" if choice.delta else ""
                    if text:
                        yield ChatChunk(text=text)
                if chunk.usage is not None:
                    yield ChatChunk(
                        text="",
                        finish_reason=finish or "stop",
                        prompt_tokens=chunk.usage.prompt_tokens,
                        completion_tokens=chunk.usage.completion_tokens,
                    )
                    return
            yield ChatChunk(text="", finish_reason=finish or "stop")

    # -- endpoints --------------------------------------------------------------------------------------

    def list_endpoints(self) -> list[Endpoint]:
        """OpenAI serves fine-tuned models per token from shared capacity: nothing bills by the hour."""
        return []

    def teardown_endpoint(self, endpoint_id: str) -> None:
        raise errors.NotSupportedError(
            "OpenAI has no endpoints to tear down.",
            "Fine-tuned OpenAI models bill per token only; delete the model itself if you no longer need it.",
            provider=self.name,
        )

    def plan_deployment(self, spec: DeploySpec) -> DeploymentPlan:
        raise _served_per_token(spec.model, self.name)

    def deploy_model(
        self,
        plan: DeploymentPlan,
        progress: Callable[[str], None] | None = None,
        created: Callable[[CreatedResource], None] | None = None,
    ) -> Deployment:
        raise _served_per_token(plan.model, self.name)


def _served_per_token(model: str, provider: str) -> errors.NotSupportedError:
    return errors.NotSupportedError(
        f"{model} needs no deployment: OpenAI serves fine-tuned models per token from its API.",
        "Chat with it directly (`tunedeck chat --model …`); nothing bills by the hour.",
        provider=provider,
    )
