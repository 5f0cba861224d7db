"""Scenario discovery: the boxes of situation parameters where one regime beats another.

``saca discover SPEC.toml|DIR --out OUT`` answers "in which situations does autonomy beat
construction?" from a sweep over (situation) parameters under two or more regimes:

1. **Cases.** For every design point the paired difference ``regime − reference`` of one
   metric is averaged over the replicates. The regimes of a (point, replicate) share their
   seed (common random numbers), so the differences are paired. A point is a *case of
   interest* ("the regime wins") when the difference lies beyond ``margin`` in the metric's
   good direction: above ``+margin`` for a higher-is-better metric such as efficacy, below
   ``−margin`` for a lower-is-better one such as burnout. The share of cases is the *base
   rate*.
2. **PRIM** (the Patient Rule Induction Method, Friedman & Fisher 1999), in EMA Workbench's
   implementation (``ema_workbench.analysis.prim``, Kwakkel 2017), with its default lenient
   objective: peeling removes the ``peel_alpha`` quantile of one parameter at a time from
   the box, choosing the peel that raises the density of cases most per point removed,
   until the box holds less than ``mass_min`` of the points; pasting then widens the last
   box while that does not lower its density. Every box on this *peeling trajectory* has a
   coverage (share of all cases inside it), a density (share of its points that are cases)
   and a mass (share of all points inside it). The box retained is the one of
   highest coverage among those with density ≥ ``threshold`` (ties: the denser). Its
   restrictions come with Bryant & Lempert's (2010) quasi-p values (a one-sided binomial
   test of each restriction).
3. **More boxes.** As in EMA's repeated ``find_box`` (a covering approach), the points of a
   retained box are removed and PRIM looks for the next box among the rest, up to
   ``max_boxes`` boxes, while at least ``MIN_LEFT`` of the cases remain uncovered and a
   box reaches the threshold. Coverage and mass of later boxes are shares of all cases
   and all points.

Outputs in ``OUT``: ``boxes.json`` (settings, base rate, every box with its limits,
statistics and peeling trajectory, and the summary), ``boxes.parquet`` (one row per box
and restricted parameter), ``points.parquet`` (per design point: parameters, paired
difference, case), ``trajectory.png`` (coverage vs density, the chosen box marked) and
``boxes.png`` (each box's limits against the parameters' full ranges). With a spec the
sweep itself runs into ``OUT/runs`` (resumable, as ``saca sweep``).

:func:`export_ema` writes a stored sweep in EMA Workbench's format (``save_results`` of
the ``(experiments, outcomes)`` tuple), so EMA's own analyses read it with
``ema_workbench.load_results``.

EMA Workbench was chosen over a hand-written PRIM: it installs from PyPI on Python 3.12
with our numpy and pandas and gives peeling, pasting, the trajectory and quasi-p values;
it is imported only when a discovery or an export runs (it takes seconds to import).
"""
