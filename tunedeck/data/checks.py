"""Per-example training checks on a normalized `Example`, after its structure has been parsed."""

from __future__ import annotations

import zlib
from collections import Counter

from tunedeck.data.formats import DatasetFormat
from tunedeck.data.issues import Code, Issue, issue
from tunedeck.data.model import Example
from tunedeck.data.rules import ProviderRules

# Degenerate repetition ("the the the …", a sentence pasted twenty times) is a run of one short
# pattern covering most of a message; a run covering over half of it always spans the middle, so
# the 12 characters there recur. That cheap probe lets ordinary messages skip the real test:
# zlib first (prose stays above ~0.4, loops fall below 0.2), then one short word n-gram covering
# most of the message, which spares long tables and logs that also compress well.
REPETITION_MIN_CHARS = 200
REPETITION_PROBE = 12
REPETITION_PROBE_HITS = 3
REPETITION_MAX_RATIO = 0.2
REPETITION_MIN_COVERAGE = 0.6


def is_degenerate(text: str) -> bool:
    if len(text) < REPETITION_MIN_CHARS:
        return False
    middle = len(text) // 2
    if text.count(text[middle : middle + REPETITION_PROBE]) < REPETITION_PROBE_HITS:
        return False
    data = text.encode("utf-8")
    if len(zlib.compress(data, 1)) / len(data) >= REPETITION_MAX_RATIO:
        return False
    words = text.split()
    if len(words) < 20:
        return True  # long text with few words that still compresses this well: one long repeated run
    for size in range(1, 5):
        grams = Counter(tuple(words[i : i + size]) for i in range(0, len(words) - size + 1))
        if grams.most_common(1)[0][1] * size / len(words) >= REPETITION_MIN_COVERAGE:
            return True
    return False


def check_example(example: Example, line: int, rules: ProviderRules) -> list[Issue]:
    """Errors that make the example useless or rejected, and warnings about its quality."""
    problems: list[Issue] = []
    learn = "model" if rules.native_format is DatasetFormat.VERTEX else "assistant"  # the role as the file names it
    if not example.messages:
        problems.append(issue(line, Code.EMPTY_CONVERSATION, "The conversation has no user or assistant turns."))
        return problems
    has_user = False
    learnable = 0
    for index, message in enumerate(example.messages, 1):
        content = message.content
        empty = not content.strip() and not message.tool_calls and not message.other_parts
        if empty:
            role = learn if message.role == "assistant" else message.role
            problems.append(
                issue(line, Code.CONTENT_EMPTY, f"Turn {index} ({role}) has empty content; write the text or drop it.")
            )
        elif len(content) >= REPETITION_MIN_CHARS and is_degenerate(content):
            problems.append(
                issue(
                    line,
                    Code.DEGENERATE_REPETITION,
                    f"Turn {index} repeats itself heavily; the model would learn to loop. Clean or drop it.",
                )
            )
        role = message.role
        if role == "assistant":
            # `learnable_turns()` and `has_role("user")`, counted in this same pass.
            if message.weight != 0:
                learnable += 1
        elif role == "user":
            has_user = True
        elif role == "system":
            problems.append(
                issue(
                    line,
                    Code.SYSTEM_MID_CONVERSATION,
                    f"Turn {index} is a system message after the conversation started; put it first.",
                )
            )
    if example.system is not None and not example.system.strip():
        problems.append(issue(line, Code.CONTENT_EMPTY, "The system prompt is empty; write it or remove it."))
    if learnable == 0:
        why = " (all have weight 0)" if example.has_role("assistant") else ""
        problems.append(
            issue(line, Code.NO_LEARNABLE_TURN, f"No {learn} turn to learn from{why}; add the reply to train on.")
        )
    elif rules.must_end_on_learned_turn and example.messages[-1].role != "assistant":
        problems.append(
            issue(line, Code.BAD_FINAL_TURN, f"The conversation must end on a {learn} turn; remove trailing turns.")
        )
    if example.system is None:
        problems.append(issue(line, Code.MISSING_SYSTEM, "No system message; consider adding the same one everywhere."))
    if not has_user:
        problems.append(issue(line, Code.MISSING_USER, "No user message; the model learns replies to nothing."))
    return problems
