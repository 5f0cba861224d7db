"""End-to-end tests of the ``saca`` command line, on a small district and short runs."""

import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saca.experiments.cli.main import main
from saca.experiments.engine import runner
from saca.experiments.stats import paired_diff_ci
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.regime import DIALS
from saca.model.scenario import all_params

SMALL = [
    "--set",
    "situation.households=300",
    "--set",
    "situation.grids=6",
    "--set",
    "situation.communities=3",
    "--set",
    "situation.streets=1",
]
SMALL_OVERRIDES = {
    "situation.households": 300,
    "situation.grids": 6,
    "situation.communities": 3,
    "situation.streets": 1,
}
SHORT = ["--steps", "20", *SMALL]


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def same(a, b):
    """Equal numbers, with NaN equal to NaN and None (JSON null)."""
    if a is None or b is None:
        return (a is None or math.isnan(a)) and (b is None or math.isnan(b))
    return a == pytest.approx(b, rel=1e-12, abs=1e-12)


# ----- list -----------------------------------------------------------------------------
def test_list_json_has_every_parameter():
    code, out, err = call(["list", "--json"])
    assert code == 0 and err == ""
    data = json.loads(out)
    params = {p["key"]: p for p in data["parameters"]}
    assert set(params) == {p.key for p in all_params()}
    for key in ("regime.information", "situation.risk"):
        p = params[key]
        assert p["kind"] == "float"
        assert p["lo"] == 0.0 and p["hi"] == 1.0
        assert p["source"] == "000" and p["meaning"]
    assert params["regime.evaluation"]["choices"] == ["none", "points", "satisfaction", "multi"]
    assert {"constructive", "autonomous", "hybrid"} <= {r["name"] for r in data["regimes"]}
    assert all(r["description"] for r in data["regimes"])
    assert {s["name"] for s in data["scenarios"]} >= {"baseline", "emergency"}
    assert data["metrics"] == list(METRICS)


def test_list_table():
    code, out, _ = call(["list"])
    assert code == 0
    assert "regime.information" in out and "situation.risk" in out
    assert "constructive" in out and "emergency" in out


# ----- run ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_json():
    code, out, err = call(["run", "--scenario", "emergency", "--seed", "7", *SHORT, "--json"])
    assert code == 0, err
    return out


def test_run_json_has_every_metric(run_json):
    data = json.loads(run_json)
    assert set(METRICS) <= set(data)
    assert set(data) == {*METRICS, "phases", "meta"}
    assert data["meta"]["scenario"] == "emergency"
    assert data["meta"]["regime"] == "hybrid"
    assert data["meta"]["seed"] == 7 and data["meta"]["steps"] == 20
    assert set(data["phases"]) == {"normal"}  # 20 days: the emergency starts on day 30
    assert set(data["phases"]["normal"]) == set(METRICS)
    assert data["needs_created"] > 0


def test_run_same_seed_same_result_other_seed_differs(run_json):
    _, again, _ = call(["run", "--scenario", "emergency", "--seed", "7", *SHORT, "--json"])
    assert again == run_json
    _, other, _ = call(["run", "--scenario", "emergency", "--seed", "8", *SHORT, "--json"])
    assert json.loads(other)["meta"]["seed"] == 8
    a, b = json.loads(run_json), json.loads(other)
    assert any(not same(a[m], b[m]) for m in METRICS)


def test_run_seed_is_a_seed_sequence(run_json):
    summary, _ = runner.run_one(
        "emergency", "hybrid", np.random.SeedSequence(7), 20, SMALL_OVERRIDES
    )
    data = json.loads(run_json)
    for m in METRICS:
        assert same(data[m], float(summary.loc["all", m])), m


