"""The analyses behind FINDINGS.md, each a saca command on an example spec: run and timed."""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.analyses.dials import workflow as dials
from saca.experiments.engine import io
from saca.experiments.engine.results import load_results

SPECS = Path(__file__).resolve().parents[2] / "specs"


OUTCOMES = ("efficacy", "trust_institution", "trust_resident_sunk", "burnout_mean")
"""The outcomes of the research question: efficacy, trust and burnout."""


PAPERWORK = "behaviour.paperwork_hours"
"""The declared constant whose value decides the control dial's contrast (see the dials
section of the report)."""


HALF_DISTRICT = {"households": 1200, "grids": 12, "communities": 3, "streets": 1}
"""The half district the analyses run (each cadre keeps the default load); the withdrawal
command takes it as ``--set`` overrides, the specs as their ``[fixed]`` table."""


LARGE_LEAD = 0.4
"""An efficacy lead of autonomy counted as large by the second discovery: about the median
lead over the discovery's situations (the leads run from about 0.2 to 0.5)."""


@dataclass(frozen=True)
class Analysis:
    """One analysis of the report: a saca command on an example spec or on stored runs.

    Args:
        name: the folder under ``findings/``.
        command: the saca subcommand.
        source: a spec's file name in ``experiments/specs``, or ``findings/<name>/runs``
            to analyse another analysis's stored runs again (no new runs).
        options: further command-line options.
        summary: the file the analysis writes its numbers to.
        title: the report's section title.
        kind: the key of its section in :data:`SECTIONS` (default: the command).
        backend: whether the command takes ``--backend``.
        resumable: whether the command takes ``--resume``; one that does not reruns
            whole, with ``--force`` moving its old results aside.
    """

    name: str
    command: str
    source: str
    options: tuple[str, ...]
    summary: str
    title: str
    kind: str = ""
    backend: bool = True
    resumable: bool = True

    @property
    def section(self) -> str:
        """The key of the analysis's section in :data:`SECTIONS`."""
        return self.kind or self.command

    @property
    def reuses_runs(self) -> bool:
        """True when the analysis reads another analysis's stored runs."""
        return self.source.startswith("findings/")

    def argv(self, out: Path, backend: str, workers: int) -> list[str]:
        """The saca command line of this analysis, resuming what is stored in ``out``.

        Args:
            out: the analysis folder (``<report folder>/findings/<name>``).
            backend: the sweep backend.
            workers: worker processes.
        """
        if self.reuses_runs:
            return [
                self.command,
                str(out.parent.parent / self.source),
                *self.options,
                "--out",
                str(out),
            ]
        run = ["--workers", str(workers)]
        run += ["--backend", backend] if self.backend else []
        run += ["--resume"] if self.resumable else ["--force"]
        spec = [str(SPECS / self.source)] if self.source else []
        return [self.command, *spec, *self.options, "--out", str(out), *run]

    def shown(self, out: Path) -> str:
        """The command as a reader would type it (paths relative to the repository).

        Args:
            out: the analysis folder.
        """
        root = SPECS.parent.parent
        if self.reuses_runs:
            source = [rel_path(out.parent.parent / self.source, root)]
        else:
            source = [f"experiments/specs/{self.source}"] if self.source else []
        return shlex.join(
            ["saca", self.command, *source, *self.options, "--out", rel_path(out, root)]
        )


ANALYSES = (
    Analysis(
        "sensitivity",
        "sensitivity",
        "dials_sobol.toml",
        ("--method", "sobol"),
        "indices.json",
        "Which dials matter: Sobol indices",
    ),
    Analysis(
        "screening",
        "sensitivity",
        "dials_morris.toml",
        ("--method", "morris"),
        "indices.json",
        "Which dials matter: Morris screening (a cross-check)",
    ),
    Analysis(
        "map_risk_capacity",
        "map",
        "map_risk_capacity.toml",
        (),
        "map.json",
        "Where each regime wins in an emergency: risk × capacity",
    ),
    Analysis(
        "map_volatility_cohesion",
        "map",
        "map_volatility_cohesion.toml",
        (),
        "map.json",
        "Where each regime wins in an emergency: rate of change × cohesion",
    ),
    Analysis(
        "map_ordinary",
        "map",
        "map_ordinary_capacity_needs.toml",
        (),
        "map.json",
        "Where each regime wins in ordinary times: capacity × need rate",
    ),
    Analysis(
        "discovery",
        "discover",
        "discovery_situation.toml",
        (),
        "boxes.json",
        "Where autonomy beats construction: scenario discovery",
    ),
    Analysis(
        "discovery_large_lead",
        "discover",
        "findings/discovery/runs",
        ("--margin", str(LARGE_LEAD)),
        "boxes.json",
        f"Where autonomy's lead in efficacy is large (> {LARGE_LEAD}): scenario discovery",
    ),
    Analysis(
        "constants_morris",
        "sensitivity",
        "constants_morris.toml",
        ("--samples", "2"),
        "indices.json",
        "Structural uncertainty: which constants and dials matter (Morris screening)",
        kind="constants",
    ),
    Analysis(
        "constants_situation",
        "uncertainty",
        "constants_situation.toml",
        ("--samples", "32"),
        "shares.json",
        "Structural uncertainty: where each regime wins over the constants and the situation",
        backend=False,
    ),
    Analysis(
        "best_mix",
        "best-mix",
        "best_mix.toml",
        (),
        "best_mix.json",
        "The best dial mix per situation",
        backend=False,
    ),
    Analysis(
        "withdrawal",
        "withdrawal",
        "",
        (
            "--regimes",
            "constructive,autonomous",
            "--replicates",
            "8",
            "--seed",
            "13",
            *(x for k, v in HALF_DISTRICT.items() for x in ("--set", f"situation.{k}={v}")),
        ),
        "withdrawal.json",
        "Withdrawal of the sunk cadres, and their return",
        backend=False,
        resumable=False,
    ),
)
"""The analyses of the report, in the order they run (a reanalysis after its runs)."""


