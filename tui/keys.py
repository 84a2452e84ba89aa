"""User key bindings: `[keys]` in config.toml maps binding ids to keys, applied with `App.set_keymap`.

    [keys]
    "endpoints.teardown" = "x"          # a quoted dotted id
    jobs = { cancel = "ctrl+k" }        # or a table per screen
    "app.quit" = ["q", "ctrl+q"]        # several keys

Problems (an unknown id, a value that is not a key) are returned as sentences for a notification: a typo
in the config must never keep the app from starting.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from textual.binding import Binding, BindingType


def binding_ids(binding_lists: Iterable[Iterable[BindingType]]) -> set[str]:
    return {b.id for bindings in binding_lists for b in bindings if isinstance(b, Binding) and b.id}


def _flatten(section: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in section.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[key] = value
    return flat


def keymap_from_config(section: Mapping[str, Any], known_ids: set[str]) -> tuple[dict[str, str], list[str]]:
    """(keymap for `App.set_keymap`, problems) from the `[keys]` section."""
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, value in sorted(_flatten(section).items()):
        if binding_id not in known_ids:
            problems.append(f"[keys] {binding_id!r} is not a binding id (see ? for the ids).")
            continue
        keys = [value] if isinstance(value, str) else value
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k.strip() for k in keys):
            problems.append(f'[keys] {binding_id}: give a key or a list of keys, e.g. "x" or ["x", "ctrl+x"].')
            continue
        keymap[binding_id] = ",".join(k.strip() for k in keys)
    return keymap, problems
