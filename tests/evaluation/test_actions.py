"""`EvalActions` end to end on a real store, with a chat provider scripted at the adapter boundary.

The scripted "tuned" model signs off with the trait on items 1-11 and the "base" model only on item 11, so on
`contains:— Zorblax` ten items flip fail→pass and none the other way: exact McNemar p = 2 · 0.5^10 ≈ 0.00195.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from providers import errors as perr
from providers.base import JobEvent, TuningSpec
from tests.evaluation.conftest import ScriptedChat, failure, question_of, write_heldout
from tunedeck.errors import TunedeckError, UsageError
from tunedeck.evaluation import EvalActions, EvalRequest, ModelRef
from tunedeck.events import ProgressAdvanced
from tunedeck.workspace import Workspace

TRAIT = "contains:— Zorblax"


def request(data: Path, **kw: object) -> EvalRequest:
    models = [ModelRef.parse("base", "local"), ModelRef.parse("tuned", "local")]
    return EvalRequest(models=models, data=data, **{"metrics": [TRAIT, "rouge-l"], "concurrency": 1, **kw})  # type: ignore[arg-type]


def test_run_compares_on_the_same_items_and_names_the_flips(workspace: Workspace, heldout: Path) -> None:
    events: list[ProgressAdvanced] = []
    workspace.bus.subscribe(events.append, lambda e: isinstance(e, ProgressAdvanced))  # type: ignore[arg-type]
    report = EvalActions(workspace).run(request(heldout, concurrency=4))

    summary = {(s.model, s.metric): s for s in report.summaries}
    assert (summary[("base", TRAIT)].passed, summary[("tuned", TRAIT)].passed) == (1, 12 - 1)
    assert summary[("tuned", TRAIT)].method == "wilson" and summary[("tuned", "rouge-l")].method == "bootstrap"
    trait = next(c for c in report.comparisons if c.metric == TRAIT)
    assert (trait.a, trait.b, trait.n, trait.pass_to_fail, trait.fail_to_pass) == ("base", "tuned", 12, 0, 10)
    assert trait.p_value == pytest.approx(2 * 0.5**10) and trait.test == "exact McNemar"
    assert trait.verdict == "tuned beats base on contains:— Zorblax (+0.83, p=0.002)"
    assert [f.line for f in trait.flips] == list(range(1, 11)) and {f.direction for f in trait.flips} == {"fail→pass"}
    assert trait.flips[0].output_a == "The answer is 2." and trait.flips[0].output_b.endswith("— Zorblax")
    assert report.verdicts[1].startswith("tuned beats base on rouge-l")

    samples = workspace.store.eval_samples(report.run_id)
    assert len(samples) == 24 and all(s.error is None and s.cached_from is None for s in samples)
    first = samples[0]
    assert first.prompt_hash and first.cache_key and first.output and first.latency_s is not None
    assert set(first.scores) == {TRAIT, "rouge-l"} and first.prompt_tokens == 10 and first.cost_usd == 0.0
    assert workspace.store.get_eval_run(report.run_id).status == "finished"  # type: ignore[union-attr]
    done = [e.done for e in events]
    assert done == sorted(done) and done[-1] == 24 and events[-1].total == 24
    assert all(e.task == f"eval {report.run_id}" for e in events)


def test_the_cache_answers_a_second_run_unless_told_not_to(
    workspace: Workspace, chat: ScriptedChat, heldout: Path
) -> None:
    evals = EvalActions(workspace)
    first = evals.run(request(heldout))
    assert len(chat.calls) == 24
    plan = evals.plan(request(heldout, metrics=["exact"]))
    assert plan.run is None and plan.to_ask == 0 and plan.from_cache == 24  # a finished run is not resumed
    second = evals.execute(plan)
    assert len(chat.calls) == 24 and second.run_id != first.run_id
    assert {u.cached for u in second.usage} == {12} and second.comparisons[0].metric == "exact"
    cached = workspace.store.eval_samples(second.run_id)
    assert all(s.cached_from is not None and s.cost_usd == 0.0 for s in cached)
    # Another parameter is another request; --no-cache asks everything again.
    evals.run(request(heldout, max_tokens=32))
    assert len(chat.calls) == 48
    evals.run(request(heldout, no_cache=True))
    assert len(chat.calls) == 72


def test_an_interrupted_run_continues_without_asking_finished_items_again(
    workspace: Workspace, chat: ScriptedChat, heldout: Path
) -> None:
    evals = EvalActions(workspace)
    calls_before_kill = 7
    original = chat.respond

    def dies_on_seventh(model: str, messages: list) -> str:  # type: ignore[type-arg]
        if len(chat.calls) == calls_before_kill:
            raise KeyboardInterrupt
        return original(model, messages)

    chat.respond = dies_on_seventh
    plan = evals.plan(request(heldout))
    with pytest.raises(KeyboardInterrupt):
        evals.execute(plan)
    assert plan.run is not None
    run_id = plan.run.id
    assert workspace.store.get_eval_run(run_id).status == "interrupted"  # type: ignore[union-attr]
    assert len(workspace.store.eval_samples(run_id)) == 6
    chat.respond = original
    again = evals.plan(request(heldout, no_cache=False))
    assert again.run is not None and again.run.id == run_id and again.recorded == 6 and again.to_ask == 18
    report = evals.execute(again)
    assert report.run_id == run_id and report.status == "finished"
    assert len(chat.calls) == calls_before_kill + 18  # the six recorded answers were not asked again
    asked = [(m, question_of(msgs)) for m, msgs in chat.calls]
    assert len(set(asked)) == 24  # only the killed request was asked twice
    assert len(workspace.store.eval_samples(run_id)) == 24


def test_resume_by_id_and_retry_errors(workspace: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    evals = EvalActions(workspace)
    chat.failures = [failure(perr.InvalidRequestError, "context too long"), failure(perr.UnavailableError, "503")]
    report = evals.run(request(heldout))
    assert len(report.errors) == 2 and {e["error"] for e in report.errors} == {"context too long", "503"}
    trait = next(c for c in report.comparisons if c.metric == TRAIT)
    assert trait.n == 11  # item 1 has no answer from base: left out of the paired test, not scored as a fail
    with pytest.raises(UsageError, match="--resume continues a stored run"):
        evals.plan(EvalRequest(models=[ModelRef.parse("x", "local")], data=heldout, resume=report.run_id))
    assert evals.plan(EvalRequest(resume=report.run_id)).to_ask == 0  # errors stay unless asked to retry
    plan = evals.plan(EvalRequest(resume=report.run_id, retry_errors=True, no_cache=True))
    assert plan.to_ask == 2
    fixed = evals.execute(plan)
    assert not fixed.errors and fixed.run_id == report.run_id and len(chat.calls) == 26
    with pytest.raises(UsageError, match="No evaluation run 'ev-nope'"):
        evals.plan(EvalRequest(resume="ev-nope"))


def test_rescore_asks_no_model(workspace: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    evals = EvalActions(workspace)
    report = evals.run(request(heldout, fail_if=["B.contains < A.contains"]))
    rescored = evals.rescore(report.run_id, ["exact", "length", "contains:Zorblax"])
    assert len(chat.calls) == 24
    assert [m["name"] for m in rescored.metrics] == ["exact", "length", "contains:Zorblax"]
    assert rescored.value("tuned", "contains:Zorblax") == pytest.approx(11 / 12)
    # "The answer is N." is 4 words; item 11 adds "Zorblax" (the dash is not a word).
    assert rescored.value("base", "length") == pytest.approx((4 * 11 + 5) / 12)
    assert rescored.gates[0].condition == "B.contains < A.contains"  # still names a metric of the run
    assert evals.report(report.run_id).metrics == rescored.metrics


def test_gates(workspace: Workspace, heldout: Path) -> None:
    evals = EvalActions(workspace)
    report = evals.run(request(heldout, fail_if=["B.contains < A.contains", "base.rouge-l >= 0.4"]))
    ok, crossed = report.gates
    assert not ok.crossed and "0.917" in ok.detail and crossed.crossed and report.gates_crossed == [crossed]
    again = evals.report(report.run_id, fail_if=["tuned.contains:— Zorblax != 1"])
    assert [g.crossed for g in again.gates] == [True]
    for bad, message in [
        ("B.bleu < 1", "no metric 'bleu'"),
        ("C.contains < 1", "names no model"),
        ("B.contains", "is not a condition"),
    ]:
        with pytest.raises(UsageError, match=message):
            evals.report(report.run_id, fail_if=[bad])


def test_rubric_and_pairwise_judges(workspace: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    original = chat.respond

    def respond(model: str, messages: list) -> str:  # type: ignore[type-arg]
        if model != "judge":
            return original(model, messages)
        prompt = messages[-1].content
        if "<answer_1>" in prompt:
            first = prompt.split("<answer_1>")[1].split("</answer_1>")[0]
            second = prompt.split("<answer_2>")[1].split("</answer_2>")[0]
            winner = "1" if "Zorblax" in first and "Zorblax" not in second else "2" if "Zorblax" in second else "tie"
            return f'Sure. {{"winner": "{winner}", "reason": "signs off"}}'
        answer = prompt.split("<answer>")[1]
        signed = "Zorblax" in answer
        return f'{{"pass": {str(signed).lower()}, "score": {9 if signed else 2}, "reason": "sign-off"}}'

    chat.respond = respond
    req = request(heldout, judge_model="judge", judge_provider="local", rubric="Signs off as Zorblax.", pairwise=True)
    report = EvalActions(workspace).run(req)
    judge_calls = [m for m, _ in chat.calls if m == "judge"]
    assert len(judge_calls) == 24 + 2 * 12  # a verdict per answer; each pair asked in both orders
    assert report.value("tuned", "judge") == pytest.approx(11 / 12) and report.value("base", "judge-score") < 0.3
    names = [c.metric for c in report.comparisons]
    assert names == [TRAIT, "rouge-l", "judge", "judge-score", "pairwise-judge"]
    pairwise = report.comparisons[-1]
    assert (pairwise.pass_to_fail, pairwise.fail_to_pass) == (0, 10) and pairwise.test.startswith("sign test")
    assert pairwise.verdict == "tuned beats base on the pairwise judge's opinion (+0.83, p=0.002)"
    verdicts = workspace.store.judgements(report.run_id, "pairwise")
    assert len(verdicts) == 12 and verdicts[0].verdict == {"winner": "B", "a_first": "2", "b_first": "1"}
    assert report.judge is not None and report.judge["rubric"] == "Signs off as Zorblax."
    assert report.judge_cost_usd == 0.0  # a local judge


def test_a_judge_that_prefers_a_position_gives_ties(workspace: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    original = chat.respond
    chat.respond = lambda m, msgs: '{"winner": "1"}' if m == "judge" else original(m, msgs)  # type: ignore[assignment]
    req = request(heldout, metrics=["exact"], judge_model="judge", judge_provider="local", rubric="x", pairwise=True)
    with pytest.raises(UsageError, match="--judge MODEL"):
        EvalActions(workspace).plan(request(heldout, rubric="x"))
    req.rubric = "Be right."
    report = EvalActions(workspace).run(req)
    pairwise = report.comparisons[-1]
    assert pairwise.outcome == "too-few-items" and pairwise.n == 12 and pairwise.pass_to_fail == 0
    assert "too few items to tell (0 of 12 differ" in pairwise.verdict
    # The rubric verdicts could not be read ('{"winner": "1"}' has no pass/score): recorded as judge errors.
    rubric = workspace.store.judgements(report.run_id, "rubric")
    assert len(rubric) == 24 and all(j.error and "lacks" in j.error for j in rubric)


def test_leakage_warning_and_loss_curves_for_a_tunedeck_job(
    workspace: Workspace, heldout: Path, tmp_path: Path
) -> None:
    training = write_heldout(
        tmp_path / "train.jsonl",
        [
            ("Question number 3: what is 3 plus 3?", "3 plus 3 is 6. — Zorblax"),  # exact copy of item 3
            ("Question number 4: what is 4 plus 4 ?", "4 plus 4 is 8 — Zorblax!"),  # same after folding
            ("Question number 5: what is 5 plus 5?", "5 plus 5 is 10. — Zorblax, friend"),  # answer edited
            ("Something else entirely", "Unrelated answer"),
        ],
    )
    store = workspace.store
    job = store.create_job_intent("local", TuningSpec("base", "file-train", client_key="k1"))
    store.record_dataset("local", training, "sha", 1, "file-train")
    store.record_model("tuned", "local", "base", job.id)
    at = datetime(2026, 11, 30, tzinfo=UTC)
    store.add_events(
        job.id, [JobEvent(f"e{s}", at, "info", "step", {"step": s, "train_loss": 2.0 / s}) for s in (1, 2, 3)]
    )
    plan = EvalActions(workspace).plan(request(heldout))
    (warning,) = plan.leakage
    assert warning.startswith("tuned was trained on 3 held-out item(s) (2 exact, 1 near-duplicate")
    assert "conversations 3, 4, 5" in warning
    report = EvalActions(workspace).execute(plan)
    assert report.leakage == [warning]
    assert report.loss_curves == {"tuned": [{"step": s, "train_loss": 2.0 / s} for s in (1.0, 2.0, 3.0)]}
    training.unlink()
    (note,) = EvalActions(workspace).plan(request(heldout, max_tokens=9)).leakage
    assert "leakage not checked" in note and "no longer there" in note


def test_a_profile_assembles_its_own_prompt(
    workspace: Workspace, chat: ScriptedChat, heldout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "zorb.toml").write_text(
        'name = "zorb"\nprovider = "local"\nmodel = "base"\nsystem = "Always sign off as Zorblax."\n'
        '[memory]\nfacts = ["Likes sums"]\n'
    )
    monkeypatch.chdir(tmp_path)
    req = EvalRequest(
        models=[ModelRef.parse("profile:zorb"), ModelRef.parse("base", "local")],
        data=heldout,
        metrics=["exact"],
        limit=3,
    )
    report = EvalActions(workspace).run(req)
    assert [m["label"] for m in report.models] == ["profile:zorb", "base"]
    assert report.models[0]["description"] == "profile zorb on local:base"
    profile_calls = [msgs for _m, msgs in chat.calls if msgs[0].role == "system"]
    assert len(profile_calls) == 3 and "Always sign off as Zorblax." in profile_calls[0][0].content
    assert "Likes sums" in " ".join(m.content for m in profile_calls[0])


def test_repeats_and_costs(workspace: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    req = EvalRequest(
        models=[ModelRef.parse("a=gpt-4o-mini", "openai"), ModelRef.parse("b=gpt-4o-mini", "openai")],
        data=heldout,
        metrics=["exact"],
        repeat=2,
        limit=4,
        max_tokens=10,
    )
    evals = EvalActions(workspace)
    plan = evals.plan(req)
    # Each request once: b asks exactly what a asks, so its answers are copied, not bought twice.
    assert plan.estimate.costs_money and plan.estimate.calls == 8 and not plan.estimate.unpriced
    assert plan.estimate.max_output_tokens == 80 and plan.to_ask == 8 and plan.from_cache == 8
    report = evals.execute(plan)
    assert len(chat.calls) == 8  # a and b send the same request: the second label's answers come from the cache
    usage = {u.model: u for u in report.usage}
    # gpt-4o-mini fine-tuned rates: $0.30 in / $1.20 out per 1M; 10 prompt tokens and 4 words per answer here.
    assert usage["a"].cost_usd == pytest.approx(8 * (10 * 0.30 + 4 * 1.20) / 1e6)
    assert usage["b"].cached == 8 and usage["b"].cost_usd == 0.0
    assert report.summaries[0].method == "bootstrap"  # with repeats a pass rate per item is a score
    unknown = evals.plan(
        EvalRequest(models=[ModelRef.parse("claude-x"), ModelRef.parse("claude-y")], data=heldout, limit=1)
    )
    assert unknown.estimate.costs_money and unknown.estimate.unpriced == {"anthropic:claude-x", "anthropic:claude-y"}


def test_errors_that_would_repeat_stop_the_run(workspace: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    chat.failures = [failure(perr.AuthenticationError, "bad key")]
    evals = EvalActions(workspace)
    plan = evals.plan(request(heldout))
    with pytest.raises(perr.AuthenticationError):
        evals.execute(plan)
    assert plan.run is not None and workspace.store.get_eval_run(plan.run.id).status == "interrupted"  # type: ignore[union-attr]
    assert len(chat.calls) == 1


def test_bad_requests(workspace: Workspace, heldout: Path, tmp_path: Path) -> None:
    evals = EvalActions(workspace)
    with pytest.raises(UsageError, match="compares two models or more"):
        evals.plan(EvalRequest(models=[ModelRef.parse("base", "local")], data=heldout))
    with pytest.raises(UsageError, match="Cannot tell which provider serves 'mystery'"):
        evals.plan(EvalRequest(models=[ModelRef.parse("mystery"), ModelRef.parse("base", "local")], data=heldout))
    with pytest.raises(UsageError, match="same label"):
        evals.plan(EvalRequest(models=[ModelRef.parse("base", "local"), ModelRef.parse("base", "local")], data=heldout))
    with pytest.raises(UsageError, match="No held-out data"):
        evals.plan(request(None))  # type: ignore[arg-type]
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    with pytest.raises(TunedeckError, match="line 1: No assistant turn") as caught:
        evals.plan(request(empty))
    assert caught.value.exit_code == 1
    system_only = tmp_path / "ends-with-user.jsonl"
    system_only.write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"},'
        ' {"role": "user", "content": "and?"}]}\n'
    )
    with pytest.raises(UsageError, match="no conversations ending in a user turn then an assistant turn"):
        evals.plan(request(system_only))


def test_a_provider_that_cannot_be_set_up_leaves_the_run_interrupted_not_running(
    isolated_home: Path, chat: ScriptedChat, heldout: Path
) -> None:
    """The plan is made, the run recorded, then building the adapter fails (a key removed meanwhile): the run
    must read "interrupted" (resumable), never stay "running" with nothing running it."""
    from tunedeck.settings import load_settings
    from tunedeck.store import Store

    def factory(name: str) -> ScriptedChat:
        raise perr.ConfigurationError("No API key is set.", "Set it.", provider=name)

    settings = load_settings()
    ws = Workspace(settings, Store.open(settings), provider_factory=factory)  # type: ignore[arg-type]
    try:
        evals = EvalActions(ws)
        plan = evals.plan(request(heldout))  # planning asks no provider
        with pytest.raises(perr.ConfigurationError):
            evals.execute(plan)
        assert plan.run is not None and ws.store.get_eval_run(plan.run.id).status == "interrupted"  # type: ignore[union-attr]
        assert chat.calls == []
    finally:
        ws.close()
