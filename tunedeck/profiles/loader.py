"""Find profile files by name or path, parse TOML/YAML, and turn schema errors into line-numbered messages.

Search order for a bare NAME (first match wins):
  1. `./profiles/NAME.{toml,yaml,yml}` (the project you are in),
  2. `./examples/profiles/NAME.{toml,yaml,yml}` (the examples shipped with tunedeck),
  3. `<config dir>/profiles/NAME.{toml,yaml,yml}` (your personal profiles).
Anything containing a path separator or ending in a profile suffix is taken as a path.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tunedeck.errors import UnreadableInputError, UsageError
from tunedeck.profiles.schema import Profile
from tunedeck.settings import Settings

SUFFIXES = (".toml", ".yaml", ".yml")


@dataclass(frozen=True)
class ProfileRef:
    """A profile file found on disk, before parsing (what `profile list` shows)."""

    name: str
    path: Path
    origin: str


def search_dirs(settings: Settings, cwd: Path | None = None) -> list[tuple[str, Path]]:
    cwd = Path.cwd() if cwd is None else cwd
    return [
        ("project", cwd / "profiles"),
        ("examples", cwd / "examples" / "profiles"),
        ("user", settings.config_dir / "profiles"),
    ]


def list_profiles(settings: Settings, cwd: Path | None = None) -> list[ProfileRef]:
    """Every profile file in the search path; a name shadowed by an earlier folder is listed once."""
    seen: dict[str, ProfileRef] = {}
    for origin, folder in search_dirs(settings, cwd):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix in SUFFIXES and path.is_file() and path.stem not in seen:
                seen[path.stem] = ProfileRef(path.stem, path, origin)
    return sorted(seen.values(), key=lambda ref: ref.name)


def find_profile(name_or_path: str, settings: Settings, cwd: Path | None = None) -> Path:
    candidate = Path(name_or_path).expanduser()
    if "/" in name_or_path or "\\" in name_or_path or candidate.suffix in SUFFIXES:
        if not candidate.is_file():
            raise UnreadableInputError(f"Profile file {candidate} does not exist.", "Check the path.")
        return candidate
    dirs = search_dirs(settings, cwd)
    for _origin, folder in dirs:
        for suffix in SUFFIXES:
            path = folder / f"{name_or_path}{suffix}"
            if path.is_file():
                return path
    looked = ", ".join(str(folder) for _o, folder in dirs)
    raise UsageError(
        f"No profile named {name_or_path!r}.",
        f"Looked in {looked}. Run `tunedeck profile list`, or pass a path to a .toml/.yaml file.",
    )


def load_profile(name_or_path: str, settings: Settings, cwd: Path | None = None) -> tuple[Profile, Path]:
    path = find_profile(name_or_path, settings, cwd)
    return parse_profile_file(path), path


def parse_profile_file(path: Path) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableInputError(f"Cannot read profile {path}: {exc}.", "Check the file.") from exc
    data = _parse_text(path, text)
    data.setdefault("name", path.stem)
    try:
        return Profile.model_validate(data, context={"base_dir": path.parent.resolve()})
    except ValidationError as exc:
        lines = [_describe(path, text, err) for err in exc.errors()]
        raise UsageError(
            f"Profile {path} is invalid:\n" + "\n".join(lines),
            "See examples/profiles/helpdesk.toml for a complete profile.",
        ) from exc


def _parse_text(path: Path, text: str) -> dict[str, Any]:
    if path.suffix == ".toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"Profile {path} is not valid TOML: {exc}.", "Fix the syntax at that line.") from exc
    else:
        import yaml  # deferred: only YAML profiles need it

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise UsageError(f"Profile {path} is not valid YAML{where}: {problem}.", "Fix the syntax.") from exc
    if not isinstance(data, dict):
        raise UsageError(f"Profile {path} must be a table/mapping of settings.", "Start with `name = ...`.")
    return data


def _describe(path: Path, text: str, err: Any) -> str:
    loc = tuple(str(part) for part in err["loc"])
    field = ".".join(loc) or "(top level)"
    line = locate_key(text, loc, yaml=path.suffix != ".toml")
    where = f"{path.name}:{line}: " if line else f"{path.name}: "
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown setting (typo?)"
    elif err["type"] == "missing":
        message = "required setting is missing"
    return f"  {where}{field}: {message}"


def locate_key(text: str, loc: tuple[str, ...], *, yaml: bool) -> int | None:
    """Best-effort 1-based line of the key at `loc`, so errors point into the file; None when not found."""
    keys = [part for part in loc if not part.isdigit()]
    if not keys:
        return None
    if yaml:
        return _locate_yaml(text, keys)
    return _locate_toml(text, keys)


def _locate_toml(text: str, keys: list[str]) -> int | None:
    *tables, leaf = keys
    want = ".".join(tables)
    current = ""
    header_line: int | None = None
    key_re = re.compile(rf"^\s*[\"']?{re.escape(leaf)}[\"']?\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            current = header.group(1).replace('"', "").replace(" ", "")
            if current == ".".join(keys):
                header_line = number
            continue
        if current == want and key_re.match(line):
            return number
    return header_line


def _locate_yaml(text: str, keys: list[str]) -> int | None:
    import yaml  # deferred: only YAML profiles need it

    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line: int | None = None
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if key_node.value == key:
                line = key_node.start_mark.line + 1
                node = value_node
                break
        else:
            break
    return line
