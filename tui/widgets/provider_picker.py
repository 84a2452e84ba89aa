"""`ProviderPicker`: the wizard's list of providers. Those that can fine-tune and are configured can be picked;
Anthropic is listed with why it cannot be tuned, and a provider without its key or project with what to set.

The configuration check reads settings only (no service is asked), but it may import an adapter module, so it
runs in a worker and the list is usable at once: a provider found unconfigured is disabled when the check ends.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from providers.capabilities import CAPABILITIES
from providers.translate import OPENAI_LAST_DAY_FOR_NEW_JOBS, OPENAI_NEW_ORGS_BLOCKED_SINCE

NOT_TUNABLE = {"anthropic": "Anthropic offers no fine-tuning API: use a profile instead (:profiles)."}


class ProviderPicker(OptionList):
    def __init__(self, workspace: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ws = workspace
        self.problems: dict[str, str] = {}
        """Provider → why it is not configured (filled by the check)."""
        self.checked = False

    def on_mount(self) -> None:
        for name in self.ws.known_providers():
            caps = CAPABILITIES.get(name)
            if caps is not None and caps.fine_tuning:
                note = (f"  (wind-down: no new orgs since {OPENAI_NEW_ORGS_BLOCKED_SINCE}, last new jobs "
                        f"{OPENAI_LAST_DAY_FOR_NEW_JOBS})") if name == "openai" else ""  # fmt: skip
                self.add_option(Option(f"{name}{note}", id=name))
            else:
                reason = NOT_TUNABLE.get(name, "cannot fine-tune")
                self.add_option(Option(f"{name}  — {reason}", id=name, disabled=True))
        self.check_setup()

    @work(thread=True, exclusive=True, group="provider-setup", exit_on_error=False)
    def check_setup(self) -> None:
        problems: dict[str, str] = {}
        for name in self.ws.known_providers():
            caps = CAPABILITIES.get(name)
            if caps is None or not caps.fine_tuning:
                continue
            try:
                problem = self.ws.setup_problem(name)
            except Exception as exc:  # a broken setting disables one row, never the wizard
                problem = f"not configured: {getattr(exc, 'title', None) or type(exc).__name__}"
            if problem:
                problems[name] = problem
        self.app.call_from_thread(self._disable, problems)

    def _disable(self, problems: dict[str, str]) -> None:
        self.problems = problems
        for name, problem in problems.items():
            self.replace_option_prompt(name, f"{name}  — {problem}")
            self.disable_option(name)
        self.checked = True
