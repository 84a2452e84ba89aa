"""Profile files: TOML and YAML parsing, path resolution, search order, and line-numbered errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunedeck.errors import UnreadableInputError, UsageError
from tunedeck.profiles.loader import find_profile, list_profiles, load_profile, parse_profile_file
from tunedeck.settings import Settings


def test_toml_profile_resolves_paths_against_its_folder(profile_dir: Path, settings: Settings) -> None:
    profile, path = load_profile("helpdesk", settings, cwd=profile_dir)
    assert path == profile_dir / "profiles" / "helpdesk.toml"
    assert profile.few_shot is not None and profile.retrieval is not None
    assert profile.few_shot.dataset == profile_dir / "data" / "train.jsonl"
    assert profile.retrieval.docs == profile_dir / "profiles" / "docs"
    assert profile.memory.facts == ["Uses a Mac"]
    assert profile.resolved_layout() == "xml"
    assert profile.resolved_layout("openai") == "markdown"


def test_yaml_profile_and_name_defaults_to_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "coach.yaml"
    path.write_text("provider: openai\nmodel: gpt-x\nretrieval:\n  docs: notes\n  top_k: 5\n", encoding="utf-8")
    profile = parse_profile_file(path)
    assert profile.name == "coach"
    assert profile.retrieval is not None and profile.retrieval.docs == tmp_path / "notes"
    assert profile.retrieval.top_k == 5


def test_unknown_key_names_field_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('provider = "openai"\nmodel = "m"\n\n[retrieval]\ndocs = "d"\ntop_kk = 3\n', encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        parse_profile_file(path)
    assert "bad.toml:6: retrieval.top_kk: unknown setting" in caught.value.title


def test_out_of_range_value_in_yaml_points_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("provider: openai\nmodel: m\nfew_shot:\n  dataset: x.jsonl\n  count: 500\n", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        parse_profile_file(path)
    assert "bad.yaml:5: few_shot.count:" in caught.value.title
    assert "less than or equal to 50" in caught.value.title


def test_missing_required_and_bad_choice_are_all_listed(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('provider = "openai"\n[few_shot]\ndataset = "x"\nselection = "random"\n', encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        parse_profile_file(path)
    title = caught.value.title
    assert "model: required setting is missing" in title
    assert "bad.toml:4: few_shot.selection:" in title


def test_syntax_errors_carry_line_numbers(tmp_path: Path) -> None:
    toml = tmp_path / "broken.toml"
    toml.write_text('provider = "openai"\nmodel = \n', encoding="utf-8")
    with pytest.raises(UsageError, match="line 2"):
        parse_profile_file(toml)
    yaml = tmp_path / "broken.yaml"
    yaml.write_text("provider: openai\nmodel: [unclosed\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"line \d"):
        parse_profile_file(yaml)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n", encoding="utf-8")
    with pytest.raises(UsageError, match="mapping"):
        parse_profile_file(scalar)


def test_search_order_project_then_examples_then_user(tmp_path: Path, settings: Settings) -> None:
    body = 'provider = "openai"\nmodel = "{}"\n'
    user = settings.config_dir / "profiles"
    for folder, model in ((tmp_path / "examples" / "profiles", "ex"), (user, "user")):
        folder.mkdir(parents=True)
        (folder / "p.toml").write_text(body.format(model), encoding="utf-8")
    (user / "only-user.yml").write_text("provider: openai\nmodel: u\n", encoding="utf-8")
    assert load_profile("p", settings, cwd=tmp_path)[0].model == "ex"
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.toml").write_text(body.format("project"), encoding="utf-8")
    assert load_profile("p", settings, cwd=tmp_path)[0].model == "project"
    assert find_profile("only-user", settings, cwd=tmp_path) == user / "only-user.yml"
    listed = {ref.name: ref.origin for ref in list_profiles(settings, cwd=tmp_path)}
    assert listed == {"p": "project", "only-user": "user"}


def test_unknown_name_and_missing_path(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(UsageError, match="No profile named 'ghost'"):
        find_profile("ghost", settings, cwd=tmp_path)
    with pytest.raises(UnreadableInputError):
        find_profile(str(tmp_path / "nope.toml"), settings, cwd=tmp_path)


def test_bundled_example_profile_is_valid() -> None:
    repo = Path(__file__).resolve().parents[2]
    profile = parse_profile_file(repo / "examples" / "profiles" / "helpdesk.toml")
    assert profile.retrieval is not None and profile.retrieval.docs.is_dir()
    assert profile.few_shot is not None and profile.few_shot.dataset.name == "helpdesk.jsonl"
