"""Pure prompt assembly: instructions, user facts, examples and retrieved documents → system prompt + messages.

Two layouts. `xml` follows Anthropic's advice for Claude: each part in its own tag, documents as
`<document index="n"><source>…</source><document_content>…</document_content></document>`, data
escaped so a document cannot close a tag. `markdown` suits other chat models: headed sections in the
system prompt and the examples as real user/assistant turns, which small models imitate best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from providers.base import ChatMessage
from tunedeck.profiles.examples import Example

Layout = Literal["xml", "markdown"]

CITE_XML = (
    "Answer using the numbered documents below when they are relevant. Cite every document you use with its "
    "index in square brackets, e.g. [1] or [1][2], right after the sentence it supports. If the documents do "
    "not cover the question, say so briefly and do not invent citations."
)
CITE_MARKDOWN = (
    "Use the reference documents below when they are relevant and cite each one you use with its number in "
    "square brackets, e.g. [1]. Do not invent citations."
)
FACTS_NOTE = "Facts the user has shared with you; use them when they matter to the question."


@dataclass(frozen=True)
class Source:
    """A retrieved document chunk as the model sees it; `index` is the number it cites."""

    index: int
    path: str
    heading: str
    text: str
    score: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.path}#{self.heading}" if self.heading else self.path


@dataclass(frozen=True)
class AssembledPrompt:
    system: str
    messages: list[ChatMessage]
    """Everything after the system prompt, ending with the user's question."""
    sources: list[Source] = field(default_factory=list)
    layout: Layout = "markdown"

    def chat_messages(self) -> list[ChatMessage]:
        """The list to hand to `Provider.chat`: the system prompt travels as a `system` message."""
        head = [ChatMessage("system", self.system)] if self.system else []
        return [*head, *self.messages]

    def render(self) -> str:
        """The whole prompt as text, for `--show-prompt`."""
        parts = [f"=== {m.role} ===\n{m.content}" for m in self.chat_messages()]
        return "\n\n".join(parts)


def assemble_prompt(
    *,
    instructions: str,
    question: str,
    layout: Layout,
    history: Sequence[tuple[str, str]] = (),
    facts: Sequence[str] = (),
    examples: Sequence[Example] = (),
    documents: Sequence[tuple[str, str, str] | Source] = (),
) -> AssembledPrompt:
    """Build the prompt. `documents` are (path, heading, text) or `Source`s; they are numbered from 1."""
    sources = [_as_source(i, doc) for i, doc in enumerate(documents, start=1)]
    turns = [ChatMessage(role, content) for role, content in history]
    turns.append(ChatMessage("user", question))
    if layout == "xml":
        return AssembledPrompt(_xml_system(instructions, facts, examples, sources), turns, sources, "xml")
    example_turns = [ChatMessage(role, content) for ex in examples for role, content in ex.turns]
    system = _markdown_system(instructions, facts, sources)
    return AssembledPrompt(system, [*example_turns, *turns], sources, "markdown")


def _as_source(index: int, doc: tuple[str, str, str] | Source) -> Source:
    if isinstance(doc, Source):
        return Source(index, doc.path, doc.heading, doc.text, doc.score)
    path, heading, text = doc
    return Source(index, path, heading, text)


def escape(text: str) -> str:
    """XML text escaping: `&` first, then the angle brackets, so a document cannot open or close a tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_system(instructions: str, facts: Sequence[str], examples: Sequence[Example], sources: list[Source]) -> str:
    # The profile author's instructions are trusted and may contain their own tags: not escaped.
    rules = [instructions.strip()] if instructions.strip() else []
    if sources:
        rules.append(CITE_XML)
    blocks = ["<instructions>\n" + "\n\n".join(rules) + "\n</instructions>"] if rules else []
    if facts:
        lines = "\n".join(f"<fact>{escape(fact)}</fact>" for fact in facts)
        blocks.append(f"<user_facts>\n<!-- {FACTS_NOTE} -->\n{lines}\n</user_facts>")
    if examples:
        rendered = []
        for example in examples:
            turns = "\n".join(f"<{role}>{escape(content)}</{role}>" for role, content in example.turns)
            rendered.append(f"<example>\n{turns}\n</example>")
        blocks.append("<examples>\n" + "\n".join(rendered) + "\n</examples>")
    if sources:
        docs = [
            f'<document index="{s.index}">\n<source>{escape(s.label)}</source>\n'
            f"<document_content>\n{escape(s.text)}\n</document_content>\n</document>"
            for s in sources
        ]
        blocks.append("<documents>\n" + "\n".join(docs) + "\n</documents>")
    return "\n\n".join(blocks)


def _markdown_system(instructions: str, facts: Sequence[str], sources: list[Source]) -> str:
    blocks = [instructions.strip()] if instructions.strip() else []
    if facts:
        blocks.append("## About the user\n" + FACTS_NOTE + "\n" + "\n".join(f"- {fact}" for fact in facts))
    if sources:
        docs = "\n\n".join(f"[{s.index}] {s.label}\n{s.text.strip()}" for s in sources)
        blocks.append(f"## Reference documents\n{CITE_MARKDOWN}\n\n{docs}")
    return "\n\n".join(blocks)
