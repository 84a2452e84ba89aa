"""Claude through the official `anthropic` SDK: streaming chat only, since Anthropic offers no public fine-tuning."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn
from urllib.parse import urlparse

from pydantic import SecretStr

from providers import errors
from providers.base import (
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
)
from providers.capabilities import CAPABILITIES
from providers.translate import ProviderHints, error_for_status, unreachable

if TYPE_CHECKING:
    import anthropic

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
PLACEHOLDER_KEY = "tunedeck-no-key"
HINTS = ProviderHints(
    label="Anthropic",
    auth="Set ANTHROPIC_API_KEY (or `keyring set tunedeck anthropic`); keys live at https://console.anthropic.com.",
    unavailable="See https://status.anthropic.com.",
)
PROFILE_HINT = (
    "Shape Claude's behaviour with a profile instead: `tunedeck profile chat NAME` combines a system prompt, "
    "few-shot examples, user memory and retrieval over your documents. To train weights, use --provider vertex, "
    "--provider openai or --provider local."
)


@dataclass(frozen=True)
class AnthropicConfig:
    api_key: SecretStr | None = None
    base_url: str = ANTHROPIC_BASE_URL
    timeout_s: float = 60.0
    max_retries: int = 2

    @property
    def is_official(self) -> bool:
        """Anthropic's own host: the only place the user's real key is sent."""
        return urlparse(self.base_url).hostname == "api.anthropic.com"


def translate_anthropic_error(exc: BaseException) -> errors.ProviderError:
    import anthropic  # deferred: ~1 s measured here; loaded already when this runs

    if isinstance(exc, anthropic.APIStatusError):
        body: Any = exc.body
        message = exc.message
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            message = str(body["error"].get("message") or message)
        return error_for_status("anthropic", HINTS, exc.status_code, message, headers=dict(exc.response.headers))
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return unreachable("anthropic", HINTS, str(cause) if cause else exc.message)
    return errors.ProviderError(f"Anthropic: {exc}", provider="anthropic")


class AnthropicProvider:
    name: ClassVar[str] = "anthropic"
    capabilities: ClassVar[Capabilities] = CAPABILITIES["anthropic"]

    def __init__(self, config: AnthropicConfig) -> None:
        self.config = config
        self._sdk: anthropic.Anthropic | None = None

    def close(self) -> None:
        if self._sdk is not None:
            self._sdk.close()
        self._sdk = None

    def _client(self) -> anthropic.Anthropic:
        if self._sdk is None:
            import anthropic  # deferred: ~1 s measured here, the heaviest SDK we use

            if self.config.api_key is None and self.config.is_official:
                raise errors.AuthenticationError("No Anthropic API key is set.", HINTS.auth, provider=self.name)
            key = self.config.api_key.get_secret_value() if self.config.api_key else PLACEHOLDER_KEY
            # An explicit key and base URL stop the SDK from reading ANTHROPIC_* variables or profiles on disk.
            self._sdk = anthropic.Anthropic(
                api_key=key,
                base_url=self.config.base_url,
                timeout=self.config.timeout_s,
                max_retries=self.config.max_retries,
            )
        return self._sdk

    @contextmanager
    def _boundary(self) -> Iterator[None]:
        import anthropic  # deferred: see _client

        try:
            yield
        except anthropic.AnthropicError as exc:
            raise translate_anthropic_error(exc) from exc

    def _no_fine_tuning(self) -> NoReturn:
        raise errors.NotSupportedError(
            "Anthropic has no public fine-tuning API for Claude.", PROFILE_HINT, provider=self.name
        )

    # Everything about tuning jobs says the same thing, plainly.
    def upload_dataset(self, path: Path) -> str:
        self._no_fine_tuning()

    def create_job(self, spec: TuningSpec) -> ProviderJob:
        self._no_fine_tuning()

    def get_job(self, job_id: str) -> ProviderJob:
        self._no_fine_tuning()

    def cancel_job(self, job_id: str) -> ProviderJob:
        self._no_fine_tuning()

    def list_events(self, job_id: str, after: str | None = None) -> list[JobEvent]:
        self._no_fine_tuning()

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        self._no_fine_tuning()

    def delete_model(self, model: str) -> None:
        self._no_fine_tuning()

    def list_jobs(self, limit: int = 50) -> list[ProviderJob]:
        return []  # listing is not an attempt to tune: an honest empty answer keeps dashboards simple

    def find_jobs_by_client_key(self, client_key: str) -> list[ProviderJob]:
        return []

    def list_endpoints(self) -> list[Endpoint]:
        return []  # Claude bills per token; there is nothing to tear down

    def teardown_endpoint(self, endpoint_id: str) -> None:
        raise errors.NotSupportedError(
            "Anthropic has no endpoints to tear down.", "Claude bills per token only.", provider=self.name
        )

    def plan_deployment(self, spec: DeploySpec) -> DeploymentPlan:
        self._no_fine_tuning()  # nothing tuned, so nothing to deploy; Claude answers per token

    def deploy_model(
        self,
        plan: DeploymentPlan,
        progress: Callable[[str], None] | None = None,
        created: Callable[[CreatedResource], None] | None = None,
    ) -> Deployment:
        self._no_fine_tuning()

    def list_models(self) -> list[ModelInfo]:
        with self._boundary():
            return [
                ModelInfo(id=m.id, provider=self.name, owned_by="anthropic", created_at=m.created_at)
                for m in self._client().models.list()
            ]

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]:
        # Claude takes the system prompt beside the conversation, not as a message.
        system = "\n\n".join(m.content for m in messages if m.role == "system")
        turns: Any = [{"role": m.role, "content": m.content} for m in messages if m.role != "system"]
        # `temperature` is accepted for the Protocol's sake but not sent: the Messages API of this SDK
        # generation no longer takes sampling parameters.
        kwargs: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": turns}
        if system:
            kwargs["system"] = system
        with self._boundary(), self._client().messages.stream(**kwargs) as stream:
            for text in stream.text_stream:
                if text:
                    yield ChatChunk(text=text)
            final = stream.get_final_message()
            yield ChatChunk(
                text="",
                finish_reason=_FINISH.get(final.stop_reason or "", final.stop_reason or "stop"),
                prompt_tokens=final.usage.input_tokens,
                completion_tokens=final.usage.output_tokens,
            )


# Anthropic's stop reasons in OpenAI's vocabulary, which the rest of tunedeck speaks.
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}
