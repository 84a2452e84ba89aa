"""The screens `:name` jumps to, as data: part 2's screens (`:new`, `:datasets`, `:playground`, `:profiles`,
`:infra`) and later ones (`:eval`, `:models`) are added here, with nothing else in the shell to change.

Each screen module is imported only when first shown, so start-up pays for the Jobs screen alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.screen import Screen

    from tui.deck import Deck


@dataclass(frozen=True)
class Destination:
    name: str
    """What `:` takes (and the name the screen is installed under)."""
    title: str
    description: str
    build: Callable[[Deck], Screen[None]]
    aliases: tuple[str, ...] = ()


def _jobs(deck: Deck) -> Screen[None]:
    from tui.screens.jobs import JobsScreen

    return JobsScreen(deck)


def _endpoints(deck: Deck) -> Screen[None]:
    from tui.screens.endpoints import EndpointsScreen

    return EndpointsScreen(deck)


def _new(deck: Deck) -> Screen[None]:
    from tui.screens.wizard import WizardScreen

    return WizardScreen(deck)


def _datasets(deck: Deck) -> Screen[None]:
    from tui.screens.datasets import DatasetsScreen

    return DatasetsScreen(deck)


def _playground(deck: Deck) -> Screen[None]:
    from tui.screens.playground import PlaygroundScreen

    return PlaygroundScreen(deck)


def _profiles(deck: Deck) -> Screen[None]:
    from tui.screens.profiles import ProfilesScreen

    return ProfilesScreen(deck)


def _models(deck: Deck) -> Screen[None]:
    from tui.screens.models import ModelsScreen

    return ModelsScreen(deck)


def _infra(deck: Deck) -> Screen[None]:
    from tui.screens.infra import InfraScreen

    return InfraScreen(deck)


def _eval(deck: Deck) -> Screen[None]:
    from tui.screens.evaluation import EvaluationScreen

    return EvaluationScreen(deck)


DESTINATIONS: tuple[Destination, ...] = (
    Destination("jobs", "Jobs", "every fine-tuning job, live", _jobs, ("job", "j")),
    Destination("endpoints", "Endpoints", "what bills by the hour or holds memory; test and tear down", _endpoints,
                ("endpoint", "ep", "e")),
    Destination("new", "New job", "a wizard from a dataset file to a submitted job", _new, ("submit", "wizard")),
    Destination("datasets", "Datasets", "validate, inspect, convert and split a dataset file", _datasets,
                ("dataset", "data")),
    Destination("playground", "Playground", "chat with one model, or two or three side by side", _playground,
                ("play", "pg", "chat")),
    Destination("profiles", "Profiles", "system prompts, few-shot examples and remembered facts", _profiles,
                ("profile",)),
    Destination("models", "Models", "every tuned model: deploy (p) or delete (x) one", _models, ("model", "m")),
    Destination("infra", "Infra", "the Pulumi stack: plan, up, refresh, destroy", _infra, ("stack", "pulumi")),
    Destination("eval", "Evaluations", "compare models on held-out data; prompt or fine-tune?", _eval,
                ("evals", "evaluate")),
)  # fmt: skip


def find(name: str) -> Destination | None:
    """A destination by name, alias or unambiguous prefix (`:end` → endpoints)."""
    wanted = name.strip().lstrip(":").lower()
    if not wanted:
        return None
    for destination in DESTINATIONS:
        if wanted == destination.name or wanted in destination.aliases:
            return destination
    matches = [d for d in DESTINATIONS if d.name.startswith(wanted)]
    return matches[0] if len(matches) == 1 else None
