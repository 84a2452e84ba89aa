"""`deploy_model`: the TUI's `p` — plan the deployment, show its machine, hourly rate (dated, with its source) and
idle auto-teardown in a confirmation, then deploy with progress. `:models`, `:endpoints` and the job detail all
start it, so the three keys ask the same question the CLI's `tunedeck endpoints deploy` asks, in its words.

It runs as an app worker, not a screen's: a deployment on Vertex takes minutes, and leaving the screen that
started it must neither abandon it nor lose its outcome (a notification, and the endpoint on `:endpoints`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from rich.text import Text

from tui import format as fmt
from tui.messages import InventoryRequested
from tui.screens.confirm import ConfirmScreen
from tunedeck.errors import TunedeckError

if TYPE_CHECKING:
    from textual.app import App

    from tui.deck import Deck
    from tunedeck.models import DeployPlanView

log = logging.getLogger(__name__)


def plan_text(view: DeployPlanView) -> Text:
    """The CLI's description of the plan (machine, rate with its date and source, idle teardown), line for line."""
    from tunedeck.cli.deploy import describe  # the same words as `tunedeck endpoints deploy`; Typer loads lazily

    lines = describe(view)[1:]  # the first line ("Deploy … model …") is the dialog's title
    body = Text("\n".join(line.strip() for line in lines))
    if view.plan.hourly and view.plan.hourly_rate_usd is None:
        body.append("\n\nThe hourly rate is unknown: tunedeck has no figure for this machine.", "bold yellow")
    return body


def start_deploy(app: App[None], deck: Deck, model: str, provider: str | None = None) -> None:
    """Start the flow for `model` (nothing is created before the user says yes to an hourly rate)."""
    app.run_worker(deploy_model(app, deck, model, provider), group="deploy", exit_on_error=False)


async def deploy_model(app: App[None], deck: Deck, model: str, provider: str | None) -> None:
    # An async worker around two blocking calls on threads: the confirmation in between needs
    # `push_screen_wait`, which only an async worker can await.
    from providers.errors import NotSupportedError

    actions = deck.ws.models
    try:
        view = await asyncio.to_thread(actions.deploy_plan, model, provider)
    except NotSupportedError as exc:  # served per token (a tuned Gemini model): an answer, not a failure
        app.notify(exc.hint or "Nothing to deploy.", title=exc.title, timeout=15)
        return
    except TunedeckError as exc:
        app.notify(exc.hint or exc.title, title=exc.title if exc.hint else "", severity="error", timeout=10)
        return
    except Exception as exc:
        log.exception("planning a deployment of %s failed", model)
        app.notify(f"{type(exc).__name__}: {exc}", title="Planning the deployment failed", severity="error")
        return
    plan = view.plan
    if plan.hourly:
        rate = "an unknown rate" if plan.hourly_rate_usd is None else f"${plan.hourly_rate_usd:,.2f}/hour"
        body = plan_text(view)
        body.append(f"\n\nIt bills {rate} until it is torn down.", "bold")
        title = f"Deploy {plan.provider} model {plan.model}?"
        if not await app.push_screen_wait(ConfirmScreen(title, body, "Deploy", danger=False)):
            app.notify(f"{plan.model} was not deployed; nothing was created.", title="Deploy cancelled")
            return
    app.notify(f"{plan.provider}:{plan.model}: {'deploying' if plan.hourly else 'loading'}…", title="Deploy")
    try:
        record = await asyncio.to_thread(actions.deploy, view)
    except TunedeckError as exc:
        # What it created is recorded (and listed on :endpoints) for teardown.
        app.notify(exc.hint or "What it created is listed on :endpoints for teardown.",
                   title=f"Deploy failed: {exc.title}", severity="error", timeout=30)  # fmt: skip
        app.post_message(InventoryRequested())
        return
    except Exception as exc:
        log.exception("deploying %s failed", model)
        app.notify(f"{type(exc).__name__}: {exc}", title="The deploy failed", severity="error", timeout=30)
        app.post_message(InventoryRequested())
        return
    teardown = ""
    if plan.hourly:
        teardown = (
            f"\nIdle auto-teardown after {fmt.span(view.idle_teardown_s)}."
            if view.idle_teardown_s
            else "\nIdle auto-teardown is off: d on :endpoints stops the charge."
        )
    app.notify(f"{record.provider}:{record.endpoint_id} answers now (see :endpoints).{teardown}", title="Deployed")
    app.post_message(InventoryRequested())  # :endpoints and the header's burn rate follow
