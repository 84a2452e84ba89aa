"""Pilot tests of `:models`: the listing (ours and foreign), `/` filter, `p` deploy behind the rate confirmation
(and declined), the endpoint then on `:endpoints`, a per-token model with nothing to deploy, `x` delete behind the
typed name (a wrong name does nothing), a foreign model refused, read-only offering neither, a provider that
cannot be listed getting a status line; `p` from `:endpoints` and from the job detail; one 80×24 snapshot."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input

from providers.base import (
    MANAGED_BY_LABEL,
    CreatedResource,
    Deployment,
    DeploymentPlan,
    DeploySpec,
    Endpoint,
    ModelInfo,
)
from providers.errors import NotSupportedError, UnavailableError
from tests.core.fakes import T0
from tests.tui.conftest import (
    FAST_MONITOR,
    LocalFake,
    record_notifications,
    screen_text,
    settle,
    submit,
    tiny_dataset,
    write_config,
)
from tests.tui.still import still_app
from tui.app import TunedeckApp
from tui.screens.confirm import ConfirmScreen
from tui.screens.endpoints import EndpointsScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.models import ModelsScreen
from tui.screens.type_to_confirm import TypeToConfirmScreen
from tui.widgets.endpoint_table import EndpointTable
from tui.widgets.model_table import ModelTable
from tunedeck.workspace import Workspace

OURS_ID = "projects/p/locations/us-central1/models/support-bot@1"
THEIRS_ID = "projects/p/locations/us-central1/models/research-7b@3"
GEMINI_ID = "tunedModels/gemini-helpdesk"
OURS, THEIRS, GEMINI = (f"local:{m}" for m in (OURS_ID, THEIRS_ID, GEMINI_ID))
RATE_NOTE = "1 × $1.3800/node-hour (g2-standard-8 + 1× NVIDIA_L4; as of 2026-11-01; cloud.google.com/vertex-ai/pricing)"


@dataclass
class ModelsFake(LocalFake):
    """The in-process fake with tuned models to list, deploy (billed hourly, like a Vertex open model) and delete."""

    models: list[ModelInfo] = field(default_factory=list)
    list_failure: Exception | None = None
    deployed: list[str] = field(default_factory=list)
    deploy_failure: Exception | None = None

    def list_models(self) -> list[ModelInfo]:
        if self.list_failure is not None:
            raise self.list_failure
        return list(self.models)

    def delete_model(self, model: str) -> None:
        self.calls.append(f"delete_model:{model}")
        self.models = [m for m in self.models if m.id != model]

    def plan_deployment(self, spec: DeploySpec) -> DeploymentPlan:
        if spec.model.startswith("tunedModels/"):
            raise NotSupportedError(f"{spec.model} is served per token: there is nothing to deploy.", provider="local")
        if spec.model.startswith("smollm2"):  # a model the local backend loads: free
            return DeploymentPlan(self.name, spec.model, spec.deploy_key, hourly_rate_usd=0.0, rate_note="free")
        if "unpriced" in spec.model:
            return DeploymentPlan(
                self.name, spec.model, spec.deploy_key, hourly=True, machine_type="a3-highgpu-8g",
                rate_note="a3-highgpu-8g: tunedeck's rate table has no figure for it, so the hourly cost is unknown",
            )  # fmt: skip
        return DeploymentPlan(
            provider=self.name, model=spec.model, deploy_key=spec.deploy_key, base_model="llama-3.1-8b", hourly=True,
            machine_type="g2-standard-8", accelerator_type="NVIDIA_L4", accelerator_count=1, hourly_rate_usd=1.38,
            rate_note=RATE_NOTE, note="Bills every hour it stays deployed, used or not.",
        )  # fmt: skip

    def deploy_model(
        self,
        plan: DeploymentPlan,
        progress: Callable[[str], None] | None = None,
        created: Callable[[CreatedResource], None] | None = None,
    ) -> Deployment:
        endpoint = f"ep-{plan.deploy_key}"
        if progress:
            progress("deploying on g2-standard-8")
        if created:
            created(CreatedResource("endpoint", endpoint))
        if self.deploy_failure is not None:
            raise self.deploy_failure
        self.endpoints[endpoint] = Endpoint(endpoint, self.name, endpoint, plan.model, 1.38, "g2-standard-8", 1, T0,
                                            None, {MANAGED_BY_LABEL: "tunedeck"})  # fmt: skip
        self.deployed.append(plan.model)
        return Deployment(plan, endpoint, "1", plan.model, (CreatedResource("endpoint", endpoint),))


def models_fake(*, served: bool = False) -> ModelsFake:
    """Three tuned models: one of ours (deployable), a foreign one, and a per-token one of ours. `served`: a
    fourth of ours already deployed on a dedicated endpoint (the still life of the snapshot and README)."""
    ours = {MANAGED_BY_LABEL: "tunedeck"}
    fake = ModelsFake(
        models=[
            ModelInfo(OURS_ID, "local", "tunedeck-test", T0, "2027-05-01", True, "llama-3.1-8b", "job-1", ours),
            ModelInfo(THEIRS_ID, "local", "research-team", T0 - timedelta(days=3), None, True, "qwen3-8b"),
            ModelInfo(GEMINI_ID, "local", "tunedeck-test", T0, None, True, "gemini-2.0-flash", "job-2", ours),
        ]
    )
    if served:
        name = "projects/p/locations/us-central1/models/legal-tone@1"
        fake.models.append(ModelInfo(name, "local", "tunedeck-test", T0, None, True, "gemma-3-4b-it", "job-3", ours))
        fake.endpoints["tdk-4417"] = Endpoint("tdk-4417", "local", "tdk-4417", name, 1.21, "g2-standard-12 + L4", 1,
                                              T0, None, ours)  # fmt: skip
    return fake


@pytest.fixture
def mfake() -> ModelsFake:
    return models_fake()


@pytest.fixture
def mworkspace(isolated_home: Path, mfake: ModelsFake) -> Iterator[Workspace]:
    write_config(isolated_home, FAST_MONITOR)
    ws = Workspace.open(provider_factory=lambda name: mfake)
    try:
        yield ws
    finally:
        ws.close()


async def open_models(app: TunedeckApp, pilot: object, rows: int = 3) -> ModelTable:
    await pilot.press("colon", *"models", "enter")  # type: ignore[attr-defined]
    await settle(pilot, lambda: isinstance(app.screen, ModelsScreen))  # type: ignore[arg-type]
    table = app.screen.query_one(ModelTable)
    await settle(pilot, lambda: table.row_count == rows, what=f"{rows} models")  # type: ignore[arg-type]
    return table


def select(table: ModelTable, key: str) -> None:
    table.move_cursor(row=table.get_row_index(key))


async def test_lists_every_model_with_provenance_and_filters(mworkspace: Workspace) -> None:
    app = TunedeckApp(mworkspace)
    async with app.run_test(size=(160, 40)) as pilot:
        table = await open_models(app, pilot)
        ours = [cell.plain for cell in table.get_row(OURS)]
        assert ours[0] == "local" and ours[1].endswith("-bot@1") and ours[2] == "—" and ours[4] == "llama-3.1-8b"
        assert ours[5] == "job-1" and ours[6] == "2026-11-25" and ours[7] == "2027-05-01" and ours[8] == "tunedeck"
        assert table.get_row(THEIRS)[8].plain == "research-team" and str(table.get_row(THEIRS)[0].style) == "dim"
        assert table.get_row_index(OURS) < table.get_row_index(THEIRS)  # ours first
        await pilot.press("slash", *"qwen")
        await settle(pilot, lambda: table.row_count == 1, what="the filter")  # matches the base model, too
        assert THEIRS in table.rows
        await pilot.press("enter", "escape")  # keep the filter and leave the bar, then esc clears it
        await settle(pilot, lambda: table.row_count == 3, what="the filter cleared")


async def test_p_shows_the_dated_rate_and_y_deploys_then_endpoints_lists_it(
    mworkspace: Workspace, mfake: ModelsFake
) -> None:
    # Without the monitor: it would rightly tear the new endpoint down at once (the fake's clock is days behind,
    # so it looks idle for longer than the default hour).
    app = TunedeckApp(mworkspace, live=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_models(app, pilot)
        select(table, OURS)
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the rate confirmation")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        text = f"{dialog.title_text}\n{dialog.body}"
        assert OURS_ID in text and "g2-standard-8 + 1× NVIDIA_L4" in text and "$1.38/hour" in text
        assert "as of 2026-11-01" in text and "idle teardown: after 1h00m unused" in text
        assert mfake.deployed == []  # nothing before the yes
        await pilot.press("y")
        await settle(pilot, lambda: any(n.title == "Deployed" for n in notes), what="the deployment")
        assert mfake.deployed == [OURS_ID]
        await settle(pilot, lambda: "ep-tdk-" in table.get_row(OURS)[2].plain, what="where it is served")
        await pilot.press("colon", *"endpoints", "enter")
        await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))
        endpoints = app.screen.query_one(EndpointTable)
        await settle(pilot, lambda: any(k.startswith("local:ep-tdk-") for k in endpoints.rows_by_key),
                     what="the endpoint on :endpoints")  # fmt: skip
    (record,) = mworkspace.store.list_deployments()
    assert record.model == OURS_ID and record.endpoint_id and record.endpoint_id.startswith("ep-tdk-")


async def test_p_declined_creates_nothing(mworkspace: Workspace, mfake: ModelsFake) -> None:
    app = TunedeckApp(mworkspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_models(app, pilot)
        select(table, OURS)
        for key in ("n", "escape"):
            await pilot.press("p")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press(key)
            await settle(pilot, lambda: isinstance(app.screen, ModelsScreen))
        await settle(pilot, lambda: sum(n.title == "Deploy cancelled" for n in notes) == 2)
    assert mfake.deployed == [] and mworkspace.store.list_deployments() == [] and mfake.endpoints == {}


async def test_an_unknown_rate_is_said_plainly(mworkspace: Workspace, mfake: ModelsFake) -> None:
    unpriced = "projects/p/locations/us-central1/models/unpriced-70b@1"
    mfake.models.append(ModelInfo(unpriced, "local", "tunedeck-test", T0, None, True, "llama-3.3-70b", "", {}))
    app = TunedeckApp(mworkspace, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_models(app, pilot, rows=4)
        select(table, f"local:{unpriced}")
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the rate confirmation")
        body = str(app.screen.body)  # type: ignore[attr-defined]
        assert "rate:         UNKNOWN" in body and "the hourly rate is unknown" in body.lower()
        assert "It bills an unknown rate until it is torn down." in body
        await pilot.press("n")


async def test_a_local_model_is_loaded_without_a_rate_to_agree_to(mworkspace: Workspace, mfake: ModelsFake) -> None:
    local = "smollm2-135m-instruct-helpdesk"
    mfake.models.append(ModelInfo(local, "local", "tunedeck", T0, None, True, "smollm2-135m-instruct", "", {}))
    app = TunedeckApp(mworkspace, live=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_models(app, pilot, rows=4)
        select(table, f"local:{local}")
        await pilot.press("p")
        await settle(pilot, lambda: any(n.title == "Deployed" for n in notes), what="the load")
        assert not any(isinstance(s, ConfirmScreen) for s in app.screen_stack) and mfake.deployed == [local]


async def test_a_deploy_that_fails_says_why_and_what_it_left(mworkspace: Workspace, mfake: ModelsFake) -> None:
    mfake.deploy_failure = UnavailableError("No L4 capacity in us-central1.", "Try another region.", provider="local")
    app = TunedeckApp(mworkspace, live=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_models(app, pilot)
        select(table, OURS)
        await pilot.press("p", "y")
        await settle(pilot, lambda: any(n.severity == "error" for n in notes), what="the failure")
        failure = next(n for n in notes if n.severity == "error")
        assert "No L4 capacity" in failure.title and failure.message == "Try another region."
        await settle(pilot, lambda: "p retries" in table.get_row(OURS)[3].plain, what="the row's mark")
        assert "No L4 capacity" in screen_text(app)  # the status line says it too
    (record,) = mworkspace.store.list_deployments()
    assert record.state == "failed" and record.resources == [("endpoint", f"ep-{record.id}")]


async def test_a_per_token_model_has_nothing_to_deploy(mworkspace: Workspace, mfake: ModelsFake) -> None:
    app = TunedeckApp(mworkspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_models(app, pilot)
        select(table, GEMINI)
        await pilot.press("p")
        await settle(pilot, lambda: any("served per token" in n.title for n in notes), what="the explanation")
        assert isinstance(app.screen, ModelsScreen) and mfake.deployed == []


async def test_x_deletes_only_after_the_short_name_is_typed(mworkspace: Workspace, mfake: ModelsFake) -> None:
    app = TunedeckApp(mworkspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_models(app, pilot)
        select(table, OURS)
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, TypeToConfirmScreen))
        dialog = app.screen
        assert isinstance(dialog, TypeToConfirmScreen)
        assert dialog.word == "support-bot@1" and "cannot be undone" in dialog.body
        await pilot.press(*"support-bot", "enter")  # not the name: nothing happens, the dialog stays
        await settle(pilot, lambda: "That is not" in screen_text(app))
        assert isinstance(app.screen, TypeToConfirmScreen)
        assert not any(c.startswith("delete_model") for c in mfake.calls)
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, ModelsScreen))
        assert OURS in table.rows and not any(c.startswith("delete_model") for c in mfake.calls)
        await pilot.press("x")
        await settle(pilot, lambda: isinstance(app.screen, TypeToConfirmScreen))
        app.screen.query_one(Input).value = "support-bot@1"
        await pilot.press("enter")
        await settle(pilot, lambda: OURS not in table.rows, what="the row to go")
        assert mfake.calls.count(f"delete_model:{OURS_ID}") == 1
        await settle(pilot, lambda: any(n.title == "Model deleted" for n in notes))


async def test_a_foreign_model_is_refused(mworkspace: Workspace, mfake: ModelsFake) -> None:
    app = TunedeckApp(mworkspace)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        notes = record_notifications(app)
        table = await open_models(app, pilot)
        select(table, THEIRS)
        await pilot.press("x")
        await settle(pilot, lambda: any(n.title == "Not ours" for n in notes), what="the refusal")
        assert isinstance(app.screen, ModelsScreen) and "research-team" in notes[-1].message
        assert not any(c.startswith("delete_model") for c in mfake.calls)


async def test_read_only_hides_and_disables_p_and_x(mworkspace: Workspace, mfake: ModelsFake) -> None:
    app = TunedeckApp(mworkspace, read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_models(app, pilot)
        select(table, OURS)
        await settle(pilot, lambda: "/ filter" in screen_text(app).splitlines()[39], what="the footer")
        footer = screen_text(app).splitlines()[39]
        assert "deploy" not in footer and "delete" not in footer
        for key in ("p", "x"):
            await pilot.press(key)
            await pilot.pause(0.2)
            assert isinstance(app.screen, ModelsScreen), key
        await app.screen.run_action("delete")  # what the palette would do: refused all the same
        await pilot.pause(0.1)
    assert mfake.deployed == [] and not any(c.startswith("delete_model") for c in mfake.calls)


async def test_a_provider_that_cannot_be_listed_gets_a_status_line(mworkspace: Workspace, mfake: ModelsFake) -> None:
    mfake.list_failure = UnavailableError("The provider did not answer.", provider="local")
    app = TunedeckApp(mworkspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon", *"m", "enter")  # the short alias
        await settle(pilot, lambda: isinstance(app.screen, ModelsScreen))
        await settle(pilot, lambda: "local: could not list models (The provider did not answer.)" in screen_text(app),
                     what="the status line")  # fmt: skip
        mfake.list_failure = None
        await pilot.press("ctrl+r")
        table = app.screen.query_one(ModelTable)
        await settle(pilot, lambda: table.row_count == 3, what="the models once it answers")
        assert "could not list" not in screen_text(app)


async def test_p_on_endpoints_goes_to_models(mworkspace: Workspace) -> None:
    app = TunedeckApp(mworkspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("colon", *"endpoints", "enter")
        await settle(pilot, lambda: isinstance(app.screen, EndpointsScreen))
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, ModelsScreen), what="the models screen")


async def test_p_on_the_job_detail_deploys_its_model(mworkspace: Workspace, mfake: ModelsFake, tmp_path: Path) -> None:
    job = submit(mworkspace, tiny_dataset(tmp_path))
    model = f"ft:smollm2-135m-instruct:{job.provider_job_id}"
    app = TunedeckApp(mworkspace)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: model in str(app.jobs_seen.get(job.id)), what="the tuned model")
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        detail = app.screen
        assert isinstance(detail, JobDetailScreen)
        await settle(pilot, lambda: detail.job is not None and detail.job.fine_tuned_model == model)
        await pilot.press("p")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the rate confirmation")
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and model in dialog.title_text and "$1.38/hour" in str(dialog.body)
        await pilot.press("n")
        await settle(pilot, lambda: isinstance(app.screen, JobDetailScreen))
    assert mfake.deployed == []


def test_snapshot_80x24(snap_compare: Callable[..., bool], isolated_home: Path) -> None:
    write_config(isolated_home, "")
    fake = models_fake(served=True)
    app = still_app(Workspace.open(provider_factory=lambda name: fake))

    async def run_before(pilot: object) -> None:
        await open_models(app, pilot, rows=4)
        await pilot.pause(0.2)  # type: ignore[attr-defined]

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
