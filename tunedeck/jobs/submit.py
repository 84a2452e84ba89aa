"""Idempotent, crash-safe job submission and reconciliation of unfinished submissions with the provider.

The intent (with a fresh client key) is committed before the paid remote call; the key also goes into the
job's labels/metadata, so after a crash between "sent" and "recorded" the provider can be asked which job
carries it, and no retry ever creates a second job.
"""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from providers.base import CLIENT_KEY_LABEL, ClientKeyNormalizer, Provider, ProviderJob, TuningSpec, resource_labels
from providers.errors import ProviderError, RateLimitedError, UnavailableError
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.store import JobRecord, Store, Submission
from tunedeck.store.datasets import file_sha256
from tunedeck.store.jobs import spec_from_dict
from tunedeck.store.records import utcnow

if TYPE_CHECKING:
    from tunedeck.costs import CostEstimate
    from tunedeck.data.validate import ValidationReport
    from tunedeck.events import Publish
    from tunedeck.settings import Settings

DEFAULT_STALE_INTENT = timedelta(minutes=10)
"""An intent this old with no remote job found is safely 'not submitted' (create calls finish in seconds)."""

SubmitHook = Callable[[str], None]
"""Called with "intent-recorded" and "remote-created": tests inject crashes there; the UI may log."""


def _no_hook(point: str) -> None:
    pass


def new_client_key() -> str:
    return f"tdk-{uuid.uuid4().hex}"


def stale_intent_after(config: dict[str, object]) -> timedelta:
    """`[jobs] intent_stale_minutes` in config.toml, else the default."""
    section = config.get("jobs")
    minutes = section.get("intent_stale_minutes") if isinstance(section, dict) else None
    return timedelta(minutes=float(minutes)) if isinstance(minutes, int | float) else DEFAULT_STALE_INTENT


def ensure_uploaded(store: Store, provider: Provider, path: Path) -> str:
    """The provider's file id for `path`, uploading only when this content was never sent to this provider."""
    sha = file_sha256(path)
    known = store.find_dataset(provider.name, sha)
    if known is not None:
        return known.provider_file_id
    with tempfile.TemporaryDirectory(prefix="tunedeck-upload-") as scratch:
        file_id = provider.upload_dataset(_as_the_provider_takes_it(provider.name, path, Path(scratch)))
    store.record_dataset(provider.name, path, sha, path.stat().st_size, file_id)
    return file_id


def _as_the_provider_takes_it(provider: str, path: Path, scratch: Path) -> Path:
    """`path`, or a copy in the provider's own format. The local backend is validated as taking every format
    tunedeck reads (a CSV too), but its file API, like OpenAI's, takes chat JSONL: so tunedeck converts."""
    from tunedeck.data.reader import resolve_format
    from tunedeck.data.rules import RULES

    rules = next((r for name, r in RULES.items() if name == provider), None)
    if rules is None:  # a provider without dataset rules (a test's fake) gets the file as it is
        return path
    fmt = resolve_format(path, None, rules.native_format)
    if fmt is rules.native_format:
        return path
    from tunedeck.data.convert import convert_file

    target = scratch / f"{path.stem}.{rules.native_format.value}.jsonl"
    convert_file(path, target, rules.native_format, fmt)
    return target


def labelled(spec: TuningSpec, provider: Provider | None = None) -> TuningSpec:
    """The spec with a client key and tunedeck's ownership labels (never overriding the key)."""
    keyed = dataclasses.replace(spec, client_key=spec.client_key or new_client_key())
    # Issue 14.0a: a provider that keeps the key in a constrained label (Vertex lower-cases and rewrites it)
    # normalises it here, once, before it is stored, so the store's lookup, the label and reconciliation all
    # compare the same string and a retried submit finds the first job.
    if isinstance(provider, ClientKeyNormalizer):
        keyed = dataclasses.replace(keyed, client_key=provider.normalize_client_key(keyed.client_key))
    return dataclasses.replace(keyed, labels=resource_labels(keyed))


