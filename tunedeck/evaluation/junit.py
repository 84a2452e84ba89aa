"""`--junit FILE`: the run as JUnit XML for CI test tabs.

One test suite per model with a test case per held-out item (failed when a pass/fail metric failed, errored when
no answer came), and a suite `gates` with one case per `--fail-if` condition (failed when crossed).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from tunedeck.evaluation.report import EvalReport
from tunedeck.profiles.evaluate import one_line
from tunedeck.util.atomic import atomic_write_bytes


def write_junit(report: EvalReport, path: Path) -> Path:
    atomic_write_bytes(path, render_junit(report))
    return path


def render_junit(report: EvalReport) -> bytes:
    root = ET.Element("testsuites", name=f"tunedeck eval {report.run_id}")
    pass_metrics = [m["name"] for m in report.metrics if m["kind"] == "pass"]
    for model in report.models:
        label = model["label"]
        suite = ET.SubElement(root, "testsuite", name=label)
        failures = errors = 0
        for row in report.samples:
            case = ET.SubElement(
                suite, "testcase", classname=label, name=f"item {row['line']}: {one_line(row['question'], 80)}"
            )
            answer = row["answers"].get(label)
            if answer is None or answer["error"]:
                errors += 1
                message = answer["error"] if answer else "not answered"
                ET.SubElement(case, "error", message=message or "error")
                continue
            failed = [m for m in pass_metrics if answer["scores"].get(m) is not None and answer["scores"][m] < 0.5]
            if failed:
                failures += 1
                failure = ET.SubElement(case, "failure", message="failed: " + ", ".join(failed))
                failure.text = f"answer: {answer['output']}\nreference: {row['reference']}"
            scores = ", ".join(f"{k}={v:.3f}" for k, v in sorted(answer["scores"].items()))
            ET.SubElement(case, "system-out").text = scores
        suite.set("tests", str(len(report.samples)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
    if report.gates:
        gates = ET.SubElement(root, "testsuite", name="gates", tests=str(len(report.gates)))
        gates.set("failures", str(len(report.gates_crossed)))
        gates.set("errors", "0")
        for gate in report.gates:
            case = ET.SubElement(gates, "testcase", classname="gates", name=f"fail-if {gate.condition}")
            if gate.crossed:
                ET.SubElement(case, "failure", message=gate.detail)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
