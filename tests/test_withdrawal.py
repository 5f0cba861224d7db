"""The withdrawal experiment: the timeline's ``sunk`` field, the recall as an event, and
the analysis of ``saca withdrawal`` (docs/ODD.md §7)."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from saca.agents import needs as nd
from saca.experiments.analyses.withdrawal import method as wd
from saca.experiments.cli.main import main
from saca.model import SacaInputError
from saca.model.scenario import load_scenario
from saca.model.situation import Phase, check_timeline

SMALL = {
    "situation.households": 400,
    "situation.grids": 8,
    "situation.communities": 4,
    "situation.streets": 2,
}
# 0-8 all present, 8-16 none, 16-24 off-post recalled, 24-32 all back.
TIMELINE = [
    {"phase": "emergency", "start": 0, "end": 8},
    {"phase": "normal", "start": 8, "end": 16, "sunk": "none"},
    {"phase": "normal", "start": 16, "end": 24, "sunk": "in_service"},
    {"phase": "normal", "start": 24, "end": 32},
]


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def toml(entries):
    parts = []
    for e in entries:
        extra = f', sunk = "{e["sunk"]}"' if "sunk" in e else ""
        parts.append(f'{{ phase = "{e["phase"]}", start = {e["start"]}, end = {e["end"]}{extra} }}')
    return "[situation]\ntimeline = [" + ", ".join(parts) + "]\n"


# ----- the timeline ---------------------------------------------------------------------
def test_shipped_scenario_goes_down_and_back_up():
    tl = load_scenario("withdrawal").situation.timeline
    assert [p.sunk for p in tl].count("none") == 1
    wins = wd.windows_of(tl)
    paths = [(w.sunk, w.path) for w in wins if w.path]
    assert paths[:5] == [
        ("all", "before"),
        ("in_service", "down"),
        ("none", "turn"),
        ("in_service", "up"),
        ("all", "after"),
    ]


def test_sunk_is_read_from_a_scenario_file(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(toml(TIMELINE))
    tl = load_scenario(path).situation.timeline
    assert [p.sunk for p in tl] == ["all", "none", "in_service", "all"]


@pytest.mark.parametrize(
    ("sunk", "words"),
    [('"some"', "sunk = 'some'; use one of all, in_service, none"), ("0", "(a string)")],
)
def test_bad_sunk_value_is_one_clear_error(tmp_path, sunk, words):
    path = tmp_path / "bad.toml"
    path.write_text(
        '[situation]\ntimeline = [{ phase = "normal", start = 0, end = 10, sunk = ' + sunk + " }]\n"
    )
    with pytest.raises(SacaInputError) as exc:
        load_scenario(path)
    assert words in str(exc.value)
    code, out, err = call(["run", "--scenario", path, "--steps", "2"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("saca: error:") and "Traceback" not in err


def test_check_timeline_rejects_unknown_presence():
    with pytest.raises(SacaInputError, match="use one of all, in_service, none"):
        check_timeline((Phase("normal", 0, 5, "half"),))


def test_set_timeline_with_bad_sunk_exits_2():
    bad = '[{ phase = "normal", start = 0, end = 5, sunk = "gone" }]'
    code, _, err = call(["run", "--steps", "2", "--set", f"situation.timeline={bad}"])
    assert code == 2 and "gone" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("timeline", "words"),
    [
        ([{"phase": "normal", "start": 0, "end": 9}], "recalls no sunk cadre"),
        ([{"phase": "normal", "start": 0, "end": 9, "sunk": "none"}], "from day 0"),
        (
            [
                {"phase": "normal", "start": 0, "end": 9},
                {"phase": "normal", "start": 9, "end": 19, "sunk": "none"},
            ],
            "never brings the sunk cadres back",
        ),
    ],
)
def test_withdrawal_needs_a_path_down_and_back(tmp_path, timeline, words):
    path = tmp_path / "t.toml"
    path.write_text(toml(timeline))
    code, _, err = call(["withdrawal", "--scenario", path, "--replicates", "2"])
    assert code == 2 and words in err and err.count("\n") == 1


def test_withdrawal_command_input_mistakes_exit_2():
    code, _, err = call(["withdrawal", "--replicates", "1"])
    assert code == 2 and "at least 2" in err
    code, _, err = call(["withdrawal", "--regimes", "constructive,nope"])
    assert code == 2 and "nope" in err
    code, _, err = call(["withdrawal", "--tail", "40"])
    assert code == 2 and "--tail 40" in err


# ----- the model ------------------------------------------------------------------------
def _run_recording(regime: str = "hybrid", days: int = 32):
    from saca.model import CollaborationModel

    m = CollaborationModel(
        "baseline",
        regime,
        rng=3,
        overrides={**SMALL, "situation.timeline": TIMELINE, "regime.off_post_share": 0.5},
    )
    rows = []
    for _ in range(days):
        m.step()
        held = m.needs.holder[: m.needs.n][
            (m.needs.status[: m.needs.n] == nd.OPEN) & (m.needs.where[: m.needs.n] == nd.AT_CADRE)
        ]
        by_mode = {}
        for mode in ("off_post", "in_service"):
            cads = [c for c in m.cadres if c.is_sunk and c.mode == mode]
            idx = {c.idx for c in cads}
            by_mode[mode] = {
                "hours": sum(c.hours_worked for c in cads),
                "resolved": sum(c.resolved_today for c in cads),
                "held": int(sum(int(h) in idx for h in held)),
                "away": all(c.away for c in cads),
            }
        rows.append(by_mode)
    return m, rows


@pytest.fixture(scope="module")
def recorded():
    return _run_recording()


def test_recalled_cadres_do_no_work_and_hold_no_needs(recorded):
    _, rows = recorded
    for day in range(8, 16):  # everyone recalled
        for mode in ("off_post", "in_service"):
            r = rows[day][mode]
            assert r["away"] and r["hours"] == 0 and r["resolved"] == 0 and r["held"] == 0
    for day in range(16, 24):  # off-post recalled, in-service members back
        r = rows[day]["off_post"]
        assert r["away"] and r["hours"] == 0 and r["held"] == 0
        assert not rows[day]["in_service"]["away"]
    assert sum(rows[d]["in_service"]["hours"] for d in range(16, 24)) > 0


def test_recalled_cadres_are_off_duty_in_the_burnout_metrics(recorded):
    m, _ = recorded
    daily = m.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    assert daily["burnout_sunk"].iloc[8:16].isna().all()  # no sunk cadre on duty
    assert daily["burnout_sunk"].iloc[24:32].notna().all()
    assert daily["burnout_community"].iloc[8:16].notna().all()


def test_recalled_cadres_work_before_and_after(recorded):
    _, rows = recorded
    for mode in ("off_post", "in_service"):
        assert sum(rows[d][mode]["hours"] for d in range(0, 8)) > 0
        assert sum(rows[d][mode]["hours"] for d in range(24, 32)) > 0
        assert not any(rows[d][mode]["away"] for d in range(24, 32))
    assert sum(rows[d]["off_post"]["resolved"] for d in range(24, 32)) > 0


def test_needs_held_at_the_recall_go_back_to_the_community():
    m, _ = _run_recording(days=8)
    sunk = [c for c in m.cadres if c.is_sunk]
    nds = m.needs
    live = np.arange(nds.n)
    held = {c.idx: [n for n in c.queue if nds.status[n] == nd.OPEN] for c in sunk}
    assert sum(map(len, held.values())) > 0, "the emergency should leave queued work"
    m.step()  # day 8: every sunk cadre recalled
    ids = np.array([n for q in held.values() for n in q])
    still_open = ids[nds.status[ids] == nd.OPEN]
    assert len(still_open) and not np.isin(nds.holder[still_open], list(held)).any()
    assert all(not c.queue for c in sunk)
    assert live.size


def test_no_recall_changes_nothing(small_overrides):
    """A timeline with sunk = "all" everywhere runs exactly as one without the field."""
    from saca.model import CollaborationModel

    plain = [{k: v for k, v in p.items() if k != "sunk"} for p in TIMELINE]
    explicit = [{**p, "sunk": "all"} for p in plain]
    a = CollaborationModel(
        "baseline", "hybrid", rng=5, overrides={**SMALL, "situation.timeline": plain}
    )
    b = CollaborationModel(
        "baseline", "hybrid", rng=5, overrides={**SMALL, "situation.timeline": explicit}
    )
    a.run_for(12)
    b.run_for(12)
    assert a.timeseries().equals(b.timeseries())


# ----- the analysis ---------------------------------------------------------------------
def test_daily_shares_on_a_hand_built_pool():
    pool = nd.NeedPool()
    z = np.zeros(4, dtype=np.int64)
    ids = pool.add(
        z, z, z, z.astype(np.int8), z.astype(np.int8), 0, np.zeros(4), np.full(4, 48.0), np.ones(4)
    )
    ids2 = pool.add(
        z[:2],
        z[:2],
        z[:2],
        z[:2].astype(np.int8),
        z[:2].astype(np.int8),
        1,
        np.full(2, 30.0),
        np.full(2, 90.0),
        np.ones(2),
    )
    pool.self_helped[ids[0]] = True
    pool.resolve(ids[:1], 0.0)  # self-help on day 0
    pool.chosen[ids[1]] = True
    pool.resolve(ids[1:3], 30.0)  # two by the system on day 1, one of them chosen
    pool.resolve(ids2[:1], 30.0)  # a third on day 1, not chosen
    sh = wd.daily_shares(pool, 3)
    assert sh["self_help_share"].tolist()[:2] == [0.25, 0.0]
    assert sh["claim_share"][1] == pytest.approx(1 / 3)
    assert np.isnan(sh["claim_share"][0]) and np.isnan(sh["self_help_share"][2])


def test_verdicts_read_the_cis():
    down = {"mean": -0.1, "lo": -0.15, "hi": -0.05}
    level = {"mean": 0.0, "lo": -0.02, "hi": 0.02}
    assert (
        wd.verdict(down, level) == "falls while they are away and recovers when the cadres return"
    )
    assert "hysteresis" in wd.verdict(down, down)
    assert wd.verdict(level, level).startswith("persists")


def test_experiment_end_to_end(tmp_path):
    """Two replicates of a short timeline: the control arm never has a cadre away, the
    withdrawal arm does in the recall windows, and the files are written."""
    path = tmp_path / "w.toml"
    path.write_text(toml(TIMELINE))
    sets = [a for k, v in SMALL.items() for a in ("--set", f"{k}={v}")]
    code, out, err = call(
        [
            "withdrawal",
            "--scenario",
            path,
            "--regimes",
            "hybrid",
            "--replicates",
            "2",
            "--tail",
            "4",
            "--out",
            tmp_path / "out",
            "--json",
            *sets,
        ]
    )
    assert code == 0, err
    res = json.loads(out)["results"]["hybrid"]
    wins = res["windows"]
    assert wins["w1_normal_none"]["sunk_present"] == 0.0
    assert wins["w2_normal_in_service"]["sunk_present"] == pytest.approx(0.5, abs=0.2)
    assert wins["w3_normal_all"]["sunk_present"] == 1.0
    import pandas as pd

    series = pd.read_parquet(tmp_path / "out" / "series.parquet")
    assert (series.loc[series["arm"] == "control", "sunk_present"] == 1.0).all()
    for f in ("timelines.png", "hysteresis.png", "withdrawal.json", "windows.parquet"):
        assert (tmp_path / "out" / f).is_file()
    # the effect is paired: at day 0-8 (nobody away yet) both arms are the same run
    before = series[(series["day"] < 8)].pivot_table(
        index=["replicate", "day"], columns="arm", values="efficacy"
    )
    assert np.allclose(before["withdrawal"], before["control"], equal_nan=True)