def submit_job(
    store: Store,
    provider: Provider,
    spec: TuningSpec,
    *,
    estimated_tokens: int | None = None,
    estimated_cost_usd: float | None = None,
    hook: SubmitHook = _no_hook,
) -> JobRecord:
    """Create a fine-tuning job at most once for `spec.client_key` (a new key when empty).

    `spec.training_file` / `validation_file` must already be provider file ids (see `ensure_uploaded`).
    Calling again with the same key returns the recorded job, or retries one marked "not submitted".
    """
    spec = labelled(spec, provider)
    existing = store.get_job_by_client_key(spec.client_key)
    if existing is not None:
        if existing.submission is Submission.SUBMITTED:
            return existing
        if existing.submission is Submission.INTENT:
            existing = reconcile_job(store, provider, existing, stale_after=timedelta(0))
            if existing.submission is Submission.SUBMITTED:
                return existing
            if existing.submission is Submission.INTENT:
                raise UnavailableError(
                    f"Cannot tell whether job {existing.id} reached {provider.name}: the lookup by client key failed.",
                    "Nothing was sent again. Retry when the provider answers; the same key is reused.",
                    provider=provider.name,
                )
        # Only a "not submitted" job reaches here: no remote job carries the key, so creating one is safe.
        job = store.reopen_intent(existing.id)
    else:
        job = store.create_job_intent(
            provider.name, spec, estimated_tokens=estimated_tokens, estimated_cost_usd=estimated_cost_usd
        )
    hook("intent-recorded")
    return _create_remote(store, provider, job, spec, hook)


def _create_remote(store: Store, provider: Provider, job: JobRecord, spec: TuningSpec, hook: SubmitHook) -> JobRecord:
    try:
        remote = provider.create_job(spec)
    except UnavailableError:
        # The request may have reached the provider: keep the intent for reconciliation.
        raise
    except RateLimitedError as exc:
        store.mark_not_submitted(job.id, f"rate limited: {exc.title}")
        raise
    except ProviderError as exc:
        # A definite refusal (bad request, auth, not eligible): no job exists, the key may be retried.
        store.mark_not_submitted(job.id, exc.title)
        raise
    hook("remote-created")
    return store.mark_submitted(job.id, remote)


def retry_submission(store: Store, provider: Provider, job_id: str, *, hook: SubmitHook = _no_hook) -> JobRecord:
    """Retry a job marked "not submitted" with its original client key and spec."""
    job = store.require_job(job_id)
    return submit_job(store, provider, spec_from_dict(job.spec), hook=hook)


# -- reconciliation ------------------------------------------------------------------------------------


class ReconcileOutcome(StrEnum):
    FOUND = "found"
    """The provider has the job: now recorded as submitted."""
    NOT_SUBMITTED = "not-submitted"
    """No remote job and the intent is old: retryable with the same key."""
    PENDING = "pending"
    """No remote job yet but the intent is recent (another process may be sending it): left alone."""
    UNREACHABLE = "unreachable"
    """The provider could not be asked: left alone."""


@dataclass(frozen=True)
class ReconcileResult:
    job: JobRecord
    outcome: ReconcileOutcome
    detail: str = ""


def find_remote_jobs(provider: Provider, client_key: str) -> list[ProviderJob]:
    """Jobs carrying `client_key`, re-checked here so a server ignoring the filter cannot hand us a stranger's."""
    found = provider.find_jobs_by_client_key(client_key)
    return [job for job in found if job.labels.get(CLIENT_KEY_LABEL) == client_key]


def reconcile_job(
    store: Store,
    provider: Provider,
    job: JobRecord,
    *,
    stale_after: timedelta = DEFAULT_STALE_INTENT,
    now: datetime | None = None,
) -> JobRecord:
    return _reconcile_one(store, provider, job, stale_after, now or utcnow()).job


def _reconcile_one(
    store: Store, provider: Provider, job: JobRecord, stale_after: timedelta, now: datetime
) -> ReconcileResult:
    try:
        remote = find_remote_jobs(provider, job.client_key)
    except (UnavailableError, RateLimitedError) as exc:
        return ReconcileResult(job, ReconcileOutcome.UNREACHABLE, exc.title)
    if remote:
        # Should there ever be two, the oldest is the one the intent created; report the rest.
        remote.sort(key=lambda j: (j.created_at is None, j.created_at))
        extra = ", ".join(j.id for j in remote[1:])
        detail = f"duplicates found at the provider: {extra}" if extra else ""
        return ReconcileResult(store.mark_submitted(job.id, remote[0]), ReconcileOutcome.FOUND, detail)
    if now - job.updated_at >= stale_after:
        detail = f"no {provider.name} job carries client key {job.client_key}"
        return ReconcileResult(store.mark_not_submitted(job.id, detail), ReconcileOutcome.NOT_SUBMITTED, detail)
    return ReconcileResult(job, ReconcileOutcome.PENDING)


