"""What FINDINGS.md's sections share: an analysis's stored results, numbers, tables."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from saca.experiments.reports.findings.run import Analysis


def load_result(out: Path, a: Analysis) -> dict[str, Any] | None:
    """An analysis's stored summary (JSON), or None if it has not run."""
    path = out / "findings" / a.name / a.summary
    return json.loads(path.read_text()) if path.is_file() else None


def commit_of(data: Mapping[str, Any]) -> str:
    """The short commit an analysis's stored result records, or ``?``."""
    return f"`{str(data['git_commit'])[:7]}`" if data.get("git_commit") else "?"


def short_key(key: str) -> str:
    """A parameter's key without its group (``regime.information`` → ``information``)."""
    return key.split(".", 1)[1] if "." in key else key


def fmt_num(x: Any, digits: int = 2) -> str:
    """A number with ``digits`` decimals (anything not a number as its text)."""
    try:
        return f"{float(x):.{digits}f}"
    except (TypeError, ValueError):
        return str(x)


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table's lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def and_list(words: Sequence[str]) -> str:
    """Words joined as ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def spec_name(path: Any) -> str:
    """A spec file's name without folder or suffix."""
    return "experiments/specs/" + Path(str(path)).name if path else "?"


def ranked_factors(data: Mapping[str, Any], output: str) -> tuple[pd.DataFrame, str, str]:
    """An output's indices, most influential dial first, and the index and CI columns."""
    key, conf = ("ST", "ST_conf") if data["method"] == "sobol" else ("mu_star", "mu_star_conf")
    idx = pd.DataFrame(data["indices"])
    return idx[idx["output"] == output].sort_values(key, ascending=False), key, conf


def ci_text(m: Mapping[str, Any], digits: int = 2, sign: bool = False) -> str:
    """``mean [lo, hi]`` of a ``{"mean", "lo", "hi"}`` record."""
    f = f"{{:+.{digits}f}}" if sign else f"{{:.{digits}f}}"
    return f"{f.format(m['mean'])} [{f.format(m['lo'])}, {f.format(m['hi'])}]"


def factor_kind(key: str) -> str:
    """What a factor is, by its group: a dial, a constant, the situation, or other."""
    return {"regime": "dial", "behaviour": "constant", "situation": "situation"}.get(
        key.split(".", 1)[0], "other"
    )
