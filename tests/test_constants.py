"""``[constants]`` in a spec: behavioural constants with ranges from their declarations."""

from __future__ import annotations

import contextlib
import io
import tomllib

import pytest

from saca.experiments.cli.main import main
from saca.experiments.engine import constants as cst
from saca.experiments.engine.spec import load_spec

HEAD = """
[sweep]
scenario = "emergency"
regimes = ["hybrid"]
replicates = 1
seed = 1
design = "lhs"
samples = 4

[parameters]
"regime.contract" = { min = 0.0, max = 1.0 }
"""


def call(argv):
    """Run main() and return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def test_all_constants_take_their_declared_ranges_narrowed_toward_the_default():
    data, had = cst.expand(tomllib.loads(HEAD + '[constants]\ninclude = "all"\nnarrow = 0.5\n'))
    assert had and "constants" not in data
    params = data["parameters"]
    infos = cst.declared()
    varied = [k for k in params if k.startswith("behaviour.")]
    assert set(varied) == set(infos) - set(cst.CLOCK)
    hop = infos["behaviour.hop_hours"]  # default 4, declared [0, 72]
    assert params["behaviour.hop_hours"] == {
        "min": pytest.approx(4 - 0.5 * (4 - hop.lo)),
        "max": pytest.approx(4 + 0.5 * (hop.hi - 4)),
    }
    assert params["regime.contract"] == {"min": 0.0, "max": 1.0}  # the spec's own entry stays
    for k in varied:  # every range holds its default and stays inside the declaration
        lo, hi = params[k]["min"], params[k]["max"]
        assert infos[k].lo <= lo <= infos[k].default <= hi <= infos[k].hi and lo < hi


def test_full_range_list_exclude_and_spec_entries_win():
    text = HEAD + (
        '"behaviour.shirk_threshold" = { min = 0.3, max = 0.4 }\n'
        '[fixed]\n"behaviour.hop_hours" = 2.0\n'
        '[constants]\ninclude = ["behaviour.shirk_threshold", "behaviour.hop_hours", '
        '"behaviour.paperwork_hours", "behaviour.detail_loss"]\n'
        'exclude = ["behaviour.detail_loss"]\n'
    )
    data, _ = cst.expand(tomllib.loads(text))
    p = data["parameters"]
    assert p["behaviour.shirk_threshold"] == {"min": 0.3, "max": 0.4}
    assert "behaviour.hop_hours" not in p and "behaviour.detail_loss" not in p
    info = cst.declared()["behaviour.paperwork_hours"]
    assert p["behaviour.paperwork_hours"] == {"min": info.lo, "max": info.hi}  # narrow = 1


def test_spec_without_constants_is_untouched():
    data = tomllib.loads(HEAD)
    assert cst.expand(data) == (data, False)


def test_stored_copy_reads_back_to_the_same_sweep(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(HEAD + '[constants]\ninclude = ["behaviour.hop_hours"]\nnarrow = 0.1\n')
    spec = load_spec(path)
    again = tmp_path / "copy.toml"
    again.write_text(spec.text)
    assert "[constants]" not in tomllib.loads(spec.text)
    assert load_spec(again).hash == spec.hash
    assert {f.key for f in spec.factors} == {"regime.contract", "behaviour.hop_hours"}


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('include = "all"\nnarow = 0.2', "unknown key 'narow'"),
        ('include = ["behaviour.hop_hour"]', "did you mean behaviour.hop_hours"),
        ('include = ["situation.risk"]', "not a behavioural constant"),
        ('include = "some"', 'include must be "all" or a list'),
        ('include = "all"\nnarrow = 0', "narrow must be a number in (0, 1]"),
        ('include = "all"\nnarrow = 1.5', "narrow must be a number in (0, 1]"),
        ('include = "all"\nexclude = "behaviour.hop_hours"', "exclude must be a list"),
    ],
)
def test_mistakes_are_one_line_exit_2(tmp_path, table, words):
    path = tmp_path / "bad.toml"
    path.write_text(HEAD + f"[constants]\n{table}\n")
    code, out, err = call(["sweep", path, "--dry-run"])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


@pytest.mark.parametrize(
    "name", ["constants_morris.toml", "constants_sobol.toml", "constants_situation.toml"]
)
def test_shipped_specs_plan(name):
    spec = load_spec(f"experiments/specs/{name}", extra_tables=("sensitivity", "discover"))
    keys = {f.key for f in spec.factors}
    assert any(k.startswith("behaviour.") for k in keys)
    if name != "constants_situation.toml":
        assert len(keys) == 6 + len(cst.declared()) - len(cst.CLOCK)
