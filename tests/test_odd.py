"""docs/ODD.md must not drift from the code.

The parameter tables are generated from the parameters' own metadata, every metric of the
contract is defined in the text, every regime dial and switch is described outside the
generated tables, and every dotted key the text mentions exists.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from saca.experiments.reports.odd_tables import END, START, current_region, render_tables
from saca.model.metrics import METRICS
from saca.model.regime import DIALS, Regime
from saca.model.scenario import all_params

ODD = Path(__file__).resolve().parents[1] / "docs" / "ODD.md"
REGENERATE = "run `python -m saca.experiments.reports.odd_tables` to regenerate them"


@pytest.fixture(scope="module")
def odd() -> str:
    assert ODD.is_file(), f"{ODD} is missing"
    return ODD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def prose(odd: str) -> str:
    """The document without its generated parameter tables."""
    a, b = odd.find(START), odd.find(END)
    return odd[:a] + odd[b + len(END) :]


def test_parameter_tables_are_generated_from_the_code(odd: str) -> None:
    assert current_region(odd) == render_tables(), (
        f"the parameter tables in docs/ODD.md are out of date with the code; {REGENERATE}"
    )


def test_tables_list_every_parameter() -> None:
    tables = render_tables()
    missing = [p.key for p in all_params() if f"`{p.key}`" not in tables]
    assert not missing, f"render_tables() leaves out {missing}"


def test_every_metric_is_defined(odd: str) -> None:
    missing = [name for name in METRICS if f"`{name}`" not in odd]
    assert not missing, (
        f"metrics {missing} are in model.metrics.METRICS but not defined in docs/ODD.md "
        "(§4 Observation); add them to the metrics contract table"
    )


def test_every_regime_dial_and_switch_is_described(prose: str) -> None:
    keys = [f"regime.{f.name}" for f in dataclasses.fields(Regime)]
    assert {f"regime.{d}" for d in DIALS} <= set(keys)
    missing = [k for k in keys if f"`{k}`" not in prose]
    assert not missing, (
        f"regime keys {missing} appear in docs/ODD.md only in the generated tables (or not "
        "at all); describe where they act (§2.8 and the submodels of §7)"
    )


def test_every_dotted_key_in_the_text_exists(prose: str) -> None:
    known = {p.key for p in all_params()} | {"situation.timeline"}
    # a dotted key, not a file name such as model/regime.py; `situation.capacity_*` is a
    # wildcard for the keys that start with it
    pattern = r"(?<![\w/])((?:situation|population|behaviour|regime)\.[a-z_]+)(\*?)"
    stale = sorted(
        key + star
        for key, star in re.findall(pattern, prose.replace("\\_", "_"))  # LaTeX \_
        if (key not in known and not star) or (star and not any(k.startswith(key) for k in known))
    )
    assert not stale, f"docs/ODD.md mentions parameters that do not exist: {stale}"
