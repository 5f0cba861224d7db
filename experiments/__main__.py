"""``python -m experiments`` is the ``saca`` command."""

from experiments.cli import main

raise SystemExit(main())