def reconcile(
    store: Store,
    get_provider: Callable[[str], Provider],
    *,
    stale_after: timedelta = DEFAULT_STALE_INTENT,
    now: datetime | None = None,
) -> list[ReconcileResult]:
    """Settle every submission left as an intent (run at start-up by the CLI, the TUI and the monitor)."""
    now = now or utcnow()
    results: list[ReconcileResult] = []
    providers: dict[str, Provider] = {}
    for job in store.list_jobs(unfinished_only=True):
        if job.submission is not Submission.INTENT:
            continue
        if job.provider not in providers:
            try:
                providers[job.provider] = get_provider(job.provider)
            except TunedeckError as exc:  # not configured here (any more): leave its intents for later
                results.append(ReconcileResult(job, ReconcileOutcome.UNREACHABLE, exc.title))
                continue
        results.append(_reconcile_one(store, providers[job.provider], job, stale_after, now))
    return results


def dataset_paths_spec(
    store: Store, provider: Provider, spec: TuningSpec, training: Path, validation: Path | None
) -> TuningSpec:
    """`spec` with its files replaced by provider file ids, uploading each distinct content once."""
    training_id = ensure_uploaded(store, provider, training)
    validation_id = ensure_uploaded(store, provider, validation) if validation else None
    return dataclasses.replace(spec, training_file=training_id, validation_file=validation_id)


# -- planning: validate, estimate, then submit (what `jobs submit` and the TUI's submit screen both call) ---


def fine_tunable() -> list[str]:
    """Providers whose capability data says they fine-tune."""
    from providers.capabilities import CAPABILITIES

    return [name for name, caps in CAPABILITIES.items() if caps.fine_tuning]


@dataclass
class SubmissionPlan:
    """Everything shown before asking to spend: the validation verdict and the cost estimate."""

    provider: str
    spec: TuningSpec
    training: Path
    validation: Path | None
    report: ValidationReport
    estimate: CostEstimate | None
    cost_note: str | None
    validation_report: ValidationReport | None = None

    @property
    def ok(self) -> bool:
        return self.report.ok and (self.validation_report is None or self.validation_report.ok)


def plan_submission(
    settings: Settings,
    provider: str,
    spec: TuningSpec,
    training: Path,
    validation: Path | None = None,
    progress: Publish | None = None,
) -> SubmissionPlan:
    """Validate the files for `provider` and estimate the bill; nothing is uploaded or paid for yet."""
    if provider == "anthropic":
        from providers.anthropic_adapter import PROFILE_HINT  # the adapter's own words, so both say the same

        raise UsageError("Anthropic has no public fine-tuning API for Claude.", PROFILE_HINT)
    if provider not in fine_tunable():
        raise UsageError(f"{provider} does not offer fine-tuning here.", f"Use one of: {', '.join(fine_tunable())}.")
    from tunedeck.costs.base_models import resolve_base_model

    # The model first: a name the provider cannot tune must not cost the user a validation and an estimate.
    spec = dataclasses.replace(spec, base_model=resolve_base_model(provider, spec.base_model, settings))
    from tunedeck.data.validate import validate_file
    from tunedeck.events import ignore

    epochs = spec.n_epochs if isinstance(spec.n_epochs, int) else None
    report = validate_file(
        training,
        provider=provider,
        model=spec.base_model,
        validation_path=validation,
        epochs=epochs,
        settings=settings,
        progress=progress or ignore,
    )
    held_out = None
    if validation is not None:
        held_out = validate_file(
            validation, provider=provider, model=spec.base_model, settings=settings, validation_set=True
        )
    return SubmissionPlan(
        provider, spec, training, validation, report, report.stats.cost, report.stats.cost_note, held_out
    )


def execute_plan(store: Store, provider: Provider, plan: SubmissionPlan, *, hook: SubmitHook = _no_hook) -> JobRecord:
    """Upload (deduplicated) and submit (idempotent). Refuses a plan whose validation failed."""
    if not plan.ok:
        raise UsageError("The dataset has validation errors; nothing was submitted.", "Fix them and submit again.")
    spec = dataset_paths_spec(store, provider, plan.spec, plan.training, plan.validation)
    estimate = plan.estimate
    return submit_job(
        store,
        provider,
        spec,
        estimated_tokens=estimate.trained_tokens if estimate else None,
        estimated_cost_usd=estimate.estimated_usd if estimate else None,
        hook=hook,
    )
