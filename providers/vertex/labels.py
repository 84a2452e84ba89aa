"""Vertex label rules: the labels tunedeck writes, and the one normal form of a client key.

Vertex label keys and values hold lowercase letters, digits, '-' and '_', at most 63 characters (labels
with anything else are refused). The client key lives in a label, so a key like `MyRun.v2` is stored by
Vertex as something else; `normalize_client_key` gives that form once, before the key is recorded, so the
store, the label and every lookup compare the same string.
"""

from __future__ import annotations

from providers import errors
from providers.base import CLIENT_KEY_LABEL, TuningSpec, resource_labels

MAX_LABEL = 63


def clean_label(text: str) -> str:
    """A user label key or value in Vertex's alphabet; characters outside it become '-'."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text.lower())[:MAX_LABEL]


def normalize_client_key(client_key: str) -> str:
    """`client_key` as Vertex will store it in a label: lower-cased, anything but ASCII letters, digits, '-'
    and '_' rewritten to '-'. Refused (never cut) when longer than a label may be: two long keys that differ
    only past the cut would otherwise adopt each other's jobs."""
    normal = "".join(c if (c.isascii() and c.isalnum()) or c in "-_" else "-" for c in client_key.lower())
    if not normal.strip("-_") or len(normal) > MAX_LABEL:
        raise errors.InvalidRequestError(
            f"The client key {client_key!r} cannot be a Vertex label (it must have 1 to {MAX_LABEL} letters, "
            "digits, '-' or '_').",
            "Choose a shorter key, or leave --client-key out and tunedeck makes one.",
            provider="vertex",
        )
    return normal


def vertex_labels(spec: TuningSpec) -> dict[str, str]:
    """Ownership, the (normalised) client key and the user's own labels, all in Vertex's alphabet."""
    labels = {clean_label(k): clean_label(v) for k, v in resource_labels(spec).items()}
    if spec.client_key:
        labels[CLIENT_KEY_LABEL] = normalize_client_key(spec.client_key)
    return labels
