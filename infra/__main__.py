"""The Pulumi program's entry point (`main: infra/` in Pulumi.yaml): the only module that reads config and exports."""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":
    # Pulumi runs this directory as a script with `infra/` first on sys.path; the package imports below need
    # the repository root instead (and `infra/config.py` must not shadow a top-level `config`).
    _here, _root = Path(__file__).resolve().parent, str(Path(__file__).resolve().parent.parent)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    if _root not in sys.path:
        sys.path.insert(0, _root)

import pulumi

from infra import outputs as names
from infra.config import DATASET_PREFIX, DEFAULTS, GCP_KEYS, InfraConfig, parse_config
from infra.program import build


def read_config() -> InfraConfig:
    project_config, gcp_config = pulumi.Config(), pulumi.Config("gcp")
    raw: dict[str, str | None] = {f"gcp:{key}": gcp_config.get(key) for key in GCP_KEYS}
    raw.update({project_config.full_key(key): project_config.get(key) for key in DEFAULTS})
    return parse_config(raw, namespace=pulumi.get_project())


def main() -> None:
    config = read_config()
    result = build(config)
    pulumi.export(names.PROJECT, config.project)
    pulumi.export(names.REGION, config.region)
    pulumi.export(names.BUCKET_NAME, result.bucket_name)
    pulumi.export(names.BUCKET_URI, result.bucket_uri)
    pulumi.export(names.SERVICE_ACCOUNT_EMAIL, result.service_account_email)
    pulumi.export(names.ENDPOINT_NAMES, result.endpoint_names)
    pulumi.export(names.DATASET_PREFIX, DATASET_PREFIX)
    pulumi.export(names.SERVING_SERVICE_ACCOUNT_EMAIL, result.serving_service_account_email)


if __name__ == "__main__":
    main()
