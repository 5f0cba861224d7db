"""``saca sensitivity``: global sensitivity analysis (Sobol or Morris) on the sweep engine.

Which of the varied parameters (e.g. the six regime dials) move an outcome, alone or
through interactions? ``saca sensitivity SPEC.toml --method sobol|morris --out DIR`` runs
the design of a sweep spec with :func:`saca.experiments.engine.sweep.run_sweep` (so it is resumable,
failure isolating and gives the same numbers on every backend) and analyses it with SALib.

**Spec.** An ordinary sweep spec (``[sweep]``, ``[parameters]`` as ranges ``{ min, max }``,
``[fixed]``) plus an optional ``[sensitivity]`` table::

    [sensitivity]
    outputs = ["efficacy", "trust_institution", "burnout_mean"]   # metric names
    window = "all"        # the whole run, or a phase (e.g. "emergency")
    resamples = 1000      # bootstrap resamples of the confidence intervals
    tolerance = 0.1       # convergence tolerance (below)

``--method`` sets ``[sweep] design``: the spec may leave ``design`` out (it is then set to
the method, and the copy of the spec in ``DIR/runs`` says so), or give the same one;
a different design is an error. Without ``--method`` the spec's design must be ``sobol``
or ``morris``. ``[sweep] samples`` is Sobol's base sample ``N`` (a power of two; the
design has ``N (D + 2)`` points) or the number of Morris trajectories ``r`` (``r (D + 1)``
points on a grid of ``[sweep] levels`` levels, default 4).

**Averaging.** The model is stochastic: each output is averaged over the successful
replicates of each (design point, regime), and the indices describe that average. The
replicate noise left in it is reported as ``noise_share``: the mean variance of a point's
average (replicate variance / replicates) over the variance of the averages across the
design. Noise adds about ``noise_share`` to every Sobol ST, blurs S1 and adds to every
Morris mu*; more replicates shrink it.

**Indices**, per regime and output: Sobol first-order ``S1`` and total-order ``ST``
(``SALib.analyze.sobol.analyze``), Morris ``mu``, ``mu_star``, ``sigma``
(``SALib.analyze.morris.analyze``; elementary effects are changes of the output per
whole range of the parameter), each ``*_conf`` the half-width of a 95% bootstrap interval
with ``resamples`` resamples. The bootstrap is seeded from the spec's root seed:
``SeedSequence(seed, spawn_key=(ANALYSIS_KEY, regime, output, part))`` (part 0: the whole
sample, 1 and 2 its halves), a key length no run or design seed has.

**Convergence rule** (per regime and output; ``tol`` = ``tolerance``):

- Sobol: ``w`` = the widest 95% CI half-width of ST over the parameters; ``d`` = the
  largest difference of ST between the first and the second half of the base samples.
  Converged when ``w <= tol`` and ``d <= 2 tol`` (each half has sqrt(2) times the standard
  error of the whole, so the halves' difference has twice it: ``2 tol`` matches ``w =
  tol``). Otherwise the recommended ``N`` is the smallest power of two at least
  ``N max(w / tol, d / (2 tol))^2`` (errors shrink like ``1 / sqrt(N)``) and at least 2N.
- Morris: the same with mu* relative to the largest mu* of that output: ``w`` = the
  widest mu*_conf / max mu*, ``d`` = the largest difference of mu* between the first and
  the second half of the trajectories / max mu*. Converged when ``w <= tol`` and ``d <= 2
  tol``; otherwise the recommended number of trajectories is ``r max(w / tol, d / (2
  tol))^2`` rounded up to an even number, and at least 2r. The Spearman correlation of the
  halves' mu* rankings is reported beside it (``rank_correlation``).
- Fewer than 4 base samples or trajectories cannot be split into halves: not converged.
  An output that does not vary over the design has no indices to judge.

When any output is not converged the command prints a warning on stderr with the
recommended ``samples`` (the largest over regimes and outputs) and records it in
``indices.json``.

**Files** in ``DIR``: ``runs/`` (the sweep: ``saca results DIR/runs`` reads it, ``--resume``
continues it), ``indices.parquet`` (long form: regime, output, parameter, method, rank and
the index columns), ``indices.json`` (the same, the convergence verdicts, the spec hash,
the seed), ``sensitivity_<output>.png`` (one panel per regime).

Modules: :mod:`.method` (averages and indices: tables in, an :class:`~.method.Analysis`
out), :mod:`.figures` (draws stored indices), :mod:`.workflow` (spec →
:class:`~.workflow.SensitivityPlan` → sweep → method → files) and :mod:`.command`
(``saca sensitivity``'s options and console tables).
"""
