"""The HTML and JUnit files: every figure in tables, labels for a judge's opinion, and hostile answers kept inert."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tests.evaluation.conftest import ScriptedChat, write_heldout
from tunedeck.evaluation import EvalActions, EvalRequest, ModelRef
from tunedeck.evaluation.junit import render_junit
from tunedeck.evaluation.report_html import render_html
from tunedeck.workspace import Workspace

HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)> & <!--'


def test_hostile_answers_stay_text(workspace: Workspace, chat: ScriptedChat, tmp_path: Path) -> None:
    chat.respond = lambda model, messages: HOSTILE if model == "b" else "fine"  # type: ignore[assignment]
    data = write_heldout(tmp_path / "h.jsonl", [(f"q{i} </script>", "fine") for i in range(6)])
    models = [ModelRef.parse("a", "local"), ModelRef.parse("b", "local")]
    metrics = ["exact", "contains:</script>"]  # a metric's name travels in the chart's JSON
    report = EvalActions(workspace).run(EvalRequest(models=models, data=data, metrics=metrics))
    page = render_html(report)
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the data block and the chart script
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page  # flipped answers, escaped
    assert "\\u003c/script\\u003e" in page  # inside the embedded JSON too
    root = ET.fromstring(render_junit(report))  # XML-escaped, parses
    failures = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert len(failures) == 12  # b fails exact everywhere, a fails contains:</script> everywhere
    texts = [case.find("failure").text or "" for case in failures]  # type: ignore[union-attr]
    assert any(HOSTILE in text for text in texts)


def test_judge_errors_gates_and_leakage_are_shown(workspace: Workspace, chat: ScriptedChat, heldout: Path) -> None:
    original = chat.respond
    chat.respond = lambda m, msgs: '{"pass": true, "score": 7}' if m == "judge" else original(m, msgs)  # type: ignore[assignment]
    chat.failures = [__import__("providers.errors", fromlist=["x"]).UnavailableError("503", provider="fake")]
    models = [ModelRef.parse("base", "local"), ModelRef.parse("tuned", "local")]
    req = EvalRequest(models=models, data=heldout, metrics=["exact"], judge_model="judge", judge_provider="local",
                      rubric="Be kind.", fail_if=["B.judge-score < 0.8"], concurrency=1)  # fmt: skip
    report = EvalActions(workspace).run(req)
    page = render_html(report)
    assert "its verdicts are a model's opinion, not measurements" in page and "Rubric: Be kind." in page
    assert "1 answer(s) failed" in page and "--retry-errors" in page
    assert 'class="crossed">B.judge-score &lt; 0.8' in page  # 7/10 from the judge
    suites = {s.get("name"): s for s in ET.fromstring(render_junit(report))}
    assert suites["base"].get("errors") == "1" and suites["gates"].get("failures") == "1"
