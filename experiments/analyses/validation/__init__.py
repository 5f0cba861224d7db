"""Pattern-oriented validation: one replicated experiment per pattern P1-P16.

Each pattern of the source studies (``SEEDS.md``; ODD §1) has a TOML file in
``experiments/patterns/`` that a researcher can read: the claim, the passage it comes from,
the experiment (scenario, base regime, fixed overrides, replicates, root seed), one or more
*tests* (a contrast, a metric, a window and the expected sign) and the mechanism that is
meant to produce it. Nothing here touches the model: every run is an ordinary run of
:class:`model.CollaborationModel` through :mod:`saca.experiments.engine.runner`.

Contrasts and their effects (every arm of a test runs with the same replicate seeds,
``SeedSequence(seed).spawn(replicates)``, so effects are computed per replicate and the
95% CI is a Student t interval over replicates):

``regimes`` (two presets ``a``, ``b``) and ``switch`` (``key`` from ``off`` to ``on``)
    paired difference ``b - a`` (``on - off``), :func:`saca.experiments.stats.paired_diff_ci`.
``change``
    within the same run: the metric in window ``after`` minus window ``before``.
``gradient``
    OLS slope of the metric on ``key`` over its ``values``, one slope per replicate.
``optimum``
    ``J(middle) - max(J(lowest value), J(highest value))`` per replicate: an interior
    setting beats both ends.
``interaction``
    per replicate, the slope of the metric on ``key`` at each level of ``by``, then the
    slope of those slopes on ``by``: how the effect of ``key`` changes with ``by``.
``level``
    the metric minus a ``threshold``.

Verdict of a test: *reproduced* when the CI lies beyond the test's ``min_effect`` (0
unless the file says otherwise) in the expected direction, *not reproduced* when it
excludes zero the other way, *inconclusive* otherwise. Both criteria, the direction and the
minimum effect, are fixed in the pattern file before the run, so a changed criterion shows
in version control.

Kind of a test: *emergent* (the effect arises from interacting mechanisms, its sign not
fixed by any one rule) or *definitional* (it restates an input: a starting value, a lookup
table, a share or a factor the test reads back; the file says why). A pattern is
reproduced when all its emergent tests are, not reproduced when any emergent test is, else
inconclusive; a pattern with no emergent test is *definitional only*, never reproduced.
Definitional tests still run and are reported, as checks that the inputs reach the
outputs.

Robustness: each reproduced pattern is rerun at the points of a Latin hypercube over the
situation (risk, capacity, cohesion, need rate) with a few replicates at the quick size;
a pattern *holds* at a point when every test's mean effect has the expected sign.
"""
