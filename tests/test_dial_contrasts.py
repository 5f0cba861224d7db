"""The dial-contrast table (saca.experiments.analyses.dials): pairing and verdicts."""

from __future__ import annotations

import json

import pytest

from saca.experiments.analyses.dials import method as dials_method
from saca.experiments.analyses.dials import workflow as dials_workflow
from saca.model.regime import DIALS

TINY = {
    "situation.households": 240,
    "situation.grids": 4,
    "situation.communities": 2,
    "situation.streets": 1,
    "situation.timeline": [{"phase": "emergency", "start": 0, "end": 12}],
}


@pytest.mark.parametrize(
    ("metric", "lo", "hi", "expected"),
    [
        ("efficacy", 0.01, 0.03, "better"),
        ("efficacy", -0.03, -0.01, "worse"),
        ("burnout_mean", 0.01, 0.03, "worse"),
        ("burnout_mean", -0.03, -0.01, "better"),
        ("efficacy", -0.01, 0.02, "no clear difference"),
    ],
)
def test_verdict_reads_the_interval_and_the_better_direction(metric, lo, hi, expected):
    assert dials_method.verdict({"diff": (lo + hi) / 2, "lo": lo, "hi": hi}, metric) == expected


def test_contrasts_pair_every_dial_and_are_reproducible(tmp_path):
    a = dials_workflow.run_contrasts(replicates=2, overrides=TINY, progress=False)
    b = dials_workflow.run_contrasts(replicates=2, overrides=TINY, workers=2, progress=False)
    assert [r["dial"] for r in a["rows"]][:: len(dials_method.OUTCOMES)] == list(DIALS)
    assert a["rows"] == b["rows"]  # same seeds, any number of workers
    for row in a["rows"]:
        assert row["n"] == 2
        assert row["diff"] == pytest.approx(row["at_1"] - row["at_0"], abs=1e-9) or row["n"] < 2
    dials_workflow.write(a, tmp_path)
    stored = json.loads((tmp_path / "contrasts.json").read_text())
    assert stored["settings"]["replicates"] == 2
    assert len(stored["rows"]) == 6 * len(dials_method.OUTCOMES)
    assert set(dials_method.two_sided(a)) == set(DIALS)
