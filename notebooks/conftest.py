"""Notebooks run as tests (nbmake, see ``addopts`` in pyproject.toml) at a small size.

``SACA_QUICK`` makes each notebook shrink the district and its replicates so all three run
in well under a minute; the kernels nbmake starts inherit it. Run a notebook without it
(in Jupyter, or ``pytest --nbmake notebooks`` with ``SACA_QUICK=`` set empty) for the
full-size results.
"""

import os

os.environ.setdefault("SACA_QUICK", "1")
