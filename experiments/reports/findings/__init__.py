"""docs/FINDINGS.md: where does autonomous collaboration beat constructive collaboration?

The research question behind saca, answered once from real runs::

    python -m saca.experiments.reports.findings [--out docs] [--workers 2] [--backend process]
    python -m saca.experiments.reports.findings --report-only      # rewrite FINDINGS.md from
    stored runs

It runs the analyses of :data:`ANALYSES`, each a ``saca`` command on an example spec (so
each is resumable: run it again after a kill and it continues where it stopped):

1. ``saca sensitivity experiments/specs/dials_sobol.toml --method sobol``: the six dials
   ranked by total-order Sobol index on efficacy, trust and burnout, and
   ``dials_morris.toml`` with ``--method morris`` as a cheaper cross-check;
2. ``saca map`` on ``map_risk_capacity.toml`` and ``map_volatility_cohesion.toml`` (an
   emergency) and ``map_ordinary_capacity_needs.toml`` (ordinary times): which regime
   wins where, the cells where the CIs overlap marked, and the Pareto fronts of dial
   settings;
3. ``saca discover experiments/specs/discovery_situation.toml``: the boxes of situations
   where autonomy beats construction (PRIM), and again on the same runs for a large lead
   (``--margin``), which needs no new runs;
4. ``python -m saca.experiments.analyses.dials --out docs/findings/dials``: each dial moved from
   0 to 1 from the hybrid regime in the emergency, paired by seed: what each end buys and
   what it costs (run with ``--only dials``; it is not resumable, and reruns whole);
5. structural uncertainty: ``saca sensitivity experiments/specs/constants_morris.toml
   --samples 2`` (Morris over every behavioural constant with the dials) and ``saca
   uncertainty experiments/specs/constants_situation.toml --samples 32`` (the share of the
   constants-and-situation space each regime wins, PRIM boxes of where construction wins);
6. ``saca best-mix experiments/specs/best_mix.toml``: the best dial mix per cell of a map;
7. ``saca withdrawal`` (the sunk cadres withdrawn after the emergency and brought back;
   not resumable: ``--force`` moves its old results aside and it reruns whole);
8. an equity section collected from the maps and the dial contrasts (no runs of its own).

Then it writes ``FINDINGS.md`` beside ``findings/`` (``--out docs`` gives
``docs/findings/<analysis>/`` and ``docs/FINDINGS.md``) from the analyses' JSON and Parquet
files only: every number in the report is read from a file the report names, and each
analysis names its spec, the spec's hash and the root seed, so ``saca results
docs/findings/<analysis>/runs`` shows the runs behind it. Compute times come from the
sweeps' manifests (the CPU seconds of every stored run, however many sessions it took)
and from this script's own wall clock (``findings/timings.json``).
"""
