"""The researcher's workflow: progress in logs, stored runs redone by command, Mesa's and
EMA Workbench's idioms on the model (issue 17's "done when")."""

import contextlib
import io
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

from saca.experiments.cli.main import main
from saca.experiments.engine.progress import Progress
from saca.experiments.engine.results import load_results, stored_spec
from saca.experiments.engine.seeds import parse_seed, seed_text
from saca.model import CollaborationModel, SacaInputError
from saca.model.metrics import METRICS

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[1]
TINY = {
    "situation.households": 240,
    "situation.grids": 4,
    "situation.communities": 2,
    "situation.streets": 1,
}
TINY_SET = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
SWEEP = [sys.executable, "-m", "saca.experiments", "sweep"]


def write_spec(path, replicates=3, steps=20, seed=5):
    """4 design points x 2 regimes x ``replicates`` tiny runs."""
    fixed = "".join(f'"{k}" = {v}\n' for k, v in TINY.items())
    path.write_text(
        '[sweep]\nname = "tiny"\nscenario = "emergency"\n'
        'regimes = ["constructive", "autonomous"]\n'
        f"steps = {steps}\nreplicates = {replicates}\nseed = {seed}\n"
        '[parameters]\n"regime.information" = [0.0, 1.0]\n"behaviour.trust_gain" = [0.05, 0.2]\n'
        f"[fixed]\n{fixed}"
    )
    return path


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


# ----- progress -------------------------------------------------------------------------
def test_sweep_into_a_log_file_shows_the_plan_first_then_progress_lines(tmp_path):
    spec = write_spec(tmp_path / "tiny.toml", replicates=5)
    log = tmp_path / "log"
    env = {**os.environ, "PYTHONUNBUFFERED": "0"}
    with log.open("w") as fh:
        proc = subprocess.Popen(
            [*SWEEP, str(spec), "--out", str(tmp_path / "R"), "--backend", "serial"],
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )
        seen_while_running = False
        while proc.poll() is None:
            if "saca sweep tiny: factorial design" in log.read_text():
                seen_while_running = True
                break
            time.sleep(0.05)
        assert proc.wait(timeout=240) == 0
    lines = log.read_text().splitlines()
    assert seen_while_running, "the plan line must reach the log before the sweep ends"
    assert lines[0].startswith("saca sweep tiny: factorial design, 4 points x 2 regimes")
    progress = [ln for ln in lines if ln.startswith("sweep tiny: ") and "/40 runs" in ln]
    done = [int(ln.split(": ")[1].split("/")[0]) for ln in progress]
    assert len(done) >= 5 and done == sorted(done) and done[-1] == 40, lines
    assert all("failed" in ln for ln in progress)
    assert any("runs/s" in ln and "eta" in ln for ln in progress)
    assert "\r" not in log.read_text()  # no bar redrawn into a file
    assert lines.index(progress[0]) > 0 and "ran 40 runs" in lines[-2]


def test_progress_lines_every_fraction_and_heartbeat():
    buf = io.StringIO()
    with Progress(100, "sweep x", stream=buf, every=3600, fraction=0.25) as bar:
        for _ in range(100):
            bar.update(1, failed=0)
    lines = buf.getvalue().splitlines()
    assert [ln.split(": ")[1].split(",")[0] for ln in lines] == [
        "25/100 runs",
        "50/100 runs",
        "75/100 runs",
        "100/100 runs",
    ]
    buf = io.StringIO()
    bar = Progress(10, "compare", stream=buf, every=0.0)
    bar.update(0)  # nothing finished yet: a heartbeat line still says where it is
    bar.update(1, failed=1)
    bar.close()
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("compare: 0/10 runs, 0 failed, ") and "elapsed" in lines[0]
    assert lines[-1].startswith("compare: 1/10 runs, 1 failed")
    silent = io.StringIO()
    with Progress(5, "x", stream=silent, show=False) as bar:
        bar.update(5)
    assert silent.getvalue() == ""


# ----- a stored run by command ----------------------------------------------------------
def test_run_from_a_stored_sweep_gives_the_stored_row(tmp_path):
    spec = write_spec(tmp_path / "tiny.toml", replicates=2)
    code, _, _ = call(["sweep", spec, "--out", tmp_path / "R", "--backend", "serial"])
    assert code == 0
    table = load_results(tmp_path / "R")
    row = table[table["id"] == "p00003-autonomous-r001"].iloc[0]
    assert row["seed"] == "5:3,1"  # the form saca run --seed takes
    code, out, err = call(["run", "--from", tmp_path / "R", "--id", row["id"], "--json"])
    assert code == 0, err
    got = json.loads(out)
    for m in METRICS:
        assert got[m] == pytest.approx(row[m], abs=0, rel=0, nan_ok=True), m
    assert got["reproduces_stored_run"] is True
    assert got["meta"]["seed"] == "5:3,1" and got["meta"]["regime"] == "autonomous"
    # the same run from its parts: the stored seed, scenario, regime and values
    values = [
        "--set=regime.information=1.0",
        "--set=behaviour.trust_gain=0.2",
    ]
    argv = ["run", "--scenario", "emergency", "--regime", "autonomous", "--seed", row["seed"]]
    code, out2, _ = call([*argv, "--steps", "20", *TINY_SET, *values, "--json"])
    assert code == 0
    assert {m: json.loads(out2)[m] for m in METRICS} == {m: got[m] for m in METRICS}
    # --out writes the run with where it came from
    code, _, _ = call(["run", "--from", tmp_path / "R", "--id", row["id"], "--out", tmp_path / "o"])
    meta = json.loads((tmp_path / "o" / "meta.json").read_text())
    assert code == 0 and meta["source_id"] == row["id"] and meta["reproduces"] is True
    code, _, err = call(["run", "--from", tmp_path / "R", "--id", "p00003-autonomus-r001"])
    assert code == 2 and "did you mean 'p00003-autonomous-r001'" in err
    code, _, err = call(["run", "--from", tmp_path / "R", "--id", row["id"], "--seed", "3"])
    assert code == 2 and "--seed cannot be combined with --from" in err


