"""``saca run``: one run (or one stored run of a sweep, redone), its summary and files."""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Any

from saca.experiments import console
from saca.experiments.cli.shared import claim
from saca.experiments.engine import advice, io, runner
from saca.experiments.engine.plan import prepare
from saca.experiments.engine.results import load_results, stored_spec
from saca.experiments.engine.seeds import parse_seed, run_seed, seed_text
from saca.experiments.plots.style import KEY_METRICS
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.parameters import did_you_mean


def cmd_run(args: argparse.Namespace) -> int:
    """``saca run``: one run; prints the summary, optionally writes files.

    Args:
        args: parsed arguments.
    """
    overrides = console.set_overrides(
        args.set, args.scenario or "baseline", [args.regime or "hybrid"] if not args.source else []
    )
    stored: dict[str, Any] | None = None
    if args.source is not None or args.id is not None:
        scenario, regime_name, reg, seed, overrides, stored = _stored_run(args, overrides)
        steps = runner.check_steps(args.steps or stored["steps"], scenario)
    else:
        scenario, regime_name, reg = runner.resolve(
            args.scenario or "baseline", args.regime or "hybrid", overrides
        )
        steps = runner.check_steps(args.steps, scenario)
        seed = parse_seed(args.seed if args.seed is not None else 0)
    for warning in advice.noop_overrides(scenario, overrides, steps):
        print(f"saca run: warning: {warning}", file=sys.stderr)
    seed_shown = seed_text(seed.entropy, seed.spawn_key) if not isinstance(seed, int) else seed
    out = claim(args, "run")
    # ---- all input checked: simulate
    from tqdm import tqdm

    with tqdm(total=steps, desc="days", unit="day", file=sys.stderr, disable=None) as bar:
        summary, ts = runner.run_one(scenario, reg, seed, steps, progress=bar.update)
    whole = {m: float(summary.loc["all", m]) for m in METRICS}
    phases = {
        w: {m: float(summary.loc[w, m]) for m in METRICS} for w in summary.index if w != "all"
    }
    meta = {
        "scenario": scenario.name,
        "regime": regime_name,
        "seed": seed_shown,
        "steps": steps,
        "overrides": overrides,
        **({"from": stored["from"], "id": stored["id"]} if stored else {}),
    }
    same = None
    if stored is not None and stored["row"] is not None:
        same = all(_same(whole[m], stored["row"].get(m)) for m in METRICS if m in stored["row"])
    if out is not None:
        io.write_parquet(ts.reset_index(), out / "timeseries.parquet")
        io.write_parquet(summary.reset_index(), out / "summary.parquet")
        full = io.run_meta(scenario, regime_name, reg, overrides, seed_shown, steps)
        if not isinstance(seed, int):
            full["seeding"] = "numpy.random.SeedSequence(N, spawn_key=(K1, ...)) of seed N:K1,..."
        if stored is not None:
            full.update(source=stored["from"], source_id=stored["id"], reproduces=same)
        io.write_json(full, out / "meta.json")
    if args.json:
        extra: dict[str, Any] = {}
        if args.timeseries:
            extra["timeseries"] = ts.reset_index().to_dict(orient="records")
        if same is not None:
            extra["reproduces_stored_run"] = same
        console.emit(io.dumps({**whole, "phases": phases, "meta": meta, **extra}))
        if out is not None:
            print(f"saca: wrote {out}", file=sys.stderr)
        return 0
    windows = list(summary.index)
    rows = [[m, *(console.num(summary.loc[w, m]) for w in windows)] for m in KEY_METRICS]
    sit = scenario.situation
    changed = ", ".join(f"{k}={v}" for k, v in overrides.items())
    text = [
        f"saca run: scenario {scenario.name}, regime {regime_name}, seed {seed_shown}, {steps} "
        f"days, {sit.households} households in {sit.communities} communities",
        *([f"run {stored['id']} of {stored['from']}"] if stored else []),
        *([f"overrides: {changed}"] if overrides else []),
        "",
        console.table(["metric", *windows], rows),
        "",
        f"all {len(METRICS)} metrics: --json or --out DIR",
    ]
    if args.timeseries:
        daily = ts.reset_index()
        text[-1:-1] = [
            console.table(
                ["day", "phase", *KEY_METRICS],
                [
                    [str(r["day"]), r["phase"], *(console.num(r[m]) for m in KEY_METRICS)]
                    for r in daily.to_dict(orient="records")
                ],
            ),
            "",
        ]
    if same is not None:
        text.append(
            "identical to the stored run's summary"
            if same
            else "warning: differs from the stored run's summary (the code or a preset "
            "changed since the sweep; see its meta.json git_commit)"
        )
    if out is not None:
        text.append(f"wrote {out}/timeseries.parquet, summary.parquet, meta.json")
    console.emit("\n".join(text))
    return 0


def _same(a: Any, b: Any) -> bool:
    """Equal floats, NaN equal to NaN (a metric undefined in both runs)."""
    a, b = float(a), float("nan") if b is None else float(b)
    return a == b or (a != a and b != b)


def _stored_run(
    args: argparse.Namespace, extra: dict[str, Any]
) -> tuple[Any, str, Any, Any, dict[str, Any], dict[str, Any]]:
    """Resolve ``saca run --from DIR --id RUN_ID``: the stored run's inputs and row."""
    if args.source is None or args.id is None:
        raise SacaInputError("--from DIR and --id RUN_ID go together: give both")
    given = [
        o
        for o, v in (
            ("--scenario", args.scenario),
            ("--regime", args.regime),
            ("--seed", args.seed),
        )
        if v is not None
    ]
    if given:
        raise SacaInputError(
            f"{', '.join(given)} cannot be combined with --from: the stored run fixes them; "
            "change parameters with --set"
        )
    src = Path(args.source)
    if not (src / "meta.json").is_file() and (src / "runs" / "meta.json").is_file():
        src = src / "runs"  # the runs of saca sensitivity, map or discover
    spec = stored_spec(src)
    plan = prepare(spec)
    task = next(iter(plan.tasks(only=[args.id])), None)
    if task is None:
        ids = list(itertools.islice(plan.ids(), 100_000))
        raise SacaInputError(
            f"--id {args.id!r} is not a run of {src}; {did_you_mean(args.id, ids)}"
            f"ids look like {ids[0]} (saca results {src} --csv FILE lists them)"
        )
    overrides = {**task.overrides, **extra}
    scenario, _, reg = runner.resolve(task.scenario, task.settings, overrides)
    row = None
    table = load_results(src)
    hit = table[(table["id"] == args.id) & (table["status"] == "ok")]
    if len(hit) and not extra:
        row = hit.iloc[0].to_dict()
    seed = run_seed(task.root_seed, task.seed_key)
    stored = {"from": str(src), "id": task.id, "steps": task.steps, "row": row}
    return scenario, task.regime, reg, seed, overrides, stored
