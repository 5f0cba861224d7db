"""``saca map``: which regime wins where over two situation parameters, and Pareto fronts.

A map spec is a sweep spec (:mod:`saca.experiments.engine.sweep`) with a factorial design over
exactly two situation parameters (x, then y), two or more regimes and at least two replicates,
plus an optional ``[map]`` table::

    [map]
    metrics = ["efficacy", "trust_institution", "burnout_mean"]   # the default
    window = "all"          # or a phase of the runs: normal, emergency, recovery
    pareto_samples = 16     # dial settings for the Pareto fronts (default 0: presets only)

Method.

- **Map.** Every (cell, regime, replicate) is one run of the sweep; the regimes of a cell
  and replicate share their seed (common random numbers), so the runs are paired by
  replicate. In each cell and for each metric the *best* regime has the best mean (the
  metric's direction is :data:`saca.model.metrics.HIGHER_IS_BETTER`); it is the cell's *winner*
  when its paired 95% Student t CI against every other regime excludes 0 in its favour
  (:func:`saca.experiments.stats.winner`), and otherwise the cell has *no clear winner*. The
  difference reported is best − runner-up (the next best mean), paired, with its CI.
- **Pareto fronts.** Points are regimes (dial settings) described by their mean efficacy,
  burnout and institutional trust with 95% CIs; a point is on a front when no other point
  is at least as good on both of the front's metrics and better on one (efficacy and trust
  are maximised, burnout minimised; :func:`pareto_front`). Only comparable points share a
  front, so there are two groups: ``map`` (each regime of the spec averaged over the
  map's cells: one mean per replicate, then a t CI over the replicates) and, with
  ``pareto_samples = N``, ``dials``: N dial settings drawn by a Latin hypercube over the
  six dials ``regime.<dial>`` in [0, 1] on the first regime's switches, together with
  every regime of the spec, all run at the scenario's own situation (no grid), so the
  front is over real dial settings run in the same situation as the presets.

Storage in ``--out DIR``: ``runs/`` (the map's sweep: ``saca results DIR/runs`` works),
``pareto/`` (the dial settings) and ``pareto_presets/`` (the spec's regimes at the
scenario's situation), three ordinary sweeps of the same engine, so results are the same
on every backend and ``--resume`` recomputes nothing stored; ``map_spec.toml`` (the spec as
given), ``map.parquet`` and ``map.json`` (one row per cell and metric), ``map.png``,
``pareto.parquet`` (every point, its dials, means, CIs and front flags) and
``pareto.png``. The sweeps' own specs leave the ``[map]`` table out, so changing the
metrics or the window re-analyses the stored runs without rerunning them.

Modules: :mod:`.method` (runs in, cells and fronts out), :mod:`.figures` (draws the stored
cells), :mod:`.workflow` (spec → :class:`~.workflow.MapPlan` → sweeps → method → files) and
:mod:`.command` (``saca map``'s options and console text).
"""