def test_seed_forms():
    assert parse_seed("7") == 7
    ss = parse_seed("11:0,2")
    assert ss.entropy == 11 and ss.spawn_key == (0, 2)
    old = parse_seed("SeedSequence(11, spawn_key=(0, 2))")  # the form stored before
    assert old.entropy == 11 and old.spawn_key == (0, 2)
    assert seed_text(11, (0, 2)) == "11:0,2"
    for bad in ("x", "1:a", "-1", "1:-2"):
        with pytest.raises(SacaInputError, match="--seed"):
            parse_seed(bad)


# ----- Mesa idioms ----------------------------------------------------------------------
def test_while_running_ends_at_the_timelines_last_day():
    m = CollaborationModel("emergency", "autonomous", rng=1, **TINY)
    days = 0
    while m.running:
        m.step()
        days += 1
        assert days <= m.situation.days
    assert days == m.situation.days == 180 and m.day == 179
    # Mesa's DataCollector holds the same table as timeseries()
    dc = m.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    pd.testing.assert_frame_equal(
        dc, m.timeseries().drop(columns="phase").reset_index(drop=True), check_names=False
    )
    m.running = False
    assert not m.running


def test_mesa_batch_run_with_a_dotted_parameter_stops_at_the_scenarios_end():
    res = pd.DataFrame(
        mesa.batch_run(
            CollaborationModel,
            {"scenario": "emergency", "regime.information": [0.0, 1.0], **TINY},
            rng=[4],
            max_steps=400,
            data_collection_period=-1,
            display_progress=False,
        )
    )
    assert len(res) == 2 and set(res["Step"]) == {180}
    assert sorted(res["regime.information"]) == [0.0, 1.0]
    one = CollaborationModel("emergency", rng=4, **{"regime.information": 1.0}, **TINY)
    assert one.regime.information == 1.0
    while one.running:
        one.step()
    last = res[res["regime.information"] == 1.0].iloc[0]
    assert last["efficacy"] == one.datacollector.get_model_vars_dataframe()["efficacy"].iloc[-1]


# ----- EMA Workbench --------------------------------------------------------------------
def test_ema_perform_experiments_8_scenarios_2_policies_against_saca_run():
    from ema_workbench import ScalarOutcome, SequentialEvaluator

    from saca.experiments import saca_ema_model

    model = saca_ema_model("emergency", "hybrid", steps=20, seed=3, fixed=TINY)
    keys = {p.name: p.variable_name[0] for p in [*model.uncertainties, *model.levers]}
    assert "situation_risk" in keys and keys["situation_risk"] == "situation.risk"
    assert "situation_households" not in keys  # fixed, a constant
    assert {v.split(".")[0] for v in keys.values()} == {"situation", "behaviour", "regime"}
    assert {o.name for o in model.outcomes} == set(METRICS)
    kinds = {o.name: o.kind for o in model.outcomes}
    assert kinds["efficacy"] == ScalarOutcome.MAXIMIZE
    assert kinds["burnout_mean"] == ScalarOutcome.MINIMIZE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with SequentialEvaluator(model) as ev:
            # seeded samples: EMA's LHS draws from a fresh generator otherwise, and an
            # unlucky 20-day point can have no need falling due (efficacy undefined)
            experiments, outcomes = ev.perform_experiments(
                scenarios=8,
                policies=2,
                uncertainty_sampling_kwargs={"rng": 11},
                lever_sampling_kwargs={"rng": 12},
            )
    assert experiments.shape[0] == 16
    assert experiments["scenario"].nunique() == 8 and experiments["policy"].nunique() == 2
    assert set(outcomes) == set(METRICS)
    assert all(np.shape(v) == (16,) for v in outcomes.values())
    assert np.isfinite(outcomes["efficacy"]).all()
    # experiment 5 again with saca run: the same parameters and seed give the same numbers
    row = experiments.iloc[5]
    sets = []
    for name, key in keys.items():
        v = row[name]
        v = str(v).lower() if isinstance(v, bool | np.bool_) else v
        sets += ["--set", f"{key}={v.item() if isinstance(v, np.generic) else v}"]
    argv = ["run", "--scenario", "emergency", "--regime", "hybrid", "--seed", "3"]
    code, out, err = call([*argv, "--steps", "20", *TINY_SET, *sets, "--json"])
    assert code == 0, err
    got = json.loads(out)
    for m in ("efficacy", "burnout_mean", "trust_institution", "needs_created"):
        assert outcomes[m][5] == pytest.approx(got[m], rel=1e-12, nan_ok=True), m
    assert len({float(x) for x in outcomes["needs_created"]}) > 1  # parameters matter


