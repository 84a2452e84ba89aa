"""Problems found in a dataset: one stable code per kind, a line number, and a sentence for people."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

Severity = Literal["error", "warning"]


class Code(StrEnum):
    """Stable codes: scripts and the TUI match on these, so never rename one."""

    # Errors: the provider would reject the file (or silently learn nothing from the example).
    INVALID_JSON = "invalid-json"
    INVALID_UTF8 = "invalid-utf8"
    NOT_AN_OBJECT = "not-an-object"
    MISSING_MESSAGES = "missing-messages"
    MESSAGES_NOT_LIST = "messages-not-list"
    MESSAGE_NOT_OBJECT = "message-not-object"
    EMPTY_CONVERSATION = "empty-conversation"
    MISSING_ROLE = "missing-role"
    UNKNOWN_ROLE = "unknown-role"
    CONTENT_WRONG_TYPE = "content-wrong-type"
    CONTENT_EMPTY = "content-empty"
    FIELD_WRONG_TYPE = "field-wrong-type"
    BAD_WEIGHT = "bad-weight"
    BAD_TOOL_CALLS = "bad-tool-calls"
    BAD_TOOLS = "bad-tools"
    NO_LEARNABLE_TURN = "no-learnable-turn"
    BAD_FINAL_TURN = "bad-final-turn"
    CSV_BAD_HEADER = "csv-bad-header"
    CSV_COLUMN_COUNT = "csv-column-count"
    TOO_FEW_EXAMPLES = "too-few-examples"
    FORMAT_NOT_ACCEPTED = "format-not-accepted"
    # Warnings: the file is accepted, but the result may disappoint.
    BLANK_LINE = "blank-line"
    DUPLICATE_EXAMPLE = "duplicate-example"
    MISSING_SYSTEM = "missing-system"
    MISSING_USER = "missing-user"
    OVER_TOKEN_LIMIT = "over-token-limit"
    FEW_EXAMPLES = "few-examples"
    INCONSISTENT_SYSTEM_PROMPT = "inconsistent-system-prompt"
    DEGENERATE_REPETITION = "degenerate-repetition"
    VALIDATION_OVERLAP = "validation-overlap"
    SYSTEM_MID_CONVERSATION = "system-mid-conversation"


WARNING_CODES = frozenset(
    {
        Code.BLANK_LINE,
        Code.DUPLICATE_EXAMPLE,
        Code.MISSING_SYSTEM,
        Code.MISSING_USER,
        Code.OVER_TOKEN_LIMIT,
        Code.FEW_EXAMPLES,
        Code.INCONSISTENT_SYSTEM_PROMPT,
        Code.DEGENERATE_REPETITION,
        Code.VALIDATION_OVERLAP,
        Code.SYSTEM_MID_CONVERSATION,
    }
)


class Issue(BaseModel):
    """One problem at one place. `line` is 1-based (for a CSV record, the line where it starts); None for a
    problem of the whole file (too few examples), which no line can fix alone."""

    model_config = ConfigDict(frozen=True)

    line: int | None
    code: str
    message: str
    severity: Severity = "error"


def issue(line: int | None, code: Code, message: str) -> Issue:
    """Build an issue whose severity follows from its code, so the two never disagree."""
    return Issue(line=line, code=code.value, message=message, severity="warning" if code in WARNING_CODES else "error")


class IssueLog:
    """Collects issues: every one is counted, the first `cap` of each code are kept.

    Per-example warnings (say, no system prompt anywhere in a million-line file) would otherwise
    grow the report with the file; the cap keeps memory flat while the counts stay exact.
    """

    def __init__(self, cap: int | None = None) -> None:
        self.cap = cap
        self.items: list[Issue] = []
        self.counts: dict[str, int] = {}
        self.omitted: dict[str, int] = {}

    def append(self, item: Issue) -> None:
        seen = self.counts.get(item.code, 0) + 1
        self.counts[item.code] = seen
        if self.cap is None or seen <= self.cap:
            self.items.append(item)
        else:
            self.omitted[item.code] = self.omitted.get(item.code, 0) + 1

    def extend(self, items: list[Issue]) -> None:
        for item in items:
            self.append(item)


REPEATED = 3
"""The same problem (same code, same sentence) this many times is said once, with its count and first lines."""


class IssueGroup(BaseModel):
    """Issues that say the same thing on different lines, to be said once (`lines` are the first ones)."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    severity: Severity
    count: int
    lines: tuple[int | None, ...]

    @property
    def repeated(self) -> bool:
        return self.count >= REPEATED


def summarise(issues: list[Issue], omitted: dict[str, int] | None = None, first_lines: int = 5) -> list[IssueGroup]:
    """Group identical issues (code and sentence), in the order each first appears. A group holding every listed
    issue of its code also counts that code's `omitted` ones (the report kept only the first of each code)."""
    groups: dict[tuple[str, str], list[Issue]] = {}
    for item in issues:
        groups.setdefault((item.code, item.message), []).append(item)
    per_code: dict[str, int] = {}
    for code, _ in groups:
        per_code[code] = per_code.get(code, 0) + 1
    return [
        IssueGroup(
            code=code,
            message=message,
            severity=members[0].severity,
            count=len(members) + ((omitted or {}).get(code, 0) if per_code[code] == 1 else 0),
            lines=tuple(m.line for m in members[:first_lines]),
        )
        for (code, message), members in groups.items()
    ]
