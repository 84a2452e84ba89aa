"""The Vertex AI provider: GCS datasets, google-genai tuning jobs (Gemini and open models) and chat, aiplatform
endpoints, Model Registry and deployments."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

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
)
from providers.capabilities import CAPABILITIES
from providers.vertex import deploy, endpoints, gcs, labels, open_chat, open_models, registry, tuning
from providers.vertex.config import VertexConfig
from providers.vertex.google_errors import boundary

if TYPE_CHECKING:
    from google import genai
    from google.genai import types


class VertexProvider:
    name: ClassVar[str] = "vertex"
    capabilities: ClassVar[Capabilities] = CAPABILITIES["vertex"]

    def __init__(self, config: VertexConfig, rate_overrides: Mapping[str, Any] | None = None) -> None:
        self.config = config
        self.rate_overrides = rate_overrides
        self._genai: genai.Client | None = None
        self._open_endpoints: dict[str, Any] = {}
        """model → the dedicated endpoint serving it, once found (chats in a session skip the look-up)."""

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

    def normalize_client_key(self, client_key: str) -> str:
        """The key as the `tunedeck-client-key` label will hold it (see `providers.vertex.labels`)."""
        return labels.normalize_client_key(client_key)

    def create_job(self, spec: TuningSpec) -> ProviderJob:
        if spec.client_key:
            existing = self.find_jobs_by_client_key(spec.client_key)
            if existing:  # a retried submit: adopt the job the first attempt created
                return existing[0]
        kwargs = tuning.tune_kwargs(self.config, spec, self.config.open_models)  # refusals come before any upload
        if open_models.looks_open(spec.base_model):
            # Open-model tuning reads turn-based chat (`messages`); tunedeck's Vertex format is converted.
            kwargs = tuning.tune_kwargs(self.config, _with_files(spec, self.config), self.config.open_models)
        with boundary(), warnings.catch_warnings():
            # google-genai flags `tunings.tune` as experimental on every call; it is the supported path
            # (vertexai.tuning.sft is the deprecated one), so the warning is noise for our users.
            warnings.filterwarnings("ignore", message=".*tuning implementation is experimental.*")
            return tuning.to_job(self._tunings_client().tunings.tune(**kwargs))

    def get_job(self, job_id: str) -> ProviderJob:
        with boundary():
            return tuning.to_job(self._tunings_client().tunings.get(name=job_id))

    def _all_jobs(self) -> list[types.TuningJob]:
        """Every tuning job, all pages. Vertex documents no order for `tuningJobs.list`, so nothing may stop
        early assuming the newest come first."""
        with boundary():
            return list(self._tunings_client().tunings.list(config={"page_size": 100}))

    def list_jobs(self, limit: int = 50) -> list[ProviderJob]:
        jobs = [tuning.to_job(job) for job in self._all_jobs()]
        jobs.sort(key=lambda j: (j.created_at is not None, j.created_at), reverse=True)
        return jobs[:limit]

    def find_jobs_by_client_key(self, client_key: str) -> list[ProviderJob]:
        """Matched here, not with a server-side `labels.` filter: our label key contains '-', which the list
        filter grammar may read as an operator, and a misparsed filter that matched nothing would make a
        retried submit create (and bill) a duplicate job. Every page is read: the list has no order."""
        wanted = labels.normalize_client_key(client_key)
        return [tuning.to_job(job) for job in self._all_jobs() if (job.labels or {}).get(CLIENT_KEY_LABEL) == wanted]

    def cancel_job(self, job_id: str) -> ProviderJob:
        """Ask Vertex to cancel; it answers at once and cancels in the background (the job shows
        JOB_STATE_CANCELLING until it is JOB_STATE_CANCELLED), so the returned job may still be cancelling."""
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
        """The tuned models of this project and region (base models are not listed): a tuned Gemini model by
        its Model Registry name (what `delete_model` takes), an open model by its registry name or, when Vertex
        registered none, the gs:// folder of its weights (what `deploy` takes)."""
        models = []
        for job in self._all_jobs():
            done = tuning.to_job(job)
            tuned = job.tuned_model
            weights = done.fine_tuned_model if done.status.state.finished else None
            model_id = (tuned.model if tuned else None) or weights
            if model_id:
                models.append(
                    ModelInfo(
                        id=str(model_id),
                        provider=self.name,
                        owned_by=self.config.project,
                        created_at=done.finished_at,
                        fine_tuned=True,
                        base_model=done.base_model,
                        job_id=done.id,
                        labels=done.labels,
                    )
                )
        return models

    def delete_model(self, model: str) -> None:
        with boundary():
            if model.startswith("gs://"):
                raise _weights_not_deletable(model)
            registry.delete_model(self.config, model)

    def chat(
        self, model: str, messages: list[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[ChatChunk]:
        """A tuned Gemini model answers Gemini's API (google-genai, streamed); an open model tunedeck deployed on
        a dedicated endpoint answers the vLLM container's chat format (see `open_chat` for why that shape)."""
        with boundary():
            endpoint = self._open_endpoints.get(model) or open_chat.serving_endpoint(self.config, model)
        if endpoint is not None:
            self._open_endpoints[model] = endpoint
            with boundary():
                yield from open_chat.chat(
                    self.config, endpoint, messages, max_tokens=max_tokens, temperature=temperature
                )
            return
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

    def plan_deployment(self, spec: DeploySpec) -> DeploymentPlan:
        jobs = self._all_jobs()
        with boundary():
            return deploy.plan(self.config, spec, jobs, self.rate_overrides, self.config.open_models)

    def deploy_model(
        self,
        plan: DeploymentPlan,
        progress: Callable[[str], None] | None = None,
        created: Callable[[CreatedResource], None] | None = None,
    ) -> Deployment:
        with boundary():
            return deploy.deploy(self.config, plan, progress or (lambda message: None), created)


def _with_files(spec: TuningSpec, config: VertexConfig) -> TuningSpec:
    import dataclasses

    validation = open_models.chat_dataset_uri(config, spec.validation_file) if spec.validation_file else None
    return dataclasses.replace(
        spec, training_file=open_models.chat_dataset_uri(config, spec.training_file), validation_file=validation
    )


def _weights_not_deletable(model: str) -> Exception:
    from providers import errors

    return errors.NotSupportedError(
        f"{model} is a folder of tuned weights in your bucket, not a registry model.",
        "Delete it with `gcloud storage rm -r` when you no longer need it; tunedeck never deletes bucket data.",
        provider="vertex",
    )
