"""``saca withdrawal``: recall the sunk cadres after an emergency, bring them back, and ask
whether self-organisation persists, collapses or recovers, and whether the way back is
the way down (hysteresis).

The experiment (the response-threshold literature's removal experiment, issue 13) runs a
scenario whose timeline says, window by window, which sunk cadres are present
(``sunk = "all" | "in_service" | "none"``, docs/ODD.md §7). The shipped scenario
``withdrawal`` recalls the off-post cadres, then everyone, then sends them back in the
reverse order, 30 days a step. Every regime runs it twice with the same replicate seeds
(common random numbers): the *withdrawal* arm as given and a *control* arm with every
cadre present throughout, so that the effect of the withdrawal in a window is the paired
difference withdrawal − control, free of the slow drift the run would show anyway.

**Outcomes** (per day): efficacy, the claiming share (needs the system resolved that a
cadre chose: claimed from the task list or was consulted on), the self-help share (needs
residents solved through their own ties, of those that arose), residents' trust in
institutions, in community cadres and in sunk cadres, and the working trust between sunk
and community cadres. A window's value is the mean over its last ``tail`` days, when the
step has settled.

**Paths.** The *down path* is the window before the first recall and the windows down to
the lowest presence; the *up path* runs from the lowest presence back to the first
window with every cadre present again. The presence of a window is the mean daily share
of sunk cadres present. Hysteresis at a presence level: (up-path effect − down-path
effect), paired by seed, with a 95% t interval; a CI that excludes 0 means the way back
differs from the way down.

**Files** in ``DIR``: ``series.parquet`` (one row per run and day), ``windows.parquet``
(one row per run and window), ``withdrawal.json`` (the verdicts and every CI),
``timelines.png`` and ``hysteresis.png``.

Modules: :mod:`.method` (windows, daily measures, effects, hysteresis, verdicts),
:mod:`.figures` (draws the stored tables), :mod:`.workflow` (a checked
:class:`~.workflow.WithdrawalPlan` → runs → method → files) and :mod:`.command`
(``saca withdrawal``'s options and console text).
"""
