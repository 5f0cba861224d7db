"""The expected verdicts (experiments/patterns/expected.toml): reading and regenerating them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from saca.experiments.analyses.validation.patterns import EXPECTED_FILE, VERDICTS, pattern_id
from saca.model import SacaInputError
from saca.model.parameters import read_toml


def load_expected(path: str | Path = EXPECTED_FILE) -> dict[str, dict[str, str]]:
    """The expected verdicts, ``{"quick": {id: verdict}, "full": {...}}``.

    Args:
        path: the TOML file.
    """
    data, _ = read_toml(path, "expected verdicts")
    out: dict[str, dict[str, str]] = {}
    for mode in ("quick", "full"):
        table = data.get(mode, {})
        for pid, v in table.items():
            if v not in VERDICTS:
                raise SacaInputError(f"{path}: [{mode}] {pid} = {v!r} is not a verdict")
        out[mode] = {pattern_id(k): v for k, v in table.items()}
    return out


def load_provenance(path: str | Path = EXPECTED_FILE) -> dict[str, dict[str, Any]]:
    """Which run produced each section of the expected verdicts: ``{"quick": {commit,
    timestamp, full, runs}, "full": {...}}`` (a section written by hand has none).

    Args:
        path: the TOML file.
    """
    data, _ = read_toml(path, "expected verdicts")
    prov = data.get("provenance", {})
    return {mode: dict(prov.get(mode, {})) for mode in ("quick", "full")}


EXPECTED_HEADER = """\
# Expected verdicts of `saca validate` (a pattern's verdict is judged on its emergent
# tests; "definitional only" when it has none). tests/test_validate.py runs the quick
# validation and fails when a pattern listed here as "reproduced" under [quick] is
# anything else.
#
# Written by `saca validate --write-expected` from a run of every pattern at its files'
# replicates, never by hand: [quick] from `saca validate --quick --write-expected`
# (72-day runs, 5 replicates), [full] from `saca validate --write-expected` (180 days,
# 10 replicates), the run behind docs/VALIDATION.md. [provenance.<mode>] records the
# commit whose code produced each section, and full = true only for the full run.
"""


def require_complete(complete: bool) -> None:
    """Refuse to write expected verdicts from a partial run (a subset of patterns, other
    replicates or other pattern files).

    Args:
        complete: the run covers every pattern file at its own replicates.

    Raises:
        SacaInputError: it does not.
    """
    if not complete:
        raise SacaInputError(
            "--write-expected needs a run of every pattern at its files' replicates: drop "
            "--pattern, --replicates and --patterns-dir"
        )


def write_expected(
    result: Mapping[str, Any], complete: bool, path: str | Path = EXPECTED_FILE
) -> Path:
    """Regenerate the section of the expected verdicts that the run's mode owns, from a
    complete run, recording the commit that produced it; the other section is kept.

    Args:
        result: the output of :func:`run_validation`.
        complete: the run covered every pattern file at its own replicates.
        path: the TOML file.

    Raises:
        SacaInputError: the run was not complete, or the file cannot be read.
    """
    require_complete(complete)
    path = Path(path)
    mode = result["meta"]["mode"]
    old = load_expected(path) if path.is_file() else {"quick": {}, "full": {}}
    prov = load_provenance(path) if path.is_file() else {"quick": {}, "full": {}}
    old[mode] = {p["id"]: p["verdict"] for p in result["patterns"]}
    meta = result["meta"]
    prov[mode] = {
        "commit": meta.get("git_commit") or "unknown",
        "timestamp": meta.get("timestamp", ""),
        "full": mode == "full",
        "runs": int(meta.get("runs", 0)),
    }
    lines = [EXPECTED_HEADER]
    for m in ("quick", "full"):
        if prov[m]:
            lines.append(f"[provenance.{m}]")
            for k, v in prov[m].items():
                # TOML literals: JSON's quoted strings, integers and lower-case booleans
                val = str(v).lower() if isinstance(v, bool) else json.dumps(v)
                lines.append(f"{k} = {val}")
            lines.append("")
    for m in ("quick", "full"):
        lines.append(f"[{m}]")
        ordered = sorted(old[m], key=lambda pid: int(pid[1:]))
        lines += [f'{pid} = "{old[m][pid]}"' for pid in ordered]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
