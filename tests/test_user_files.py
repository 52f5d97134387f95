"""Profiles, baselines and configuration files are untrusted input: size-capped, never blocking,
and every malformed one is exit 2 with a one-line message naming the file and the key."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from quote_pages import FAULTY_PAGE

from checker.cli import cli
from checker.profile import ProfileError, bundled_profiles, load_profile, profile_from_dict
from checker.userfiles import MAX_SETTINGS_FILE

REPO = Path(__file__).resolve().parents[1]
ENV = {"GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": "", "NO_COLOR": "1"}
BUNDLED = json.loads((REPO / "schemas" / "profiles" / "br-psx.json").read_text(encoding="utf-8"))


def run(args: list[str]):
    isolate = [] if "--config" in args else ["--no-config"]
    return CliRunner().invoke(cli, ["check", "--no-report", *isolate, *args], env=ENV)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "faulty.txt"
    path.write_text(FAULTY_PAGE, encoding="utf-8")
    return path


def profile_with(tmp_path: Path, change) -> Path:
    raw = json.loads(json.dumps(BUNDLED))
    change(raw)
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def assert_usage_error(result, *parts: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1, result.output
    for part in parts:
        assert part in error[0], (part, error[0])


# --- the profile schema and the bundled profile -------------------------------------------------


def test_bundled_profiles_are_valid_against_the_profile_schema():
    schema = json.loads((REPO / "schemas" / "profile.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert bundled_profiles() == ["br-psx"]
    for name in bundled_profiles():
        raw = json.loads((REPO / "schemas" / "profiles" / f"{name}.json").read_text(encoding="utf-8"))
        jsonschema.validate(raw, schema, cls=jsonschema.Draft202012Validator)
        assert load_profile(name).name == name


def test_unknown_profile_name_lists_the_bundled_profiles(page):
    assert_usage_error(run([str(page), "--profile", "br-kse"]), "unknown feed profile br-kse", "br-psx")


def test_a_profile_name_cannot_reach_outside_the_bundled_folder(page):
    result = run([str(page), "--profile", "../profiles/br-psx"])
    assert_usage_error(result, "profile ../profiles/br-psx")


# --- RE2: no backtracking pattern ever runs -------------------------------------------------------


def test_index_patterns_are_compiled_by_re2():
    profile = load_profile("br-psx")
    assert all(type(p).__module__.startswith("re2") for p in profile.index_patterns)
    assert profile.is_index("KSE100") and not profile.is_index("AIRLINK")


def test_a_catastrophic_pattern_runs_in_linear_time_not_by_backtracking(tmp_path):
    path = profile_with(tmp_path, lambda raw: raw.update(index_symbol_patterns=["(a+)+$"]))
    profile = load_profile(str(path))
    (pattern,) = profile.index_patterns
    assert type(pattern).__module__.startswith("re2")  # Python's re would take ~2^40 steps here
    assert not profile.is_index("a" * 40 + "!")
    assert profile.is_index("aaaa")


@pytest.mark.parametrize("pattern", [r"(A)\1", "(?=KSE)KSE", "(?<!X)KSE", "(?>A+)", "[unclosed"])
def test_a_pattern_re2_refuses_is_exit_2_naming_the_file_and_key(tmp_path, page, pattern):
    path = profile_with(tmp_path, lambda raw: raw.update(index_symbol_patterns=["^KSE", pattern]))
    result = run([str(page), "--profile", str(path)])
    assert_usage_error(result, f"profile {path}", "/index_symbol_patterns/1", "RE2")
    with pytest.raises(ProfileError):
        load_profile(str(path))


# --- malformed profiles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda raw: raw.update(circuit_breakers=[]), "/circuit_breakers"),
        (lambda raw: raw["circuit_breakers"][0].update(percent="NaN"), "/circuit_breakers/0/percent"),
        (lambda raw: raw["circuit_breakers"][0].update(percent="0"), "/circuit_breakers/0/percent"),
        (lambda raw: raw["circuit_breakers"][1].update(floor_rupees=[1]), "/circuit_breakers/1/floor_rupees"),
        (lambda raw: raw["circuit_breakers"][2].update({"from": "2024-13-45"}), "/circuit_breakers/2/from"),
        (lambda raw: raw.update(index_symbols="KSE100"), "/index_symbols"),
        (lambda raw: raw.update(index_symbol_patterns="^KSE"), "/index_symbol_patterns"),
        (lambda raw: raw["kinds"]["stock"]["price"].update(decimals=["2"]), "/kinds/stock/price/decimals/0"),
        (lambda raw: raw["kinds"]["index"].update(arrow="sometimes"), "/kinds/index/arrow"),
        (lambda raw: raw["kinds"].pop("index"), "/kinds"),
        (lambda raw: raw.update(colour="red"), "/colour"),
        (lambda raw: raw["kinds"]["stock"].update(decimal=2), "/kinds/stock/decimal"),
        (lambda raw: raw["index_levels"].update(KSE100=[174000, 28600]), "/index_levels/KSE100"),
        (lambda raw: raw["index_levels"].update(KSE100="high"), "/index_levels/KSE100"),
        (lambda raw: raw.update(index_level_margin_percent=True), "/index_level_margin_percent"),
    ],
)
def test_a_malformed_profile_is_exit_2_naming_the_file_and_key(tmp_path, page, change, key):
    path = profile_with(tmp_path, change)
    result = run([str(page), "--profile", str(path)])
    assert_usage_error(result, f"profile {path}: {key}")


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda raw: raw["percent"].update(rounding_decimals=2), "/percent/rounding_decimals"),
        (lambda raw: raw["percent"].update(trim_trailing_zeros=True), "/percent/trim_trailing_zeros"),
        (lambda raw: raw["kinds"]["index"].update(directions=["Increased By"]), "/kinds/index/directions"),
    ],
)
def test_a_profile_key_no_check_reads_is_refused_naming_it(tmp_path, page, change, key):
    path = profile_with(tmp_path, change)
    result = run([str(page), "--profile", str(path)])
    assert_usage_error(result, f"profile {path}: {key}: unknown key", "never read", "remove it")


def test_every_key_of_the_bundled_profile_is_read():
    """The loaded profile holds each key of the bundled one: a key the loader drops is dead."""
    profile = load_profile("br-psx")
    assert set(BUNDLED) - {"$schema"} == {
        "name",
        "title",
        "kinds",
        "percent",
        "index_symbols",
        "index_symbol_patterns",
        "circuit_breakers",
        "index_levels",
        "index_level_margin_percent",
        "history",
    }
    assert profile.history == BUNDLED["history"]  # read by checker.history.calendar
    assert BUNDLED["percent"] == {"max_decimals": profile.percent_max_decimals}
    for name, spec in BUNDLED["kinds"].items():
        kind = profile.kinds[name]
        assert spec == {
            "exact": kind.exact,
            "price": {"decimals": list(kind.price.decimals), "grouping": kind.price.grouping},
            "change": {"decimals": list(kind.change.decimals), "grouping": kind.change.grouping},
            "arrow": kind.arrow,
        }


def test_profile_from_dict_validates_too():
    raw = json.loads(json.dumps(BUNDLED))
    raw["circuit_breakers"] = []
    with pytest.raises(ProfileError, match="/circuit_breakers"):
        profile_from_dict(raw, "inline")


# --- every kind of file: binary, Latin-1, too deep, too big, FIFO, device, folder ------------------


def hostile(tmp_path: Path, kind: str) -> str:
    path = tmp_path / f"hostile-{kind}.json"
    if kind == "binary":
        path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)))
    elif kind == "latin1":
        path.write_bytes('{"name": "café"}'.encode("latin-1"))
    elif kind == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    elif kind == "deep-object":
        path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000, encoding="utf-8")
    elif kind == "nan":
        path.write_text('{"findings": [], "x": NaN}', encoding="utf-8")
    elif kind == "huge":
        with path.open("wb") as stream:
            stream.truncate(MAX_SETTINGS_FILE * 70)  # sparse: larger than every cap, no disk used
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "dev-zero":
        return "/dev/zero"
    elif kind == "missing":
        pass
    elif kind == "empty":
        path.write_bytes(b"")
    return str(path)


KINDS = [
    "binary",
    "latin1",
    "deep",
    "deep-object",
    "nan",
    "huge",
    "fifo",
    "folder",
    "dev-zero",
    "missing",
    "empty",
]
REASONS = {
    "binary": "binary",
    "latin1": "not UTF-8",
    "deep": "nested too deep",
    "deep-object": "nested too deep",
    "nan": "NaN",
    "huge": "cap",
    "fifo": "FIFO",
    "folder": "folder",
    "dev-zero": "character device",
    "missing": "no such file",
    "empty": "not JSON",
}


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_profile_file(tmp_path, page, kind):
    path = hostile(tmp_path, kind)
    result = run([str(page), "--profile", path])
    assert_usage_error(result, f"profile {path}", REASONS[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_baseline_file(tmp_path, page, kind):
    path = hostile(tmp_path, kind)
    result = run([str(page), "--baseline", path])
    assert_usage_error(result, f"baseline {path}", REASONS[kind])


TOML_REASONS = {
    **REASONS,
    "deep": "nested too deep",
    "deep-object": "not valid TOML",
    "nan": "not valid TOML",
}
TOML_REASONS["empty"] = None  # an empty quotecheck.toml is a file of no settings


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_configuration_file(tmp_path, page, kind):
    path = hostile(tmp_path, kind)
    if kind == "deep":  # the TOML form of deep nesting
        Path(path).write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    result = run([str(page), "--config", path])
    if TOML_REASONS[kind] is None:
        assert result.exit_code == 1, result.output
        return
    assert_usage_error(result, f"configuration {path}", TOML_REASONS[kind])


def test_a_pyproject_that_is_a_fifo_is_passed_over_without_blocking(tmp_path, page):
    os.mkfifo(tmp_path / "pyproject.toml")
    previous = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(cli, ["check", "--no-report", str(page)], env=ENV)
    finally:
        os.chdir(previous)
    assert result.exit_code == 1, result.output


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ('select = "QC3O3"\n', "did you mean QC303 (percent-mismatch)?"),
        ("select = 3\n", "select"),
        ('include = "*.txt"\n', "include"),
        ('[severity]\nmissing-arow = "error"\n', "did you mean QC406 (missing-arrow)?"),
        ('fail-on = ["error"]\n', "fail-on"),
        ("profile = 7\n", "profile"),
        ('colour = "red"\n', "colour"),
    ],
)
def test_wrong_types_in_configuration_name_the_key(tmp_path, page, content, key):
    config = tmp_path / "quotecheck.toml"
    config.write_text(content, encoding="utf-8")
    assert_usage_error(run([str(page), "--config", str(config)]), str(config), key)


@pytest.mark.parametrize(
    ("findings", "key"),
    [
        ('"findings"', "no `findings` list"),
        ('[{"rule": "QC303", "symbol": ["AIRLINK"]}]', "/findings/0/symbol"),
        ('[{"rule": "QC303"}, {"rule": 303}]', "/findings/1"),
        ('[{"rule": "QC303", "file": {"a": 1}}]', "/findings/0/file"),
    ],
)
def test_wrong_types_in_a_baseline_name_the_key(tmp_path, page, findings, key):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(f'{{"findings": {findings}}}', encoding="utf-8")
    assert_usage_error(run([str(page), "--baseline", str(baseline)]), f"baseline {baseline}", key)


def test_a_baseline_file_name_no_path_can_hold_is_compared_as_written(tmp_path, page):
    baseline = tmp_path / "baseline.json"
    entries = [{"rule": "QC303", "file": "a\u0000b.txt"}, {"rule": "QC303", "file": "x" * 5000}]
    baseline.write_text(json.dumps({"findings": entries}), encoding="utf-8")
    result = run([str(page), "--baseline", str(baseline)])
    assert result.exit_code == 1, result.output  # checked as usual, nothing suppressed, no error
    assert "internal error" not in result.output
