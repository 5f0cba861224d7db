"""``python -m saca.experiments.reports.findings``: run the analyses and write FINDINGS.md."""

from saca.experiments.reports.findings.report import main

raise SystemExit(main())
