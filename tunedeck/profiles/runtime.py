"""A loaded profile ready to answer: its few-shot selector and docs index built once, a prompt per question."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tunedeck.profiles.docindex import DocIndex, IndexStats
from tunedeck.profiles.fewshot import FewShotSelector
from tunedeck.profiles.memory import all_facts
from tunedeck.profiles.prompt import AssembledPrompt, Source, assemble_prompt
from tunedeck.profiles.schema import Profile
from tunedeck.settings import Settings

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass
class ProfileRuntime:
    profile: Profile
    settings: Settings
    profile_dir: Path
    provider_name: str = ""
    """The provider the prompt is for (decides the `auto` layout); defaults to the profile's."""
    selector: FewShotSelector | None = None
    index: DocIndex | None = None
    index_stats: IndexStats = field(default_factory=IndexStats)

    @classmethod
    def open(cls, profile: Profile, profile_path: Path, settings: Settings, provider_name: str = "") -> ProfileRuntime:
        """Load the few-shot dataset and refresh the docs index (incremental, usually a few stats)."""
        runtime = cls(profile, settings, profile_path.parent.resolve(), provider_name or profile.provider)
        if profile.few_shot is not None and profile.few_shot.count > 0:
            runtime.selector = FewShotSelector.from_config(profile.few_shot)
        if profile.retrieval is not None:
            runtime.index = DocIndex.for_retrieval(profile.retrieval, settings)
            runtime.index_stats = runtime.index.refresh()
        return runtime

    def close(self) -> None:
        if self.index is not None:
            self.index.close()

    def __enter__(self) -> ProfileRuntime:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def prepare(
        self, question: str, history: Sequence[tuple[str, str]] = (), exclude: Collection[str] = ()
    ) -> AssembledPrompt:
        """The prompt for one question; `exclude` keeps those questions out of the few-shot examples."""
        examples = self.selector.select(question, exclude) if self.selector else []
        documents: list[Source] = []
        if self.index is not None and self.profile.retrieval is not None:
            prefix = self._docs_prefix()
            hits = self.index.search(question, self.profile.retrieval.top_k)
            documents = [Source(0, f"{prefix}{hit.path}", hit.heading, hit.text, hit.score) for hit in hits]
        return assemble_prompt(
            instructions=self.profile.system,
            question=question,
            layout=self.profile.resolved_layout(self.provider_name),
            history=history,
            facts=all_facts(self.profile, self.settings),
            examples=examples,
            documents=documents,
        )

    def _docs_prefix(self) -> str:
        """Citations read `docs/vpn.md#Connecting`: the docs folder as seen from the profile's folder."""
        assert self.profile.retrieval is not None
        docs = self.profile.retrieval.docs.resolve()
        try:
            rel = docs.relative_to(self.profile_dir).as_posix()
        except ValueError:
            rel = docs.name
        return "" if rel in {"", "."} else f"{rel}/"


def cited_sources(answer: str, sources: Sequence[Source]) -> list[Source]:
    """Sources the answer cites as [n] or [n, m], in first-cited order; numbers out of range are ignored."""
    by_index = {source.index: source for source in sources}
    cited: dict[int, Source] = {}
    for match in _CITATION.finditer(answer):
        for number in match.group(1).split(","):
            source = by_index.get(int(number))
            if source is not None:
                cited.setdefault(source.index, source)
    return list(cited.values())