def rel_path(path: Path, root: Path) -> str:
    """A path relative to the report folder, as the report names it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def run_analyses(
    out: Path, backend: str, workers: int, only: Sequence[str] | None = None
) -> dict[str, Any]:
    """Run (or resume) every analysis into ``out/findings/<name>`` and time it.

    Args:
        out: the report's folder (``docs``).
        backend: the sweep backend.
        workers: worker processes.
        only: run only these analyses (names); None runs all.

    Returns:
        name → ``{"wall_s", "exit", "command"}`` for the analyses run now.

    Raises:
        SystemExit: an analysis failed with an input error (exit 2).
    """
    from saca.experiments.cli.main import main as saca

    timings = read_timings(out)
    if only is None or "dials" in only:
        folder = out / "findings" / "dials"
        print("findings: python -m saca.experiments.analyses.dials", file=sys.stderr, flush=True)
        result = dials.run_contrasts(workers=workers)
        dials.write(result, folder)
        # The constant that decides the control dial: the same contrast without paperwork.
        free = dials.run_contrasts(workers=workers, dials=("control",), overrides={PAPERWORK: 0.0})
        dials.write(free, folder, "control_without_paperwork")
        timings["dials"] = {
            "command": "python -m saca.experiments.analyses.dials "
            f"--out {rel_path(folder, out.parent)}",
            "exit": 0,
            "wall_s_last_session": round(result["wall_seconds"], 1),
            "sessions": 1,
            "runs": result["runs"],
        }
        io.write_json(timings, out / "findings" / "timings.json")
    for a in ANALYSES:
        if only and a.name not in only:
            continue
        folder = out / "findings" / a.name
        print(f"findings: {a.shown(folder)}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        code = saca(a.argv(folder, backend, workers))
        wall = time.perf_counter() - t0
        if code == 2:
            raise SystemExit(f"findings: {a.name} stopped on an input error (see above)")
        previous = timings.get(a.name, {})
        timings[a.name] = {
            "command": a.shown(folder),
            "exit": code,
            "wall_s_last_session": round(wall, 1),
            "sessions": int(previous.get("sessions", 0)) + 1,
            **compute_seconds(folder),
        }
        io.write_json(timings, out / "findings" / "timings.json")
    return timings


def stored_compute(folder: Path) -> dict[str, float]:
    """Runs and CPU seconds of the sweeps anywhere under an analysis folder, from their
    manifests alone (which read across versions of the summary's columns).

    Args:
        folder: the analysis folder (``runs/``, or ``cells/<cell>/`` of a best mix).
    """
    runs = seconds = 0.0
    for path in sorted(folder.rglob("manifest.parquet")):
        m = pd.read_parquet(path, columns=["duration_s"])
        runs += len(m)
        seconds += float(m["duration_s"].fillna(0).sum())
    return {"runs": int(runs), "run_seconds": round(seconds, 1)} if runs else {}


def minutes_text(seconds: Any) -> str:
    """Seconds as minutes with one decimal, or ``?`` when not recorded."""
    return f"{float(seconds) / 60:.1f}" if seconds is not None else "?"


def read_timings(out: Path) -> dict[str, Any]:
    """The wall-clock seconds of each analysis (findings/timings.json), or none."""
    path = out / "findings" / "timings.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def compute_seconds(folder: Path) -> dict[str, float]:
    """CPU seconds and runs of every sweep stored under an analysis folder.

    Args:
        folder: the analysis folder (its sweeps are the subfolders with a meta.json).
    """
    runs = seconds = 0.0
    for meta in sorted(folder.glob("*/meta.json")):
        df = load_results(meta.parent)
        runs += len(df)
        seconds += float(df["duration_s"].sum())
    return {"runs": int(runs), "run_seconds": round(seconds, 1)}
