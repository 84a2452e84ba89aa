"""Shared fixtures for profile tests: a small docs folder, a chat dataset and a profile file in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tunedeck.settings import Settings, load_settings

DOCS = {
    "vpn.md": "# VPN\n\nIntro to remote access.\n\n## Connecting\n\nOpen the Northwind VPN app and click Connect.\n\n"
    "## Certificate errors\n\nRun Refresh VPN Profile in Software Center when the certificate expired.\n",
    "printing.md": "# Printing\n\n## Toner\n\nFaint grey prints mean low toner; cartridges are by the kitchen.\n",
    "security.md": "# Security\n\n## Phishing\n\nUse the Report Phish button & never click <script> links.\n",
}

EXAMPLES = [
    ("How do I reset my password?", "Go to passwords.northwind.com and verify with your phone."),
    ("The VPN will not connect from home.", "Quit the Northwind VPN app, reopen it, then restart."),
    ("My printer prints faint grey pages.", "The toner is low; spare cartridges are by the kitchen."),
    ("VPN says certificate error.", "Run Refresh VPN Profile in Software Center."),
    ("How do I book a meeting room?", "Use the Rooms tab in Outlook."),
]


def write_dataset(path: Path, pairs: list[tuple[str, str]], system: str = "You are Byte.") -> Path:
    lines = []
    for question, answer in pairs:
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        lines.append(json.dumps({"messages": messages}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def settings(isolated_home: Path) -> Settings:
    return load_settings()


@pytest.fixture
def profile_dir(tmp_path: Path) -> Path:
    """A project folder: profiles/helpdesk.toml, profiles/docs/*.md, data/train.jsonl."""
    root = tmp_path / "project"
    docs = root / "profiles" / "docs"
    docs.mkdir(parents=True)
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    (root / "data").mkdir()
    write_dataset(root / "data" / "train.jsonl", EXAMPLES)
    (root / "profiles" / "helpdesk.toml").write_text(
        """
name = "helpdesk"
provider = "anthropic"
model = "claude-test"
system = "You are Byte."

[few_shot]
dataset = "../data/train.jsonl"
count = 2
selection = "similar"

[memory]
facts = ["Uses a Mac"]

[retrieval]
docs = "docs"
top_k = 2
""",
        encoding="utf-8",
    )
    return root
