"""Sanity checks for helpdesk.jsonl and heldout_prompts.txt. Run: python examples/check_dataset.py"""

import json
import statistics
from pathlib import Path

HERE = Path(__file__).parent
SYSTEM = "You are Byte, the friendly IT helpdesk assistant at Northwind Traders."
OPEN = "Happy to help!"
SIGN = "\n— Byte from IT 🖥️"

raw = (HERE / "helpdesk.jsonl").read_bytes().decode("utf-8")
lines = raw.split("\n")
assert lines[-1] == "", "file must end with a single newline"
lines = lines[:-1]
assert all(l.strip() for l in lines), "blank line found"
rows = [json.loads(l) for l in lines]
assert len(set(lines)) == len(lines), "duplicate lines"

users, u_words, a_words, approx_tokens, multi = [], [], [], [], 0
for r in rows:
    m = r["messages"]
    assert m[0] == {"role": "system", "content": SYSTEM}
    roles = [x["role"] for x in m[1:]]
    assert roles in (["user", "assistant"], ["user", "assistant"] * 2), roles
    multi += len(roles) == 4
    for x in m:
        assert x["content"].strip(), "empty content"
    for x in m[1:]:
        if x["role"] == "user":
            users.append(x["content"].strip().lower())
            u_words.append(len(x["content"].split()))
        else:
            c = x["content"]
            assert c.startswith(OPEN), c
            assert c.endswith(SIGN), c
            assert c.count(SIGN) == 1
            a_words.append(len(c.split()))
    approx_tokens.append(sum(len(x["content"]) for x in m) / 4)

first_users = [r["messages"][1]["content"].strip().lower() for r in rows]
assert len(set(first_users)) == len(first_users), "duplicate user prompts"
assert len(set(users)) == len(users), "duplicate user turns"

held = [l for l in (HERE / "heldout_prompts.txt").read_text(encoding="utf-8").split("\n") if l.strip()]
assert len(held) == 12
for h in held:
    assert h.strip().lower() not in set(users), f"held-out prompt in training: {h}"

print(f"examples: {len(rows)} ({len(rows) - multi} single-turn, {multi} two-turn)")
print(f"user turns: {len(u_words)}  words min/median/max = {min(u_words)}/{statistics.median(u_words)}/{max(u_words)}")
print(
    f"assistant turns: {len(a_words)}  words min/median/max = {min(a_words)}/{statistics.median(a_words)}/{max(a_words)}"
)
print(
    f"approx tokens/example (chars/4) min/mean/max = {min(approx_tokens):.0f}/{statistics.mean(approx_tokens):.0f}/{max(approx_tokens):.0f}"
)
print(f"held-out prompts: {len(held)}, none in training")
bad = [w for w in a_words if not 25 <= w <= 60]
print(f"assistant turns outside 25-60 words: {len(bad)} {bad}")
bad_u = [w for w in u_words if not 5 <= w <= 30]
print(f"user turns outside 5-30 words: {len(bad_u)} {bad_u}")
print("OK")