def test_run_out_writes_files_that_match_the_json(tmp_path):
    out = tmp_path / "r1"
    code, text, err = call(
        [
            "run",
            "--regime",
            "autonomous",
            "--set",
            "regime.information=0.2",
            *SHORT,
            "--json",
            "--out",
            out,
        ]
    )
    assert code == 0, err
    data = json.loads(text)
    assert {p.name for p in out.iterdir() if p.name != ".lock"} == {
        "timeseries.parquet",
        "summary.parquet",
        "meta.json",
    }
    summary = pd.read_parquet(out / "summary.parquet")
    assert summary["window"].tolist() == ["all", "normal"]
    row = summary.set_index("window").loc["all"]
    for m in METRICS:
        assert same(data[m], float(row[m])), m
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 20 and {"day", "phase", *METRICS} <= set(ts.columns)
    assert ts["needs_created"].sum() == data["needs_created"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["scenario"] == "baseline" and meta["regime"] == "autonomous"
    assert meta["seed"] == 0 and meta["steps"] == 20
    assert meta["overrides"]["regime.information"] == 0.2
    assert meta["parameters"]["regime.information"] == 0.2
    assert meta["parameters"]["situation.households"] == 300
    assert {p.key for p in all_params()} <= set(meta["parameters"])
    for lib in ("python", "mesa", "numpy", "pandas", "networkx", "pyarrow"):
        assert meta["versions"][lib]
    assert "git_commit" in meta and meta["saca_version"] and meta["timestamp"]


def test_run_table_and_default_steps():
    code, out, _ = call(["run", *SMALL])
    assert code == 0
    assert "180 days" in out  # the whole baseline timeline
    assert "efficacy" in out and "trust_institution" in out


def test_plot_run_dir(tmp_path):
    assert call(["run", *SHORT, "--out", tmp_path / "r"])[0] == 0
    code, out, _ = call(["plot", tmp_path / "r"])
    assert code == 0 and "timeseries.png" in out
    assert (tmp_path / "r" / "timeseries.png").stat().st_size > 10_000


# ----- compare --------------------------------------------------------------------------
REGIMES = ["constructive", "autonomous", "hybrid"]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp") / "c"
    argv = [
        "compare",
        "--regimes",
        ",".join(REGIMES),
        "--scenario",
        "emergency",
        "--replicates",
        "3",
        "--seed",
        "5",
        "--steps",
        "40",
        *SMALL,
        "--json",
    ]
    code, text, err = call([*argv, "--out", out])
    assert code == 0, err
    return argv, json.loads(text), out


def test_compare_json_intervals(compared):
    _, res, _ = compared
    assert res["meta"]["regimes"] == REGIMES
    assert set(res["regimes"]) == set(REGIMES)
    assert set(res["differences"]) == set(REGIMES[1:])
    for r in REGIMES:
        assert set(res["regimes"][r]) == set(METRICS)
        for m in METRICS:
            c = res["regimes"][r][m]
            if c["lo"] is not None:
                assert c["lo"] <= c["mean"] <= c["hi"], (r, m)
    for r in REGIMES[1:]:
        for m in METRICS:
            d = res["differences"][r][m]
            if d["lo"] is not None:
                assert d["lo"] <= d["diff"] <= d["hi"], (r, m)
    assert {"normal", "emergency"} == set(res["phases"])
    assert set(res["phases"]["emergency"]["differences"]) == set(REGIMES[1:])
    # issue 13: concentration and cascades in every comparison, and the worst-off flags
    for m in ("task_concentration", "overload_cascades", "efficacy_worst_decile"):
        assert res["regimes"][REGIMES[0]][m]["n"] == 3, m
    assert isinstance(res["worst_off"], dict)
    assert set(res["worst_off"]) <= set(REGIMES)
    assert all("worst_off" in ph for ph in res["phases"].values())


def test_compare_files_and_paired_differences(compared):
    _, res, out = compared
    names = {p.name for p in out.iterdir()}
    assert {
        "runs.parquet",
        "timeseries.parquet",
        "compare.json",
        "meta.json",
        "compare.png",
        "differences.png",
    } <= names
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 9
    # Common random numbers: the same replicate seeds under every regime.
    seeds = runs.pivot(index="replicate", columns="regime", values="seed_spawn_key")
    assert (seeds.nunique(axis=1) == 1).all()
    assert (runs["seed_entropy"] == 5).all()
    for r in REGIMES[1:]:
        a = runs[runs["regime"] == REGIMES[0]].sort_values("replicate")["efficacy"]
        b = runs[runs["regime"] == r].sort_values("replicate")["efficacy"]
        d = paired_diff_ci(a.to_numpy(), b.to_numpy())
        assert res["differences"][r]["efficacy"]["diff"] == pytest.approx(d["diff"])
        assert res["differences"][r]["efficacy"]["lo"] == pytest.approx(d["lo"])
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 9 * 40 and {"regime", "replicate", "day", "phase"} <= set(ts.columns)
    assert json.loads((out / "compare.json").read_text()) == res
    meta = json.loads((out / "meta.json").read_text())
    assert meta["regimes"] == REGIMES and meta["replicates"] == 3
    assert set(meta["parameters"]) == set(REGIMES)
    assert (out / "differences.png").stat().st_size > 10_000


def test_compare_replicate_seed_matches_a_single_run(compared):
    _, _, out = compared
    runs = pd.read_parquet(out / "runs.parquet").set_index(["regime", "replicate"])
    child = np.random.SeedSequence(5).spawn(3)[2]
    summary, _ = runner.run_one("emergency", "autonomous", child, 40, SMALL_OVERRIDES)
    for m in METRICS:
        assert same(float(runs.loc[("autonomous", 2), m]), float(summary.loc["all", m])), m


def test_compare_workers_give_identical_results(compared):
    argv, res, _ = compared
    code, text, err = call([*argv, "--workers", "2"])
    assert code == 0, err
    assert json.loads(text) == res


def test_compare_table():
    code, out, _ = call(
        ["compare", "--regimes", "constructive,autonomous", "--replicates", "2", *SHORT]
    )
    assert code == 0
    assert "Δ autonomous" in out and "paired" in out
    assert "efficacy" in out and "complaints" in out
    # equity beside the mean: spread and worst-off rows right after efficacy, and a verdict
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    i = names.index("efficacy")
    assert names[i + 1 : i + 3] == ["efficacy_sd_between_communities", "efficacy_worst_decile"]
    assert "equity:" in out and "wins the mean, loses the worst-off" in out


def test_plot_compare_dir(compared, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(compared[2], copy)
    for f in ("compare.png", "differences.png"):
        (copy / f).unlink()
    code, text, _ = call(["plot", copy])
    assert code == 0 and "differences.png" in text
    out = copy
    assert (out / "compare.png").is_file() and (out / "differences.png").is_file()


# ----- bad input ------------------------------------------------------------------------
BAD_RUN = [
    ["--set", "regime.informaton=1"],  # unknown key
    ["--set", "regime.information=abc"],  # wrong type
    ["--set", "regime.information=1.5"],  # out of range
    ["--set", "situation.households=0"],  # empty population
    ["--set", "situation.households=3"],  # fewer households than grids
    ["--set", "novalue"],
    ["--regime", "nosuchregime"],
    ["--scenario", "nosuchscenario"],
    ["--scenario", "@missing"],
    ["--scenario", "@broken"],
    ["--regime", "@broken"],
    ["--scenario", "@wrongtable"],
    [
        "--set",
        "situation.timeline=[{phase='normal',start=0,end=10},{phase='emergency',start=12,end=20}]",
    ],  # gap in the timeline
    ["--set", "situation.timeline=[{phase='panic',start=0,end=10}]"],
    ["--steps", "0"],
    ["--steps", "-3"],
    ["--steps", "181"],  # past the end of the timeline
    ["--steps", "ten"],
    ["--seed", "-1"],
    ["--bogus-option"],
]


@pytest.fixture
def files(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[situation\nrisk = ")
    wrong = tmp_path / "wrongtable.toml"
    wrong.write_text("[regime]\ninformation = 1.0\n")
    afile = tmp_path / "afile"
    afile.write_text("x")
    return {
        "missing": str(tmp_path / "missing.toml"),
        "broken": str(broken),
        "wrongtable": str(wrong),
        "afile": str(afile),
    }


def fill(arg, files):
    """Replace an ``@name`` argument by the path of that test file."""
    return files[arg[1:]] if arg.startswith("@") else arg


def assert_user_error(code, out, err):
    assert code == 2
    assert out == ""
    assert err.startswith("saca: error: ")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "Traceback" not in err


@pytest.mark.parametrize("bad", BAD_RUN, ids=lambda b: " ".join(b)[:40])
def test_bad_run_input(bad, files, tmp_path):
    out_dir = tmp_path / "should_not_exist"
    argv = ["run", *[fill(b, files) for b in bad], "--out", out_dir]
    assert_user_error(*call(argv))
    assert not out_dir.exists()


def test_bad_run_input_messages(files):
    _, _, err = call(["run", "--set", "regime.informaton=1"])
    assert "did you mean regime.information" in err
    _, _, err = call(["run", "--set", "situation.households=0"])
    assert "out of range" in err and "situation.households" in err
    _, _, err = call(["run", "--steps", "0"])
    assert "--steps" in err


def test_run_out_is_a_file(files):
    assert_user_error(*call(["run", *SHORT, "--out", files["afile"]]))
    assert_user_error(*call(["run", *SHORT, "--out", files["afile"] + "/sub"]))
    assert Path(files["afile"]).read_text() == "x"


BAD_COMPARE = [
    ["--regimes", "constructive"],  # one regime
    ["--regimes", "constructive,nosuchregime"],
    ["--regimes", "constructive,constructive"],
    ["--regimes", "constructive,,autonomous"],
    ["--regimes", "constructive,autonomous", "--replicates", "1"],
    ["--regimes", "constructive,autonomous", "--replicates", "0"],
    ["--regimes", "constructive,autonomous", "--workers", "0"],
    ["--regimes", "constructive,autonomous", "--steps", "0"],
    ["--regimes", "constructive,autonomous", "--set", "regime.contol=1"],
    ["--regimes", "constructive,autonomous", "--scenario", "@broken"],
    ["--regimes", "constructive,autonomous", "--out", "@afile"],
    [],  # --regimes missing
]


@pytest.mark.parametrize("bad", BAD_COMPARE, ids=lambda b: " ".join(b)[:50])
def test_bad_compare_input(bad, files, tmp_path):
    out_dir = tmp_path / "should_not_exist"
    argv = ["compare", *[fill(b, files) for b in bad]]
    if "--out" not in bad:
        argv += ["--out", out_dir]
    assert_user_error(*call(argv))
    assert not out_dir.exists()


def test_bad_plot_input(tmp_path, files):
    assert_user_error(*call(["plot", tmp_path]))  # neither a run nor a comparison
    assert_user_error(*call(["plot", tmp_path / "nope"]))
    assert_user_error(*call(["plot", files["afile"]]))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "timeseries.parquet").write_text("not parquet")
    (tmp_path / "d" / "meta.json").write_text("{}")
    assert_user_error(*call(["plot", tmp_path / "d"]))


def test_bad_command():
    assert_user_error(*call(["nosuchcommand"]))
    assert_user_error(*call([]))


def test_help_exits_zero():
    code, out, _ = call(["--help"])
    assert code == 0 and "compare" in out


# ----- properties of the validation path ------------------------------------------------
out_of_range = st.one_of(
    st.floats(max_value=-1e-9, allow_nan=False), st.floats(min_value=1 + 1e-9, allow_nan=False)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dial=st.sampled_from(DIALS), value=out_of_range)
def test_out_of_range_dial_always_exits_2_with_one_line(dial, value):
    # Rejected before any simulation, so this stays fast.
    code, out, err = call(["run", "--set", f"regime.{dial}={value!r}"])
    assert_user_error(code, out, err)
    assert f"regime.{dial}" in err


@settings(max_examples=60, deadline=None)
@given(
    dial=st.sampled_from(DIALS),
    value=st.one_of(st.floats(min_value=0.0, max_value=1.0), st.sampled_from([0, 1])),
    regime=st.sampled_from(["constructive", "autonomous", "hybrid"]),
)
def test_valid_dial_value_is_accepted(dial, value, regime):
    from saca.model.scenario import parse_overrides

    overrides = parse_overrides([f"regime.{dial}={value!r}"])
    _, _, reg = runner.resolve("baseline", regime, overrides)
    assert getattr(reg, dial) == float(value)


@settings(max_examples=40, deadline=None)
@given(steps=st.integers(max_value=0) | st.integers(min_value=181, max_value=10**6))
def test_bad_steps_rejected(steps):
    spec, _, _ = runner.resolve("baseline", "hybrid")
    with pytest.raises(SacaInputError):
        runner.check_steps(steps, spec)


# ----- the installed command ------------------------------------------------------------
def test_console_script_subprocess(tmp_path):
    script = Path(sys.executable).with_name("saca")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "saca.experiments"]
    env = {**os.environ, "COLUMNS": "100"}
    ok = subprocess.run(
        [*cmd, "run", *SHORT, "--json"], capture_output=True, text=True, env=env, timeout=120
    )
    assert ok.returncode == 0, ok.stderr
    assert set(METRICS) <= set(json.loads(ok.stdout))
    bad = subprocess.run(
        [sys.executable, "-m", "saca.experiments", "run", "--set", "regime.information=7"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("saca: error: regime.information")
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
