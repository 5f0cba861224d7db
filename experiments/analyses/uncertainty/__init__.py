"""``saca uncertainty``: which regime wins over the space of uncertain constants and
situations, how much of it, and where construction wins.

Input: a sweep spec (run here into ``OUT/runs``, resumable) or a stored sweep directory,
whose design is a sample (Latin hypercube) over behavioural constants and situation
parameters (``[constants]``, :mod:`saca.experiments.engine.constants`) and whose regimes include the
two compared (by default the spec's first two, e.g. constructive and autonomous), with
common random numbers so every design point and replicate is a paired comparison.

**Regime contrast**, per metric (efficacy, burnout, institutional trust by default), over
the design points (each point is one draw from the uncertainty space):

- the mean contrast ``B − A`` with a 95% t interval over the points;
- the share of the space where each regime wins: the share of points whose mean paired
  difference (over replicates) is in that regime's favour (the metric's better
  direction: lower for burnout), with a 95% Wilson interval (``scipy.stats.binomtest``)
  over the points;
- the share where it wins *clearly*: the point's paired t interval over its replicates
  excludes 0 in its favour (needs at least 2 replicates).

**Where construction wins**: PRIM boxes (EMA Workbench's ``prim`` through
:func:`saca.experiments.analyses.discovery.method.discover`) of the parameters where ``A``
beats ``B``, one discovery per metric in ``OUT/prim_<metric>/`` (boxes.json, boxes.png, ...).

Files: ``OUT/shares.json`` (every number above, the spec's hash and the seed) and
``OUT/shares.png`` (shares per metric with their CIs).

Modules: :mod:`.method` (runs in, an :class:`~.method.Uncertainty` out), :mod:`.figures`
(draws the stored shares), :mod:`.workflow` (spec or sweep → :class:`~.workflow.UncertaintyPlan`
→ runs → method → files) and :mod:`.command` (``saca uncertainty``'s options and text).
"""
