"""The plan of a sweep: a spec resolved into its scenario, regimes, design points and runs.

Run ``(point, regime, replicate)`` has the id ``p{point:05d}-{regime}-r{rep:03d}`` and the
seed of :mod:`saca.experiments.engine.seeds` (the regimes of a design point and replicate
share it), so nothing depends on the order, the backend or the number of workers. Runs go
replicate by replicate (all points and regimes of replicate 0 first), so a sweep stopped
early still covers the whole design.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saca.experiments.engine import design as dsg
from saca.experiments.engine import io, runner, seeds
from saca.experiments.engine.spec import SweepSpec, check_size, load_spec, many
from saca.model import SacaInputError
from saca.model.metrics import windows
from saca.model.regime import Regime
from saca.model.scenario import Scenario, apply_overrides

RUN_ID = "p{point:05d}-{regime}-r{replicate:03d}"


def run_id(point: int, regime: str, replicate: int) -> str:
    """The stable id of a run, e.g. ``p00003-autonomous-r001``.

    Args:
        point: design point index.
        regime: regime label.
        replicate: replicate index.
    """
    return RUN_ID.format(point=point, regime=regime, replicate=replicate)


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, as sent to a worker.

    Args:
        id: the run id.
        point: design point index.
        regime: regime label.
        replicate: replicate index.
        seed_key: spawn key of the run's SeedSequence.
        root_seed: the sweep's root seed.
        scenario: the scenario with ``[fixed]`` applied.
        settings: the regime with ``[fixed]`` applied.
        overrides: the design point's values (dotted keys), applied in the worker.
        steps: days to run.
        timeseries: return the daily series too.
    """

    id: str
    point: int
    regime: str
    replicate: int
    seed_key: tuple[int, ...]
    root_seed: int
    scenario: Scenario
    settings: Regime
    overrides: dict[str, Any]
    steps: int
    timeseries: bool = False

    @property
    def seed_text(self) -> str:
        """The run's seed as ``saca run --seed`` takes it: ``root:key,key`` (e.g. ``5:3,0``
        is ``SeedSequence(5, spawn_key=(3, 0))``; see
        :func:`saca.experiments.engine.seeds.parse_seed`)."""
        return seeds.seed_text(self.root_seed, self.seed_key)


