"""The infra program's configuration schema: typed specs and the validation that turns raw Pulumi config into them.

Pure Python (no pulumi import): `infra/__main__.py` reads the raw values from Pulumi, the offline plan and the
`destroy` warning read them from the stack files, and both go through `parse_config`, so a bad value fails the
same clear way everywhere. Defaults mirror the `config:` block of `Pulumi.yaml` (a test keeps them in step).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.errors import InfraConfigError
from tunedeck.labels import MANAGED_BY_LABEL, MANAGED_BY_VALUE

PROJECT_NAMESPACE = "tunedeck"
OWNERSHIP_LABELS: Mapping[str, str] = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
DATASET_PREFIX = "datasets/"
"""Objects under this prefix are datasets, deleted after `datasetRetentionDays`; tuned artifacts live elsewhere."""

# Project-namespaced keys (written `tunedeck:<key>` in stack files) and their defaults, as in Pulumi.yaml.
DEFAULTS: Mapping[str, Any] = {
    "bucketPrefix": "tunedeck",
    "datasetRetentionDays": 90,
    "noncurrentVersionRetentionDays": 30,
    "kmsKeyName": "",
    "retainBucketOnDestroy": False,
    "serviceAccountId": "tunedeck-tuning",
    "endpoints": [],
    "budgetAmount": 0,
    "budgetCurrency": "USD",
    "budgetThresholds": [50, 90, 100],
    "billingAccount": "",
}
SECRET_KEYS = frozenset({"billingAccount"})
GCP_KEYS = ("project", "region")

_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+(-[a-z]+)+[0-9]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$")
_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_SLUG = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_BILLING_ACCOUNT = re.compile(r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$")
_KMS_KEY = re.compile(r"^projects/[^/]+/locations/([^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
SECRET_PLACEHOLDER = "[secret]"
"""What the offline plan sees for a `secure:` value it cannot decrypt."""


@dataclass(frozen=True)
class EndpointSpec:
    name: str
    region: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetSpec:
    billing_account: str
    amount: int
    currency: str
    thresholds: tuple[float, ...]
    """Fractions of the amount (0.5 = 50%) at which billing alerts fire."""


@dataclass(frozen=True)
class InfraConfig:
    project: str
    region: str
    bucket_prefix: str = DEFAULTS["bucketPrefix"]
    dataset_retention_days: int = DEFAULTS["datasetRetentionDays"]
    noncurrent_version_retention_days: int = DEFAULTS["noncurrentVersionRetentionDays"]
    kms_key_name: str | None = None
    retain_bucket_on_destroy: bool = False
    service_account_id: str = DEFAULTS["serviceAccountId"]
    endpoints: tuple[EndpointSpec, ...] = ()
    budget: BudgetSpec | None = None

    @property
    def serving_account_id(self) -> str:
        """The serving service account beside the tuning one: same stem, "-serve" (account ids allow 30)."""
        return f"{self.service_account_id[:24].rstrip('-')}-serve"

    @property
    def bucket_name(self) -> str:
        # Bucket names are global: the project id makes them unique without Pulumi's random suffix, so the
        # name is predictable and the Vertex adapter can be told it before the first `up`.
        return f"{self.bucket_prefix}-{self.project}"


def _fail(key: str, message: str, hint: str = "") -> InfraConfigError:
    return InfraConfigError(
        f"Invalid infra config `{key}`: {message}",
        # Editing the file works for everyone; `pulumi config set` only for those who have the Pulumi CLI.
        hint
        or f"Edit `{key}` under `config:` in the stack's Pulumi.<stack>.yaml (with the Pulumi CLI, "
        f"`pulumi config set {key} <value>` does the same).",
    )


class _Reader:
    """Typed access to raw values (strings from Pulumi, or YAML values from a stack file), with clear errors."""

    def __init__(self, raw: Mapping[str, Any], namespace: str) -> None:
        self.raw = raw
        self.namespace = namespace

    def key(self, name: str) -> str:
        return name if ":" in name else f"{self.namespace}:{name}"

    def value(self, name: str) -> Any:
        value = self.raw.get(self.key(name))
        return DEFAULTS.get(name) if value is None else value

    def string(self, name: str) -> str:
        value = self.value(name)
        if not isinstance(value, str):
            raise _fail(self.key(name), f"expected a string, got {value!r}.")
        return value.strip()

    def integer(self, name: str, minimum: int = 0) -> int:
        value = self.value(name)
        try:
            number = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or str(value).strip() != str(number):
            raise _fail(self.key(name), f"expected a whole number, got {value!r}.")
        if number < minimum:
            raise _fail(self.key(name), f"must be at least {minimum}, got {number}.")
        return number

    def boolean(self, name: str) -> bool:
        value = self.value(name)
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("true", "false"):
            return str(value).strip().lower() == "true"
        raise _fail(self.key(name), f"expected true or false, got {value!r}.")

    def structured(self, name: str) -> Any:
        # Pulumi hands structured config to programs as JSON text; stack files give YAML values directly.
        value = self.value(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise _fail(self.key(name), f"is not valid JSON ({exc.msg}).") from exc
        return value


def _labels(key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(key, "labels must be a map of label names to values.")
    labels = {str(k): str(v) for k, v in value.items()}
    for name, label in labels.items():
        if not _LABEL_KEY.match(name) or not _LABEL_VALUE.match(label):
            raise _fail(
                key,
                f"label {name}={label} is not a valid GCP label.",
                "Label keys start with a lowercase letter; keys and values use only a-z, 0-9, _ and - (≤ 63).",
            )
        if name in OWNERSHIP_LABELS and label != OWNERSHIP_LABELS[name]:
            raise _fail(key, f"the `{name}` label is reserved for tunedeck's ownership mark.")
    return labels


def _endpoints(reader: _Reader, region: str) -> tuple[EndpointSpec, ...]:
    key = reader.key("endpoints")
    items = reader.structured("endpoints")
    if not isinstance(items, list):
        raise _fail(key, "must be a list of endpoints, each with a `name` and optional `region` and `labels`.")
    specs: list[EndpointSpec] = []
    for index, item in enumerate(items):
        where = f"{key}[{index}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, Mapping) or set(item) - {"name", "region", "labels"}:
            raise _fail(where, "each endpoint is a map with `name`, and optionally `region` and `labels`.")
        name = str(item.get("name", ""))
        if not _SLUG.match(name):
            raise _fail(where, f"endpoint name {name!r} must be lowercase letters, digits and dashes.")
        endpoint_region = str(item.get("region") or region)
        if not _REGION.match(endpoint_region):
            raise _fail(where, f"{endpoint_region!r} is not a GCP region such as us-central1.")
        specs.append(EndpointSpec(name=name, region=endpoint_region, labels=_labels(where, item.get("labels"))))
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise _fail(key, f"endpoint names must be unique; repeated: {', '.join(duplicates)}.")
    return tuple(specs)


def _budget(reader: _Reader) -> BudgetSpec | None:
    account = reader.string("billingAccount")
    amount = reader.integer("budgetAmount")
    if not account and not amount:
        return None
    if not account:
        raise _fail(
            reader.key("billingAccount"),
            "is required when budgetAmount is set (budgets live on it).",
            "Pulumi keeps the billing account encrypted. With the Pulumi CLI, run `pulumi config set --secret "
            f"{reader.key('billingAccount')} 012345-6789AB-CDEF01` in the project's directory; without it, leave "
            f"{reader.key('budgetAmount')} out (or 0) for now: `tunedeck infra plan` works without a budget.",
        )
    if not amount:
        raise _fail(reader.key("budgetAmount"), "must be a positive amount when billingAccount is set.")
    if account != SECRET_PLACEHOLDER and not _BILLING_ACCOUNT.match(account):
        raise _fail(reader.key("billingAccount"), "must look like 012345-6789AB-CDEF01.")
    currency = reader.string("budgetCurrency")
    if not _CURRENCY.match(currency):
        raise _fail(reader.key("budgetCurrency"), f"{currency!r} is not a three-letter currency code.")
    raw_thresholds = reader.structured("budgetThresholds")
    if not isinstance(raw_thresholds, list) or not raw_thresholds:
        raise _fail(reader.key("budgetThresholds"), "must be a non-empty list of percentages such as [50, 90, 100].")
    thresholds: list[float] = []
    for value in raw_thresholds:
        try:
            percent = float(value)
        except (TypeError, ValueError):
            percent = -1.0
        if not 0 < percent <= 1000:
            raise _fail(reader.key("budgetThresholds"), f"{value!r} is not a percentage between 0 and 1000.")
        thresholds.append(percent / 100)
    return BudgetSpec(account, amount, currency, tuple(sorted(set(thresholds))))


def parse_config(raw: Mapping[str, Any], namespace: str = PROJECT_NAMESPACE) -> InfraConfig:
    """Validate raw config keyed as Pulumi writes it (`gcp:project`, `tunedeck:bucketPrefix`, …)."""
    reader = _Reader(raw, namespace)
    project = str(raw.get("gcp:project") or "").strip()
    if not project:
        raise InfraConfigError(
            "Infra config `gcp:project` is not set: tunedeck needs to know which GCP project to provision.",
            "Add `gcp:project: <your-project-id>` under `config:` in Pulumi.<stack>.yaml "
            "(or `pulumi config set gcp:project <id>`).",
        )
    if not _PROJECT_ID.match(project):
        raise _fail("gcp:project", f"{project!r} is not a GCP project id (6-30 lowercase letters, digits, dashes).")
    region = str(raw.get("gcp:region") or "").strip()
    if not region:
        raise InfraConfigError(
            "Infra config `gcp:region` is not set.",
            "Add `gcp:region: us-central1` (or your Vertex AI region) under `config:` in Pulumi.<stack>.yaml.",
        )
    if not _REGION.match(region):
        raise _fail("gcp:region", f"{region!r} is not a GCP region such as us-central1.")

    prefix = reader.string("bucketPrefix")
    kms = reader.string("kmsKeyName") or None
    if kms is not None:
        match = _KMS_KEY.match(kms)
        if not match:
            raise _fail(reader.key("kmsKeyName"), "must be projects/P/locations/L/keyRings/R/cryptoKeys/K.")
        if match.group(1) != region:
            raise _fail(reader.key("kmsKeyName"), f"the key is in {match.group(1)} but the bucket is in {region}.")
    account_id = reader.string("serviceAccountId")
    if not _ACCOUNT_ID.match(account_id):
        raise _fail(reader.key("serviceAccountId"), f"{account_id!r} must be 6-30 lowercase letters, digits, dashes.")
    config = InfraConfig(
        project=project,
        region=region,
        bucket_prefix=prefix,
        dataset_retention_days=reader.integer("datasetRetentionDays"),
        noncurrent_version_retention_days=reader.integer("noncurrentVersionRetentionDays", minimum=1),
        kms_key_name=kms,
        retain_bucket_on_destroy=reader.boolean("retainBucketOnDestroy"),
        service_account_id=account_id,
        endpoints=_endpoints(reader, region),
        budget=_budget(reader),
    )
    if not _BUCKET.match(config.bucket_name) or "google" in config.bucket_name:
        raise _fail(
            reader.key("bucketPrefix"),
            f"the bucket name {config.bucket_name!r} it makes is not a valid GCS bucket name.",
            "Use lowercase letters, digits and dashes; prefix and project id together must fit in 63 characters.",
        )
    return config
