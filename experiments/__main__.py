"""``python -m saca.experiments`` is the ``saca`` command."""

from saca.experiments.cli.main import main

raise SystemExit(main())