# ----- sizes from the command line, every mistake at once, no-op warnings -----------------
def test_sizes_from_the_command_line_are_applied_and_stored(tmp_path):
    spec = write_spec(tmp_path / "tiny.toml", replicates=3, steps=20, seed=5)
    out = tmp_path / "R"
    argv = ["sweep", spec, "--out", out, "--backend", "serial", "--replicates", "1"]
    argv += ["--steps", "10", "--seed", "9", "--set", "situation.need_rate=0.02"]
    code, stdout, err = call(argv)
    assert code == 0, err
    assert "4 points x 2 regimes x 1 replicate = 8 runs of 10 days" in stdout
    meta = json.loads((out / "meta.json").read_text())
    assert meta["replicates"] == 1 and meta["steps"] == 10 and meta["seed"] == 9
    assert meta["fixed"]["situation.need_rate"] == 0.02
    assert meta["command_line"] == {
        "replicates": 1,
        "steps": 10,
        "seed": 9,
        "set": {"situation.need_rate": 0.02},
    }
    table = load_results(out)
    assert len(table) == 8 and set(table["seed"].str.split(":").str[0]) == {"9"}
    # the stored spec is the spec as run: --rerun-failed and run --from read it back
    stored = stored_spec(out)
    assert stored.replicates == 1 and stored.fixed["situation.need_rate"] == 0.02
    code, _, err = call(["sweep", "--rerun-failed", out, "--backend", "serial"])
    assert code == 0, err
    # resuming needs the same values; without them it is another spec
    code, _, err = call(["sweep", spec, "--out", out, "--resume", "--backend", "serial"])
    assert code == 2 and "different spec" in err
    code, _, err = call(["sweep", spec, "--out", out, "--resume", "--backend", "serial",
                         "--replicates", "1", "--steps", "10", "--seed", "9",
                         "--set", "situation.need_rate=0.02"])  # fmt: skip
    assert code == 0, err
    # a varied parameter cannot be fixed from the command line
    code, _, err = call(["sweep", spec, "--out", tmp_path / "S", "--set", "regime.information=1"])
    assert code == 2 and "varies regime.information" in err


def test_every_mistake_of_the_spec_and_the_command_line_at_once(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[sweep]\nscenario = "emergency"\nregimes = ["constructiv", "autonomos"]\n'
        'replicates = 0\n[parameters]\n"regime.informaton" = [0.0, 1.0]\n'
        '"situation.risk" = [0.3, 2.0]\n[fixed]\n"situation.househlds" = 240\n'
    )
    code, out, err = call(["sweep", bad, "--out", tmp_path / "R", "--steps", "0",
                           "--set", "foo.bar=1"])  # fmt: skip
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and not (tmp_path / "R").exists()
    assert all(ln.startswith("saca: error: ") for ln in lines), lines
    for part in ("--steps must be at least 1", "--set unknown parameter 'foo.bar'",
                 "replicates must be a whole number", "situation.househlds",
                 "regime.informaton", "situation.risk level 2.0", "'constructiv'",
                 "'autonomos'"):  # fmt: skip
        assert sum(part in ln for ln in lines) == 1, (part, lines)
    assert "Traceback" not in err


def test_an_override_that_cannot_act_is_warned_about(tmp_path):
    code, _, err = call(["run", "--set", "situation.risk=0.9", "--steps", "2", *TINY_SET])
    assert code == 0
    assert "warning: situation.risk acts only in the emergency or recovery phase" in err
    assert "'baseline'" in err and "--scenario emergency" in err
    risk = ["run", "--scenario", "emergency", "--set", "situation.risk=0.9"]
    code, _, err = call([*risk, "--steps", "2", *TINY_SET])
    assert code == 0 and "run more days" in err  # the emergency comes later
    code, _, err = call([*risk, "--steps", "80", *TINY_SET])
    assert code == 0 and "warning" not in err


def test_help_loads_no_analysis_and_prints_plain_percent():
    code = (
        "import sys; from saca.experiments.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'mesa', 'saca.experiments.engine.sweep') "
        "if m in sys.modules and not type(sys.modules[m]).__name__ == '_LazyModule']\n"
        "print('HEAVY', heavy)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in res.stdout, res.stdout + res.stderr
    assert "compare" in res.stdout and "%%" not in res.stdout
    for cmd in ("compare", "sensitivity", "validate"):
        _, out, _ = call([cmd, "--help"])
        assert "95%" in out and "%%" not in out, cmd
