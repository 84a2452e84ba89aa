"""The Vertex AI provider: GCS datasets, google-genai tuning jobs and chat, aiplatform endpoints."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from providers.base import (
    CLIENT_KEY_LABEL,
    Capabilities,
    ChatChunk,
    ChatMessage,
    Checkpoint,
    Endpoint,
    JobEvent,
    ModelInfo,
    ProviderJob,
    TuningSpec,
)
from providers.capabilities import CAPABILITIES
from providers.vertex import endpoints, gcs, tuning
from providers.vertex.config import VertexConfig
from providers.vertex.google_errors import boundary

if TYPE_CHECKING:
    from google import genai


class VertexProvider:
    name: ClassVar[str] = "vertex"
    capabilities: ClassVar[Capabilities] = CAPABILITIES["vertex"]

    def __init__(self, config: VertexConfig, rate_overrides: Mapping[str, Any] | None = None) -> None:
        self.config = config
        self.rate_overrides = rate_overrides
        self._genai: genai.Client | None = None

    def close(self) -> None:
        # google-genai's Client holds an httpx client; the aiplatform clients are made per call.
        if self._genai is not None:
            self._genai.close()
        self._genai = None

    def _tunings_client(self) -> genai.Client:
        if self._genai is None:
            self._genai = tuning.genai_client(self.config)
        return self._genai

    # -- datasets and jobs ------------------------------------------------------------------------------

    def upload_dataset(self, path: Path) -> str:
        return gcs.upload_dataset(self.config, path)

    def create_job(self, spec: TuningSpec) -> ProviderJob:
        if spec.client_key:
            existing = self.find_jobs_by_client_key(spec.client_key)
            if existing:  # a retried submit: adopt the job the first attempt created
                return existing[0]
        kwargs = tuning.tune_kwargs(self.config, spec)
        with boundary(), warnings.catch_warnings():
            # google-genai flags `tunings.tune` as experimental on every call; it is the supported path
            # (vertexai.tuning.sft is the deprecated one), so the warning is noise for our users.
            warnings.filterwarnings("ignore", message=".*tuning implementation is experimental.*")
            return tuning.to_job(self._tunings_client().tunings.tune(**kwargs))

    def get_job(self, job_id: str) -> ProviderJob:
        with boundary():
            return tuning.to_job(self._tunings_client().tunings.get(name=job_id))

    def list_jobs(self, limit: int = 50) -> list[ProviderJob]:
        with boundary():
            pager = self._tunings_client().tunings.list(config={"page_size": min(limit, 100)})
            jobs = []
            for job in pager:
                jobs.append(tuning.to_job(job))
                if len(jobs) >= limit:
                    break
            return jobs

    def find_jobs_by_client_key(self, client_key: str, scan_limit: int = 1000) -> list[ProviderJob]:
        """Matched here, not with a server-side `labels.` filter: our label key contains '-', which the list
        filter grammar may read as an operator, and a misparsed filter that matched nothing would make a
        retried submit create (and bill) a duplicate job. Newest jobs come first, so a recent submit is found
        within the first page."""
        found = []
        with boundary():
            for index, job in enumerate(self._tunings_client().tunings.list(config={"page_size": 100})):
                if index >= scan_limit:
                    break
                if (job.labels or {}).get(CLIENT_KEY_LABEL) == client_key:
                    found.append(tuning.to_job(job))
        return found

    def cancel_job(self, job_id: str) -> ProviderJob:
        with boundary():
            self._tunings_client().tunings.cancel(name=job_id)
        return self.get_job(job_id)

    def list_events(self, job_id: str, after: str | None = None) -> list[JobEvent]:
        with boundary():
            found = tuning.events(self._tunings_client().tunings.get(name=job_id))
        if after:
            ids = [e.id for e in found]
            found = found[ids.index(after) + 1 :] if after in ids else found
        return found

    def list_checkpoints(self, job_id: str) -> list[Checkpoint]:
        with boundary():
            return tuning.checkpoints(self._tunings_client().tunings.get(name=job_id))

    # -- models, chat, endpoints ------------------------------------------------------------------------

    def list_models(self) -> list[ModelInfo]:
        """The tuned models of this project and region (base Gemini models are not listed). Ids are Model
        Registry names (what `delete_model` takes); a job's `fine_tuned_model` is the endpoint that serves it."""
        models = []
        for job in self.list_jobs(limit=100):
            tuned = job.raw.get("tunedModel") or {}
            if tuned.get("model"):
                models.append(
                    ModelInfo(
                        id=str(tuned["model"]),
                        provider=self.name,
                        owned_by=self.config.project,
                        created_at=job.finished_at,
                        fine_tuned=True,
                    )
                )
        return models

    def delete_model(self, model: str) -> None:
        with boundary():
            endpoints.delete_model(self.config, model)

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]:
        from google.genai import types  # deferred: loaded with the client

        system = "\n\n".join(m.content for m in messages if m.role == "system")
        contents = [
            types.Content(role="model" if m.role == "assistant" else "user", parts=[types.Part(text=m.content)])
            for m in messages
            if m.role != "system"
        ]
        config = types.GenerateContentConfig(
            max_output_tokens=max_tokens, temperature=temperature, system_instruction=system or None
        )
        with boundary():
            stream = self._tunings_client().models.generate_content_stream(
                model=model, contents=contents, config=config
            )
            finish, usage = None, None
            for response in stream:
                if response.candidates:
                    candidate = response.candidates[0]
                    if candidate.finish_reason:
                        finish = str(getattr(candidate.finish_reason, "value", candidate.finish_reason))
                    text = "".join(p.text or "" for p in (candidate.content.parts or [])) if candidate.content else ""
                    if text:
                        yield ChatChunk(text=text)
                usage = response.usage_metadata or usage
        yield ChatChunk(
            text="",
            finish_reason={"STOP": "stop", "MAX_TOKENS": "length"}.get(finish or "STOP", (finish or "stop").lower()),
            prompt_tokens=usage.prompt_token_count if usage else None,
            completion_tokens=usage.candidates_token_count if usage else None,
        )

    def list_endpoints(self) -> list[Endpoint]:
        with boundary():
            return endpoints.list_endpoints(self.config, self.rate_overrides)

    def teardown_endpoint(self, endpoint_id: str) -> None:
        with boundary():
            endpoints.teardown(self.config, endpoint_id)
