"""``saca list`` (regimes, scenarios, parameters) and ``saca app``."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from typing import Any

from saca.experiments import console
from saca.experiments.engine import io
from saca.model import SacaInputError
from saca.model.metrics import METRICS
from saca.model.scenario import all_params, load_scenario, preset_names
from saca.model.scenario import regime_description as _regime_description


def _range(info: Any) -> str:
    """A parameter's allowed values as ``saca list`` prints them."""
    if info.choices:
        return "|".join(info.choices)
    if info.kind == "bool":
        return "true|false"
    if info.lo is None and info.hi is None:
        return ""
    return f"{_g(info.lo)} .. {_g(info.hi)}"


def _g(x: Any) -> str:
    """A default or bound as ``saca list`` prints it (floats keep a decimal)."""
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return f"{x:.1f}"
    return str(x)


def cmd_list(args: argparse.Namespace) -> int:
    """``saca list``: regimes, scenarios and every parameter.

    Args:
        args: parsed arguments (``json``).
    """
    regimes = [{"name": n, "description": _regime_description(n)} for n in preset_names("regimes")]
    scenarios = []
    for n in preset_names("scenarios"):
        s = load_scenario(n)
        scenarios.append(
            {
                "name": n,
                "description": s.description,
                "days": s.situation.days,
                "phases": [p.name for p in s.situation.timeline],
            }
        )
    params = [p.as_dict() for p in all_params()]
    if args.json:
        console.emit(
            io.dumps(
                {
                    "regimes": regimes,
                    "scenarios": scenarios,
                    "parameters": params,
                    "metrics": list(METRICS),
                }
            )
        )
        return 0
    width = shutil.get_terminal_size((120, 24)).columns
    out = ["Regimes (--regime NAME, or a TOML file like model/presets/regimes/*.toml)"]
    out += [f"  {r['name']:<16} {r['description']}" for r in regimes]
    out += ["", "Scenarios (--scenario NAME, or a TOML file like model/presets/scenarios/*.toml)"]
    out += [
        f"  {s['name']:<16} {s['description']} [{s['days']} days: {', '.join(s['phases'])}]"
        for s in scenarios
    ]
    out += ["", "Parameters (--set KEY=VALUE; seed = source study 000-004 or calibration)"]
    rows = [[p.key, p.kind, _range(p), _g(p.default), p.source, p.meaning] for p in all_params()]
    header = ["key", "type", "range", "default", "seed", "meaning"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    left_w = sum(widths) + 2 * 5 + 2
    beside = width - left_w >= 40  # meaning in its own column, else on the next line
    for r in [header, *rows]:
        left = "  " + "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True))
        if beside:
            wrapped = textwrap.wrap(r[5], width - left_w) or [""]
            out.append(f"{left}  {wrapped[0]}")
            out += [" " * left_w + w for w in wrapped[1:]]
        elif r is header:
            out.append(f"{left.rstrip()}  (meaning on the line below)")
        else:
            out.append(left.rstrip())
            out += textwrap.wrap(r[5], width - 2, initial_indent=" " * 6, subsequent_indent=" " * 6)
        if r is header:
            out.append("  " + "  ".join("-" * w for w in widths))
    out += ["", *textwrap.wrap("Metrics: " + ", ".join(METRICS), width - 2)]
    console.emit("\n".join(out))
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    """``saca app``: serve the interactive app, or only unpack its front end.

    Args:
        args: parsed arguments (``host``, ``port``, ``open``, ``setup_assets``).
    """
    from saca.experiments.app import assets as app_assets

    if not 0 <= args.port <= 65535:
        raise SacaInputError(f"--port must be from 0 to 65535, got {args.port}")
    try:
        if args.setup_assets:
            done = app_assets.ensure_assets()
            print(f"saca app: front end ready in {app_assets.cache_dir()}", end="")
            print(f" (unpacked {', '.join(done)})" if done else " (nothing to do)")
            return 0
        return app_assets.serve(args.host, args.port, open_browser=args.open)
    except app_assets.AssetError as exc:
        print(f"saca: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
