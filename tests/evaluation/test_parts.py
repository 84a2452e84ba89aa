"""The store's evaluation records and migration, eval files, gates, the leakage matcher and model references."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from providers.base import TuningSpec
from tunedeck.errors import UnreadableInputError, UsageError
from tunedeck.evaluation.evalfile import load_eval_file
from tunedeck.evaluation.gates import evaluate_gate, parse_gate
from tunedeck.evaluation.leakage import find_leaks
from tunedeck.evaluation.targets import ModelRef
from tunedeck.store import Store
from tunedeck.store.evals import EvalItemRecord, EvalSample, Judgement
from tunedeck.store.migrations import SCHEMA_VERSION, migrate


def test_a_store_from_before_evaluation_gains_the_eval_tables_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "tunedeck.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, target=2)
    conn.close()
    with Store.open_path(path) as store:
        assert store.create_job_intent("local", TuningSpec("m", "f", client_key="k")).id
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA user_version = 3")  # as if written before evaluation existed (migration 4)…
    for table in ("eval_judgements", "eval_samples", "eval_items", "eval_runs", "preferences"):
        conn.execute(f"DROP TABLE {table}")
    conn.close()
    with Store.open_path(path) as store:  # …migrated on open
        assert store.db.pragma("user_version") == SCHEMA_VERSION >= 4
        assert len(store.list_jobs()) == 1 and store.list_eval_runs() == []


def test_samples_upsert_and_the_cache_ignores_errors(tmp_path: Path) -> None:
    with Store.open_path(tmp_path / "t.db") as store:
        run = store.create_eval_run(
            "fp", {"targets": []}, [EvalItemRecord(0, 1, "h", [{"role": "user", "content": "q"}], "r")]
        )
        assert store.eval_items(run.id)[0].messages == [{"role": "user", "content": "q"}]
        failed = store.record_eval_sample(run.id, EvalSample("a", 0, 0, "h", "key", error="503"))
        assert store.cached_eval_sample("key") is None and failed.id is not None
        ok = store.record_eval_sample(run.id, EvalSample("a", 0, 0, "h", "key", output="hi", scores={"exact": 1.0}))
        assert ok.id == failed.id and ok.error is None  # the retry replaced the error in place
        assert store.cached_eval_sample("key") == ok and len(store.eval_samples(run.id)) == 1
        store.update_eval_scores({ok.id: {"exact": 0.0}})  # type: ignore[dict-item]
        assert store.eval_samples(run.id)[0].scores == {"exact": 0.0}
        assert store.unfinished_eval_run("fp") == run
        store.set_eval_run_status(run.id, "finished")
        assert store.unfinished_eval_run("fp") is None and store.get_eval_run(run.id).finished_at  # type: ignore[union-attr]
        store.record_judgement(run.id, Judgement("rubric", "a", 0, 0, "jk", {"pass": True}))
        assert store.cached_judgement("rubric", "jk").verdict == {"pass": True}  # type: ignore[union-attr]
        assert store.cached_judgement("pairwise", "jk") is None


def test_eval_file(tmp_path: Path) -> None:
    (tmp_path / "rubric.md").write_text("Signs off.\n")
    path = tmp_path / "support.yaml"
    path.write_text(
        "data: data/heldout.jsonl\n"
        "models:\n  - {name: base, model: gpt-4o-mini, provider: openai}\n  - {profile: helpdesk, max_tokens: 64}\n"
        "metrics: [exact]\njudge: {model: gpt-4o, rubric_file: rubric.md, pairwise: true}\n"
        "repeat: 3\nconcurrency: 2\nfail_if: ['B.exact < A.exact']\n"
    )
    request = load_eval_file(path)
    assert request.data == tmp_path / "data" / "heldout.jsonl" and request.base_dir == tmp_path.resolve()
    assert request.models == [
        ModelRef("gpt-4o-mini", "openai", None, "base"),
        ModelRef(profile="helpdesk", max_tokens=64),
    ]
    assert (request.rubric, request.pairwise, request.judge_model) == ("Signs off.\n", True, "gpt-4o")
    assert (request.repeat, request.concurrency, request.fail_if) == (3, 2, ["B.exact < A.exact"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("data: x\nmodels:\n  - {model: a}\n", "models: List should have at least 2 items"),
        ("models:\n  - {model: a}\n  - {model: b}\n", "support.yaml: data: required setting is missing"),
        (
            "data: x\nmodels:\n  - {model: a}\n  - {provider: b}\n",
            "support.yaml:4: models.1: Value error, give `model:`",
        ),
        ("data: x\nmodels: [{model: a}, {model: b}]\njudge: {model: j}\n", "exactly one of `rubric:`"),
        ("data: x\nmodels: [{model: a}, {model: b}]\nrepeat: 0\n", "support.yaml:3: repeat:"),
        ("data: [unclosed\n", "not valid YAML (line 2)"),
        ("- a list\n", "must be a mapping"),
    ],
)
def test_eval_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "support.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as caught:
        load_eval_file(path)
    assert message in str(caught.value) and caught.value.exit_code == 2


def test_eval_file_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInputError, match="Cannot read the eval file"):
        load_eval_file(tmp_path / "missing.yaml")
    path = tmp_path / "e.yaml"
    path.write_text("data: x\nmodels: [{model: a}, {model: b}]\njudge: {model: j, rubric_file: nope.md}\n")
    with pytest.raises(UnreadableInputError, match="rubric_file"):
        load_eval_file(path)


def test_gates_with_dotted_labels_letters_and_numbers() -> None:
    labels = ["gpt-4.1-mini", "ft:gpt-4.1-mini:org::x"]
    metrics = [("contains:— Byte", "contains"), ("rouge-l", "rouge-l"), ("regex:a", "regex"), ("regex:b", "regex")]
    gate = parse_gate("ft:gpt-4.1-mini:org::x.contains < gpt-4.1-mini.contains", labels, metrics)
    assert (gate.left.model, gate.left.metric, gate.right.model) == (labels[1], "contains:— Byte", labels[0])
    gate = parse_gate("B.rouge-l<=0.25", labels, metrics)
    assert (gate.left.model, gate.op, gate.right.number) == (labels[1], "<=", 0.25)
    values = {(labels[1], "rouge-l"): 0.2}
    assert evaluate_gate(gate, lambda m, k: values.get((m, k))).crossed
    nothing = evaluate_gate(parse_gate("A.rouge-l > 0.5", labels, metrics), lambda m, k: None)
    assert nothing.crossed and "no scored answers" in nothing.detail  # a run that scored nothing never passes
    with pytest.raises(UsageError, match="ambiguous"):
        parse_gate("A.regex > 0", labels, metrics)


def test_find_leaks() -> None:
    training = [
        (1, "What is 2 + 2?", "Four."),
        (2, "Reset my VPN password please", "Open the VPN app and click Reset."),
        (3, "Unrelated", "Nothing"),
    ]
    held_out = [
        (0, 10, "what is 2+2", "four"),  # exact after folding case, spaces and punctuation
        (1, 11, "Reset my VPN password please", "Open the VPN app and click Reset now."),  # one word added
        (2, 12, "Reset my phone", "Call the help desk."),  # shares words, not a copy
    ]
    leaks = find_leaks(held_out, training)
    assert [(leak.item, leak.kind, leak.training_line) for leak in leaks] == [(0, "exact", 1), (1, "near-duplicate", 2)]
    # The held-out item's 11 word 3-grams include all 10 of the training example's: Jaccard 10/11.
    assert leaks[1].similarity == pytest.approx(10 / 11, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gpt-4o-mini", ModelRef(model="gpt-4o-mini", label="gpt-4o-mini")),
        ("base=smollm2-135m-instruct", ModelRef(model="smollm2-135m-instruct", label="base")),
        ("profile:helpdesk", ModelRef(profile="helpdesk", label="profile:helpdesk")),
        ("mine=profile:helpdesk", ModelRef(profile="helpdesk", label="mine")),
        ("ft:gpt-4o-mini:org:x=y:id", ModelRef(model="ft:gpt-4o-mini:org:x=y:id", label="ft:gpt-4o-mini:org:x=y:id")),
        (
            "projects/p/locations/l/endpoints/e",
            ModelRef(model="projects/p/locations/l/endpoints/e", label="projects/p/locations/l/endpoints/e"),
        ),
    ],
)
def test_model_refs(text: str, expected: ModelRef) -> None:
    assert ModelRef.parse(text) == expected


def test_cli_start_up_loads_no_statistics_stack() -> None:
    from tests.test_import_hygiene import modules_after_import

    loaded = modules_after_import("import tunedeck.cli.main")
    assert not {"scipy", "numpy", "statsmodels", "jsonschema", "tunedeck.evaluation"} & loaded
