"""``python -m saca.experiments.analyses.dials``: run the dial contrasts and write them."""

import sys

from saca.experiments.analyses.dials.command import main

sys.exit(main())