@dataclass(frozen=True)
class SweepPlan:
    """A spec resolved and validated: scenario, regimes, design, runs.

    Args:
        spec: the spec.
        scenario: the scenario with ``[fixed]`` applied.
        regimes: label → regime with ``[fixed]`` applied, in spec order.
        design: the design points.
        steps: days per run.
    """

    spec: SweepSpec
    scenario: Scenario
    regimes: dict[str, Regime]
    design: dsg.Design
    steps: int

    @property
    def n_runs(self) -> int:
        """Design points × regimes × replicates."""
        return len(self.design) * len(self.regimes) * self.spec.replicates

    @property
    def windows(self) -> list[str]:
        """The summary windows every run has: ``all`` and each phase the runs reach."""
        return [name for name, _, _ in windows(self.scenario.situation.timeline, self.steps)]

    @property
    def param_kinds(self) -> dict[str, str]:
        """Varied parameter key → kind, in spec order."""
        return {f.key: f.kind for f in self.design.factors}

    def ids(self) -> Iterator[str]:
        """Every run id, in run order (replicate, then point, then regime)."""
        for rep in range(self.spec.replicates):
            for point in range(len(self.design)):
                for label in self.regimes:
                    yield run_id(point, label, rep)

    def tasks(
        self, only: Iterable[str] | None = None, timeseries: bool = False
    ) -> Iterator[RunTask]:
        """The runs to do, in run order, built one at a time.

        Args:
            only: run ids to include; None includes all.
            timeseries: whether workers return daily series.
        """
        keep = None if only is None else set(only)
        crn = self.spec.common_random_numbers
        for rep in range(self.spec.replicates):
            for point in range(len(self.design)):
                values: dict[str, Any] | None = None
                for r_index, (label, reg) in enumerate(self.regimes.items()):
                    rid = run_id(point, label, rep)
                    if keep is not None and rid not in keep:
                        continue
                    if values is None:
                        values = self.design.values(point)
                    yield RunTask(
                        id=rid,
                        point=point,
                        regime=label,
                        replicate=rep,
                        seed_key=seeds.seed_key(point, rep, r_index, crn),
                        root_seed=self.spec.seed,
                        scenario=self.scenario,
                        settings=reg,
                        overrides=values,
                        steps=self.steps,
                        timeseries=timeseries,
                    )

    def inputs_hash(self) -> str:
        """SHA-256 of every resolved base parameter of the scenario and regimes."""
        flat = {label: io.flat_params(self.scenario, reg) for label, reg in self.regimes.items()}
        canon = json.dumps(io.jsonable(flat), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def prepare(spec: SweepSpec | str | Path) -> SweepPlan:
    """Resolve a spec and validate every run's parameters before any run starts.

    Loads the scenario and regimes with ``[fixed]`` applied, builds the design and applies
    every design point to every regime with :func:`saca.model.scenario.apply_overrides` (the
    same checks as ``--set``, including the scenario's consistency).

    Args:
        spec: a :class:`SweepSpec` or the path of a spec file.

    Raises:
        SacaInputError: anything wrong, in one line naming the spec.
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    check_size(spec)  # again: a spec may have been changed with dataclasses.replace
    label = spec.label
    regimes: dict[str, Regime] = {}
    scenario: Scenario | None = None
    problems = []
    for name in spec.regimes:  # every regime's mistake at once
        try:
            runner.resolve(spec.scenario, name, spec.fixed)
        except SacaInputError as exc:
            if f"{label}: {exc}" not in problems:
                problems.append(f"{label}: {exc}")
    if len(problems) > 1:
        raise many(problems)
    for name in spec.regimes:
        try:
            scenario, rlabel, reg = runner.resolve(spec.scenario, name, spec.fixed)
        except SacaInputError as exc:
            raise SacaInputError(f"{label}: {exc}") from None
        if rlabel in regimes:
            raise SacaInputError(
                f"{label}: two regimes are both named {rlabel!r}; give one file another name"
            )
        regimes[rlabel] = reg
    assert scenario is not None
    try:
        steps = runner.check_steps(spec.steps, scenario)
    except SacaInputError as exc:
        raise SacaInputError(f"{label}: {str(exc).replace('--steps', 'steps', 1)}") from None
    try:
        design = dsg.build(
            spec.design,
            spec.factors,
            spec.samples,
            spec.seed,
            spec.second_order,
            spec.levels or dsg.MORRIS_LEVELS,
        )
    except SacaInputError as exc:
        raise SacaInputError(f"{label}: {exc}") from None
    for point in range(len(design)):
        values = design.values(point)
        for rlabel, reg in regimes.items():
            try:
                apply_overrides(scenario, reg, values)
            except SacaInputError as exc:
                shown = ", ".join(f"{k}={v}" for k, v in values.items())
                raise SacaInputError(
                    f"{label}: design point {point} ({shown}) under regime {rlabel}: {exc}"
                ) from None
    return SweepPlan(spec, scenario, regimes, design, steps)


def plan_line(plan: SweepPlan) -> str:
    """One line naming the design, its size and the root seed of a checked sweep plan."""
    spec, d = plan.spec, plan.design
    what = {
        "factorial": "factorial design",
        "lhs": "Latin hypercube",
        "sobol": "Sobol (Saltelli) design",
        "morris": "Morris (elementary effects) design",
    }[d.kind]
    points = f"{len(d)} point{'s' if len(d) != 1 else ''}"
    regs = f"{len(plan.regimes)} regime{'s' if len(plan.regimes) != 1 else ''}"
    reps = f"{spec.replicates} replicate{'s' if spec.replicates != 1 else ''}"
    return (
        f"saca sweep {spec.name}: {what}, {points} x {regs} x {reps} = {plan.n_runs} runs "
        f"of {plan.steps} days (scenario {plan.scenario.name}, root seed {spec.seed})"
    )
