"""``saca uncertainty``: shares of the uncertainty space each regime wins, with CIs."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from saca.experiments.analyses.uncertainty import method as unc
from saca.experiments.cli.main import main


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def table(diffs: dict[int, list[float]], metric: str = "efficacy") -> pd.DataFrame:
    """Runs of regimes A (value 0.5) and B (0.5 + diff) per point and replicate."""
    rows = []
    for p, ds in diffs.items():
        for r, d in enumerate(ds):
            rows.append({"point": p, "replicate": r, "regime": "A", metric: 0.5})
            rows.append({"point": p, "replicate": r, "regime": "B", metric: 0.5 + d})
    return pd.DataFrame(rows)


def test_shares_count_points_and_clear_wins():
    # 6 points: B wins 4 (2 of them clearly: both replicates well above 0), A wins 2
    diffs = {
        0: [0.10, 0.11],
        1: [0.20, 0.21],
        2: [0.05, -0.01],
        3: [0.02, -0.01],
        4: [-0.03, 0.01],
        5: [-0.10, -0.11],
    }
    s = unc.win_shares(table(diffs), "A", "B", "efficacy")
    assert s["points"] == 6
    assert s["B"]["share"] == pytest.approx(4 / 6) and s["A"]["share"] == pytest.approx(2 / 6)
    assert s["B"]["clear_share"] == pytest.approx(2 / 6)
    assert s["A"]["clear_share"] == pytest.approx(1 / 6)
    assert s["B"]["lo"] < 4 / 6 < s["B"]["hi"]
    means = [np.mean(v) for v in diffs.values()]
    assert s["mean_diff"]["mean"] == pytest.approx(np.mean(means))


def test_lower_is_better_flips_the_winner():
    s = unc.win_shares(
        table({0: [0.1, 0.1], 1: [0.2, 0.2]}, "burnout_mean"), "A", "B", "burnout_mean"
    )
    assert s["A"]["share"] == 1.0 and s["B"]["share"] == 0.0


def test_wilson_interval_matches_the_formula():
    lo, hi = unc.wilson(8, 20)
    z = 1.959963984540054
    p, n = 0.4, 20
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert lo == pytest.approx(centre - half, abs=1e-9)
    assert hi == pytest.approx(centre + half, abs=1e-9)
    assert all(np.isnan(unc.wilson(0, 0)))


def test_command_mistakes_are_one_line_exit_2(tmp_path):
    code, _, err = call(["uncertainty", "experiments/specs/constants_situation.toml"])
    assert code == 2 and "--out" in err
    code, _, err = call(
        [
            "uncertainty",
            "experiments/specs/constants_situation.toml",
            "--out",
            tmp_path / "o",
            "--metrics",
            "eficacy",
        ]
    )
    assert code == 2 and "efficacy" in err and err.count("\n") == 1
    code, _, err = call(
        [
            "uncertainty",
            "experiments/specs/constants_situation.toml",
            "--out",
            tmp_path / "o",
            "--contrast",
            "constructive,nope",
        ]
    )
    assert code == 2 and "nope" in err


def test_small_run_end_to_end(tmp_path):
    spec = tmp_path / "u.toml"
    spec.write_text(
        '[sweep]\nscenario = "emergency"\nregimes = ["constructive", "autonomous"]\n'
        'steps = 40\nreplicates = 2\nseed = 5\ndesign = "lhs"\nsamples = 8\n\n'
        '[parameters]\n"situation.risk" = { min = 0.1, max = 0.9 }\n\n'
        '[constants]\ninclude = ["behaviour.paperwork_hours"]\nnarrow = 0.5\n\n'
        '[fixed]\n"situation.households" = 300\n"situation.grids" = 6\n'
        '"situation.communities" = 3\n"situation.streets" = 1\n'
    )
    out = tmp_path / "out"
    code, text, err = call(["uncertainty", spec, "--out", out, "--metrics", "efficacy"])
    assert code == 0, err
    doc = json.loads((out / "shares.json").read_text())
    s = doc["shares"][0]
    assert s["points"] == 8 and doc["contrast"] == ["constructive", "autonomous"]
    assert s["autonomous"]["share"] + s["constructive"]["share"] <= 1.0
    assert (out / "shares.png").is_file() and (out / "prim_efficacy" / "boxes.json").is_file()
    assert "autonomous wins" in text
