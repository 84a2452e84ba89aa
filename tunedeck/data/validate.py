"""`validate_file`: one streaming pass that checks every record against a provider's rules and gathers stats.

Duplicates, overlap with a validation file and system-prompt consistency are tracked with 64-bit
fingerprints, never stored examples: the duplicate index costs about 100 bytes per example and
everything else stays flat.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from tunedeck.costs import estimate_training_cost
from tunedeck.costs.base_models import canonical_name
from tunedeck.data.checks import check_example
from tunedeck.data.formats import DatasetFormat
from tunedeck.data.issues import WARNING_CODES, Code, Issue, IssueLog, issue
from tunedeck.data.reader import iter_examples, resolve_format
from tunedeck.data.rules import RECOMMENDED_MIN_EXAMPLES, auto_epochs, rules_for, token_limit
from tunedeck.data.stats import DatasetStats, Distribution, StatsCollector
from tunedeck.data.tokencount import Counted, TokenCounter, default_workers
from tunedeck.data.tokens import encoding_name_for_model
from tunedeck.errors import TunedeckError
from tunedeck.events import ProgressAdvanced, Publish, ignore
from tunedeck.settings import Settings

_PROGRESS_EVERY = 2048
_MAX_SYSTEM_PROMPTS_TRACKED = 10_000
DEFAULT_MAX_PER_CODE = 10_000


class ValidationReport(BaseModel):
    """The whole verdict on one file: `ok` is False exactly when `errors` is not empty."""

    ok: bool
    n_errors: int
    n_warnings: int
    path: str
    format: str
    provider: str
    model: str
    errors: list[Issue]
    warnings: list[Issue]
    counts: dict[str, int]
    """Issues per code, errors and warnings alike: always the exact totals."""
    omitted: dict[str, int] = {}
    """Per code, issues counted but not listed because the code passed `max_per_code`."""
    stats: DatasetStats


def _token_setup(provider: str, model: str, encoding: str | None) -> tuple[str | None, str, bool]:
    """(tiktoken encoding or None for chars/4, description, is an estimate)."""
    rules = rules_for(provider, model)
    if rules.token_method == "chars/4" and rules.native_format is not DatasetFormat.VERTEX:  # a Vertex open model
        if encoding:
            return encoding, f"estimate: {encoding} counts stand in for the open model's tokenizer", True
        return None, rules.token_note, True
    if provider == "vertex":
        if encoding:
            return encoding, f"estimate: {encoding} counts stand in for Gemini tokens", True
        return None, rules.token_note, True
    if provider == "local":
        name = encoding or "cl100k_base"
        return name, f"approximation: {name} counts stand in for SmolLM2's own tokenizer", True
    name = encoding or encoding_name_for_model(model)
    return name, f"{name}, {rules.token_note}", False


def _fingerprints(path: Path, fmt: DatasetFormat | str | None) -> dict[int, int]:
    seen: dict[int, int] = {}
    for record in iter_examples(path, fmt):
        if record.example is not None and not record.has_error:
            seen.setdefault(record.example.digest(), record.line)
    return seen


def validate_file(
    path: str | Path,
    provider: str = "openai",
    model: str | None = None,
    validation_path: str | Path | None = None,
    fmt: DatasetFormat | str | None = None,
    *,
    encoding: str | None = None,
    epochs: int | None = None,
    settings: Settings | None = None,
    progress: Publish = ignore,
    workers: int | None = None,
    max_per_code: int | None = DEFAULT_MAX_PER_CODE,
    validation_set: bool = False,
) -> ValidationReport:
    """Check every record; never stops at the first problem. Raises UnreadableInputError if unreadable.

    `validation_set`: the file is a validation set, so the training-set size rules (provider minimum, the
    100-example advice) do not apply; one usable example is enough.

    `workers`: tokenizer processes (None: chosen from the file size, see `default_workers`).
    `max_per_code`: list at most this many issues of one code (all are counted); None lists all.
    """
    path = Path(path)
    rules = rules_for(provider, model)
    # The provider's own spelling when the name is a listed base model in another case ("SmolLM2-135M-Instruct");
    # any other name is kept: the data commands count and price models a provider added since, too.
    model = (canonical_name(provider, model, settings) or model) if model else rules.default_model
    resolved = resolve_format(path, fmt, rules.native_format)
    enc_name, token_method, tokens_estimated = _token_setup(provider, model, encoding)
    limit = token_limit(rules, model)
    held_out = _fingerprints(Path(validation_path), None) if validation_path is not None else {}
    total_bytes = path.stat().st_size

    problems = IssueLog(max_per_code)
    if resolved not in rules.accepted_formats:
        message = (
            f"The file is {resolved.value}, but {provider} fine-tuning takes {rules.native_format.value}; "
            f"convert it with `tunedeck data convert {path.name} OUT --to {rules.native_format.value}`."
        )
        problems.append(issue(None, Code.FORMAT_NOT_ACCEPTED, message))
    stats = DatasetStats(format=resolved.value, provider=provider, model=model, token_limit=limit)
    collector = StatsCollector()
    seen: dict[int, int] = {}
    systems: dict[int, list[int]] = {}  # hash of the system prompt → [count, first line]
    done_bytes = n_lines = n_blank = n_examples = n_valid = missing_system = missing_user = duplicates = 0

    def take(counted_items: list[Counted]) -> None:
        for counted in counted_items:
            if collector.add_tokens(counted.tokens, counted.assistant_tokens, limit):
                problems.append(
                    issue(
                        counted.tag,
                        Code.OVER_TOKEN_LIMIT,
                        f"The example has {counted.tokens:,} tokens, over {model}'s limit of {limit:,}; "
                        "it will be truncated. Shorten or split it.",
                    )
                )

    workers = default_workers(total_bytes) if workers is None else workers
    with TokenCounter(enc_name, workers) as counter:
        for record in iter_examples(path, resolved):
            n_lines = record.line
            done_bytes += record.n_bytes
            if record.problems:
                problems.extend(record.problems)
            if record.blank:
                n_blank += 1
                continue
            if record.header:
                continue
            n_examples += 1
            if n_examples % _PROGRESS_EVERY == 0:
                progress(ProgressAdvanced("Checking", done_bytes, total_bytes, "B"))
            example = record.example
            if example is None or record.has_error:
                continue
            checked = check_example(example, record.line, rules)
            if checked:
                problems.extend(checked)
                if any(p.severity == "error" for p in checked):
                    continue
            n_valid += 1
            if example.system is None:
                missing_system += 1
            else:
                key = hash(example.system)
                if key in systems:
                    systems[key][0] += 1
                elif len(systems) < _MAX_SYSTEM_PROMPTS_TRACKED:
                    systems[key] = [1, record.line]
            if checked and not example.has_role("user"):  # no issue at all means there is a user turn
                missing_user += 1
            collector.add_messages(len(example.messages) + (example.system is not None))
            digest = example.digest()
            first = seen.setdefault(digest, record.line)
            if first != record.line:
                duplicates += 1
                problems.append(
                    issue(record.line, Code.DUPLICATE_EXAMPLE, f"Exact duplicate of line {first}; remove one of them.")
                )
            if digest in held_out:
                problems.append(
                    issue(
                        record.line,
                        Code.VALIDATION_OVERLAP,
                        f"Also in the validation file (line {held_out[digest]}); remove it from one side.",
                    )
                )
            counted = counter.add(record.line, example)
            if counted:
                take(counted)
        take(counter.flush())
    progress(ProgressAdvanced("Checking", total_bytes, total_bytes, "B"))
    stats.n_bytes, stats.n_lines, stats.n_blank_lines = total_bytes, n_lines, n_blank
    stats.n_examples, stats.n_valid_examples, stats.duplicates = n_examples, n_valid, duplicates
    stats.missing_system, stats.missing_user = missing_system, missing_user

    header = next((p.line for p in problems.items if p.code == Code.CSV_BAD_HEADER), None)
    minimum = 1 if validation_set else rules.min_examples
    problems.extend(_file_level(stats, systems, minimum, provider, validation_set, header))
    _finish_stats(stats, collector, counter, token_method, tokens_estimated, epochs, settings)
    problems.items.sort(key=lambda p: (p.line is None, p.line or 0))  # file-level problems after the lines
    errors = [p for p in problems.items if p.severity == "error"]
    warnings = [p for p in problems.items if p.severity == "warning"]
    n_warnings = sum(n for code, n in problems.counts.items() if code in WARNING_CODES)
    n_errors = sum(problems.counts.values()) - n_warnings
    return ValidationReport(
        ok=n_errors == 0,
        n_errors=n_errors,
        n_warnings=n_warnings,
        path=str(path),
        format=resolved.value,
        provider=provider,
        model=model,
        errors=errors,
        warnings=warnings,
        counts=problems.counts,
        omitted=problems.omitted,
        stats=stats,
    )


def _file_level(
    stats: DatasetStats,
    systems: dict[int, list[int]],
    minimum: int,
    provider: str,
    validation_set: bool,
    header_line: int | None = None,
) -> list[Issue]:
    found: list[Issue] = []
    n = stats.n_valid_examples
    if n < minimum:
        found.append(issue(None, Code.TOO_FEW_EXAMPLES, _too_few(stats, minimum, provider, header_line)))
    elif n < RECOMMENDED_MIN_EXAMPLES and not validation_set:
        found.append(
            issue(
                None,
                Code.FEW_EXAMPLES,
                f"Only {n} examples; 100–200 good examples is the usual floor for clear gains.",
            )
        )
    stats.distinct_system_prompts = len(systems)
    if len(systems) > 1:
        ranked = sorted(systems.values(), key=lambda v: (-v[0], v[1]))
        top_count, top_line = ranked[0]
        first_other = min(v[1] for v in ranked[1:])
        found.append(
            issue(
                first_other,
                Code.INCONSISTENT_SYSTEM_PROMPT,
                f"{len(systems)} different system prompts; the most common (first at line {top_line}) is in "
                f"{top_count} of {n} examples. Use the one you will deploy with, unless the variation is intended.",
            )
        )
    return found


def _too_few(stats: DatasetStats, minimum: int, provider: str, header_line: int | None) -> str:
    """'50 rows read, none usable because of the header (line 1)': what was read, what of it counts, and why."""
    unit = "rows" if stats.format == DatasetFormat.CSV.value else "records"
    read, usable = stats.n_examples, stats.n_valid_examples
    if read and not usable and header_line is not None:
        what = f"{read} {unit} read, none usable because of the header (line {header_line})"
        fix = "Rename its columns as said there."
    elif read and not usable:
        what = f"{read} {unit} read, none usable (see the errors above)"
        fix = "Fix the broken ones."
    elif read:
        what = f"{read} {unit} read, {usable} usable"
        fix = "Add examples or fix the broken ones."
    else:
        what, fix = "no examples in the file", "Add examples."
    return f"{what}; {provider} needs at least {minimum}. {fix}"


def _finish_stats(
    stats: DatasetStats,
    collector: StatsCollector,
    counter: TokenCounter,
    token_method: str,
    tokens_estimated: bool,
    epochs: int | None,
    settings: Settings | None,
) -> None:
    stats.messages_per_example = Distribution.of(collector.messages)
    stats.tokens_per_example = Distribution.of(collector.tokens)
    stats.assistant_tokens_per_example = Distribution.of(collector.assistant_tokens)
    stats.over_token_limit = collector.over_limit
    stats.total_tokens = sum(collector.tokens)
    stats.billable_tokens = collector.billable
    stats.tokens_are_estimate = tokens_estimated
    stats.token_method = token_method
    stats.encoding = counter.encoding_name
    stats.auto_epochs = auto_epochs(stats.n_valid_examples, stats.provider)
    stats.epochs = epochs or stats.auto_epochs
    if stats.epochs is None:
        stats.epochs = 3
        stats.cost_note = "Vertex picks its own default epoch count; this estimate assumes 3 (set --epochs)."
    try:
        stats.cost = estimate_training_cost(
            stats.provider,
            stats.model,
            stats.billable_tokens,
            stats.epochs,
            settings,
            tokens_are_estimate=tokens_estimated,
        )
    except TunedeckError as error:
        stats.cost_note = f"No cost estimate: {error}"
