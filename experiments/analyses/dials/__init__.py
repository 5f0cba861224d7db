"""Each dial's two sides: one dial moved from 0 to 1 from a base regime, paired by seed.

For every dial of :data:`saca.model.regime.DIALS` the base regime is run with that dial at 0
and at 1 (the other dials and the switches as the base has them), each replicate under
the same seed in every arm (common random numbers). The paired difference "dial at 1 minus
dial at 0" of each outcome, with its 95% Student t interval, says what the autonomous end
buys and what it costs; an outcome is *better* or *worse* at 1 only when its interval
excludes 0, by the direction of :data:`saca.model.metrics.HIGHER_IS_BETTER`::

    python -m saca.experiments.analyses.dials --out docs/findings/dials [--replicates 10]

writes ``contrasts.json`` (the table, the settings and the compute time) and
``contrasts.csv``. ``python -m saca.experiments.reports.findings`` runs it and reports it.

Modules: :mod:`.method` (the paired contrasts and verdicts of stored runs), :mod:`.workflow`
(the arms run → method → files) and :mod:`.command` (the command line, also ``__main__``).
"""
