"""`ProfilesScreen` (`:profiles`): every profile, and for the selected one its system prompt, few-shot
examples, remembered facts and indexed documents; `r` remembers a fact, `f` forgets one (by number or text),
`p` opens the Playground with its base model beside the profile. The same calls as
`tunedeck profile list|show|remember|forget`."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.deck import Deck, reported
from tui.screens.base import DeckScreen
from tui.widgets.status_header import StatusHeader
from tui.work_messages import ProfilesLoaded

MAX_DOCS_SHOWN = 20


def describe_profile(view: Any) -> Text:
    profile = view.profile
    text = Text.assemble((profile.name, "bold"), f"  {profile.provider}:{profile.model}  ", (str(view.path), "dim"))
    if profile.description:
        text.append(f"\n{profile.description}", style="italic")
    text.append("\n\nSystem prompt\n", style="bold")
    text.append(profile.system or "(none)")
    text.append("\n\nFew-shot examples\n", style="bold")
    if profile.few_shot is None:
        text.append("(none)")
    else:
        text.append(f"{profile.few_shot.count} {profile.few_shot.selection} from {profile.few_shot.dataset}")
    text.append("\n\nFacts\n", style="bold")
    for fact in profile.memory.facts:
        text.append(f"  · {fact}  (in the profile file)\n")
    for number, fact in enumerate(view.stored_facts, start=1):
        text.append(f"  {number}. {fact}\n")
    if not profile.memory.facts and not view.stored_facts:
        text.append("(none)\n")
    text.append(f"remembered in {view.memory_file}\n", style="dim")
    text.append("\nIndexed documents\n", style="bold")
    if profile.retrieval is None:
        text.append("(none)")
    else:
        docs = sorted(profile.retrieval.docs.glob(profile.retrieval.glob)) if profile.retrieval.docs.is_dir() else []
        text.append(
            f"{len(docs)} under {profile.retrieval.docs} ({profile.retrieval.glob}), top {profile.retrieval.top_k}\n"
        )
        for doc in docs[:MAX_DOCS_SHOWN]:
            text.append(f"  {doc.relative_to(profile.retrieval.docs)}\n")
    return text


class ProfilesScreen(DeckScreen):
    TITLE_TEXT = "Profiles"
    CSS_PATH = "../part2.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "remember", "remember", id="profiles.remember"),
        Binding("f", "forget", "forget", id="profiles.forget"),
        Binding("p", "playground", "playground", id="profiles.playground"),
    ]

    def __init__(self, deck: Deck) -> None:
        super().__init__(deck)
        self.view: Any = None
        self.mode = ""

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE_TEXT)
        with Horizontal(id="pf-body"):
            yield OptionList(id="pf-list")
            with VerticalScroll(id="pf-side", classes="pane"):
                yield Static(Text("Looking for profiles…", style="dim"), id="pf-detail")
        yield Input(placeholder="r: a fact to remember · f: a fact's number or text to forget", id="pf-fact")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.load(None)

    @work(thread=True, exclusive=True, group="profiles", exit_on_error=False)
    def load(self, name: str | None) -> None:
        with reported(self, "Reading profiles"):
            names = [ref.name for ref in self.ws.profiles.all()]
            wanted = name or (names[0] if names else None)
            view = self.ws.profiles.show(wanted) if wanted else None
            self.post_message(ProfilesLoaded(names, view))

    def on_profiles_loaded(self, message: ProfilesLoaded) -> None:
        listing = self.query_one("#pf-list", OptionList)
        if [listing.get_option_at_index(i).id for i in range(listing.option_count)] != message.names:
            listing.clear_options()
            listing.add_options([Option(name, id=name) for name in message.names])
        self.view = message.view
        detail = self.query_one("#pf-detail", Static)
        if message.view is None:
            dirs = ", ".join(str(p) for p in self.ws.profiles.search_dirs())
            detail.update(Text(f"No profiles. tunedeck looks in {dirs}.", style="dim"))
            return
        detail.update(describe_profile(message.view))
        if message.view.profile.name in message.names:
            listing.highlighted = message.names.index(message.view.profile.name)

    @on(OptionList.OptionHighlighted, "#pf-list")
    def _picked(self, event: OptionList.OptionHighlighted) -> None:
        name = str(event.option.id)
        if self.view is None or self.view.profile.name != name:
            self.load(name)

    def _ask(self, mode: str, placeholder: str) -> None:
        if self.view is None:
            self.notify("Pick a profile first.", title="No profile", severity="warning")
            return
        self.mode = mode
        field = self.query_one("#pf-fact", Input)
        field.placeholder = placeholder
        field.focus()

    def action_remember(self) -> None:
        self._ask("remember", f"a fact for {self.view.profile.name if self.view else '…'} to remember; enter")

    def action_forget(self) -> None:
        self._ask("forget", "the number (or text) of a remembered fact to forget; enter")

    @on(Input.Submitted, "#pf-fact")
    def _fact_entered(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value or self.view is None or not self.mode:
            return
        event.input.value = ""
        self.change_fact(self.view.profile.name, self.mode, value)
        self.mode = ""
        self.query_one("#pf-list", OptionList).focus()

    @work(thread=True, exclusive=True, group="profiles-fact", exit_on_error=False)
    def change_fact(self, name: str, mode: str, value: str) -> None:
        with reported(self, f"{mode.capitalize()}ing the fact"):
            if mode == "remember":
                self.ws.profiles.remember(name, value)
                said = f"{name} remembers: {value}"
            else:
                said = f"{name} forgot: {self.ws.profiles.forget(name, value)}"
            self.app.call_from_thread(self.notify, said, title="Profile memory")
        self.load(name)

    def action_playground(self) -> None:
        if self.view is None:
            return
        from tui.screens.playground import PlaygroundScreen

        profile = self.view.profile
        self.app.go_to("playground")  # type: ignore[attr-defined]
        screen = self.app.screen
        if isinstance(screen, PlaygroundScreen):
            # The bare base model beside the profile on it: what the profile's prompt, few-shot and retrieval add.
            screen.preset(f"{profile.provider}:{profile.model}, profile:{profile.name}", "")
