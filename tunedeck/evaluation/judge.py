"""An LLM judge with a rubric: one verdict per answer (pass, score 0-10, reason), or pairwise with the order swapped.

A judge's verdict is an opinion, and reports label it so. Pairwise, the judge sees both answers twice, A first
then B first; an item counts as won only when both orders agree, which cancels a preference for a position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from providers.base import ChatMessage
from tunedeck.errors import UsageError

JUDGE_MAX_TOKENS = 300
_SYSTEM = (
    "You are a careful, impartial grader of answers written by AI assistants. You follow the rubric exactly, "
    "ignore the length and style of an answer unless the rubric mentions them, and reply with JSON only."
)
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class JudgeConfig:
    model: str
    provider: str
    rubric: str
    pairwise: bool = False

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "provider": self.provider, "rubric": self.rubric, "pairwise": self.pairwise}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JudgeConfig:
        return cls(str(data["model"]), str(data["provider"]), str(data["rubric"]), bool(data.get("pairwise")))


def read_rubric(value: str, base_dir: Path | None = None) -> str:
    """`--rubric` is the text itself, or the path of a file holding it (when such a file exists)."""
    candidate = Path(value).expanduser()
    if not candidate.is_absolute() and base_dir is not None:
        candidate = base_dir / candidate
    if len(value) < 512 and "\n" not in value and candidate.is_file():
        try:
            value = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"Cannot read the rubric file {candidate}: {exc}.") from exc
    if not value.strip():
        raise UsageError("The rubric is empty.", "Say what a good answer does, e.g. --rubric 'Signs off as Byte.'")
    return value.strip()


def _conversation(messages: list[ChatMessage]) -> str:
    return "\n".join(f"{m.role}: {m.content}" for m in messages)


def rubric_messages(rubric: str, prompt: list[ChatMessage], reference: str, answer: str) -> list[ChatMessage]:
    user = (
        "Grade the ANSWER to the conversation against the RUBRIC. The REFERENCE is a known good answer, "
        "shown for comparison only.\n\n"
        f"<rubric>\n{rubric}\n</rubric>\n\n<conversation>\n{_conversation(prompt)}\n</conversation>\n\n"
        f"<reference>\n{reference}\n</reference>\n\n<answer>\n{answer}\n</answer>\n\n"
        'Reply with only a JSON object: {"pass": true or false, "score": an integer from 0 to 10, '
        '"reason": "one short sentence"}'
    )
    return [ChatMessage("system", _SYSTEM), ChatMessage("user", user)]


def pairwise_messages(rubric: str, prompt: list[ChatMessage], first: str, second: str) -> list[ChatMessage]:
    user = (
        "Two answers to the same conversation follow. Which one better meets the RUBRIC?\n\n"
        f"<rubric>\n{rubric}\n</rubric>\n\n<conversation>\n{_conversation(prompt)}\n</conversation>\n\n"
        f"<answer_1>\n{first}\n</answer_1>\n\n<answer_2>\n{second}\n</answer_2>\n\n"
        'Reply with only a JSON object: {"winner": "1", "2" or "tie", "reason": "one short sentence"}'
    )
    return [ChatMessage("system", _SYSTEM), ChatMessage("user", user)]


class VerdictError(ValueError):
    """The judge's reply could not be read as the verdict asked for."""


def _object(reply: str) -> dict[str, Any]:
    match = _OBJECT.search(reply)
    if match is None:
        raise VerdictError(f"the judge replied without a JSON object: {reply[:120]!r}")
    try:
        value = orjson.loads(match.group(0))
    except orjson.JSONDecodeError as exc:
        raise VerdictError(f"the judge's JSON does not parse ({exc}): {reply[:120]!r}") from exc
    if not isinstance(value, dict):
        raise VerdictError("the judge's reply is not a JSON object")
    return value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "pass"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "no", "fail"}:
        return False
    raise VerdictError(f'"pass" should be true or false, not {value!r}')


def parse_rubric_verdict(reply: str) -> dict[str, Any]:
    """{"pass": bool, "score": 0..1 (the judge's 0-10 over 10), "reason": str}."""
    data = _object(reply)
    if "pass" not in data or "score" not in data:
        raise VerdictError(f'the judge\'s verdict lacks "pass" or "score": {data}')
    try:
        score = float(data["score"])
    except (TypeError, ValueError) as exc:
        raise VerdictError(f'"score" should be a number from 0 to 10, not {data["score"]!r}') from exc
    if not 0 <= score <= 10:
        raise VerdictError(f'"score" should be from 0 to 10, not {score:g}')
    return {"pass": _boolean(data["pass"]), "score": score / 10, "reason": str(data.get("reason", ""))}


def parse_pairwise_choice(reply: str) -> str:
    """The winner a pairwise reply names: "1", "2" or "tie"."""
    winner = str(_object(reply).get("winner", "")).strip().lower().removeprefix("answer_").removeprefix("answer ")
    if winner not in {"1", "2", "tie"}:
        raise VerdictError(f'"winner" should be "1", "2" or "tie", not {winner!r}')
    return winner


def combine_pairwise(first: str, second: str) -> str:
    """Order 1 showed A first, order 2 showed B first: "A", "B", or "tie" unless both orders agree."""
    in_first = {"1": "A", "2": "B"}.get(first, "tie")
    in_second = {"1": "B", "2": "A"}.get(second, "tie")
    return in_first if in_first == in_second else "tie"
