"""``saca best-mix``: the best mix of dials and switches in each cell of a situation map,
and its efficacy–burnout and efficacy–equity Pareto fronts.

The regime maps compare three presets; here the regime itself is searched. A best-mix
spec is a sweep spec whose ``[parameters]`` are ranges of regime parameters (the six
dials and any numeric switch, e.g. ``regime.front_loading``) sampled by a Latin hypercube
(``design = "lhs"``, ``samples`` mixes), with one base regime in ``[sweep] regimes``
(whose other switches every mix keeps), plus a ``[best_mix]`` table::

    [best_mix]
    axes = { "situation.risk" = [0.2, 0.8], "situation.capacity_mean" = [0.3, 0.7] }
    # or: map = "map_risk_capacity.toml"   (the two axes of a map spec, its levels)
    switches = { "regime.task_force" = [false, true] }   # every combination is searched
    objective = "efficacy"          # maximised; "-metric" minimises
    burnout = "burnout_mean"        # the efficacy–burnout front (minimised)
    equity = "efficacy_sd_between_communities"   # the efficacy–equity front (minimised)
    window = "emergency"            # or "all", or another phase of the runs
    top = 5                         # the mixes whose dials are averaged (robust optimum)

**Search.** Each cell (a combination of the axes' levels) and each combination of the
switches is one ordinary sweep of :mod:`saca.experiments.engine.sweep` (``DIR/cells/<name>``): the
same Latin hypercube of mixes (it is seeded from the spec's seed only) × ``replicates``, so the
sweeps are resumable after a kill (``--resume``), isolate failures and give the same
numbers on every backend; mix ``p`` and replicate ``r`` get the same seed in every cell and
switch combination (common random numbers). A *candidate* is a (switch combination, mix)
pair; its value is the mean over replicates.

**Analysis** per cell: the best candidate (highest mean objective, with its 95% t CI and
its paired difference from the runner-up); the *top-k mean* of each dial (the average
over the ``top`` best candidates: where the optimum lies, less noisy than one point); the
*autonomy index* of a mix, the mean of its six dials (0 all constructive, 1 all
autonomous); and the non-dominated ranks (:func:`nondominated_ranks`, repeated
:func:`saca.experiments.analyses.regime_map.method.pareto_front`) of the two fronts. Whether
the best mix moves toward construction or autonomy along an axis is the slope of the top-k autonomy
index (and of each dial) over the axis's levels, in the text and the JSON.

**Files** in ``DIR``: ``cells/`` (the sweeps), ``best_mix_spec.toml``, ``candidates.parquet``
(every candidate of every cell: its values, means, CIs, ranks), ``best.parquet`` and
``best_mix.json`` (one row per cell), ``best_mix.png`` (autonomy index and each dial of
the top-k, per cell) and ``fronts.png``.

Modules: :mod:`.method` (runs in, a :class:`~.method.BestMix` out), :mod:`.figures` (draws
the stored tables), :mod:`.workflow` (spec → :class:`~.workflow.BestMixPlan` → sweeps →
method → files) and :mod:`.command` (``saca best-mix``'s options and console text).
"""
