"""The notebooks are stored without outputs and are executed by the test command.

Their execution itself is a test item each (nbmake, ``--nbmake`` in pyproject's
``addopts``, ``notebooks`` in its ``testpaths``), run at a small size through
``SACA_QUICK`` (``notebooks/conftest.py``).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_three_stories_are_there():
    assert [p.stem for p in NOTEBOOKS] == ["01_quickstart", "02_regimes", "03_sweeps"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: strip the outputs before committing"
            assert cell.execution_count is None
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "SACA_QUICK" in code  # the switch that keeps CI fast


def test_the_test_command_executes_the_notebooks():
    opts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--nbmake" in opts["addopts"].split()
    assert "notebooks" in opts["testpaths"]
