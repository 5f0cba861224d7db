"""Helpers the command modules share: status lines, the output folder's lock, stored files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from saca.experiments.engine import outdir
from saca.model import SacaInputError


def log(line: str) -> None:
    """Print a progress or status line on stderr (stdout holds the result)."""
    print(line, file=sys.stderr)


def claim(args: argparse.Namespace, command: str) -> Path | None:
    """Lock ``--out`` for a command without resumable work: new, empty, or ``--force``.

    Args:
        args: parsed arguments (``out``, ``force``).
        command: the command's name, recorded in the lock.
    """
    if not args.out:
        return None
    return outdir.claim(args.out, command, force=args.force, log=log)


def read(path: Path) -> Any:
    """A stored JSON or Parquet file, or one input error saying why it cannot be read.

    Args:
        path: a ``.json`` or ``.parquet`` file.
    """
    try:
        if path.suffix == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        import pandas as pd

        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise SacaInputError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None


def overrides_text(overrides: Any) -> str:
    """``, with situation.risk=0.9`` for a figure's title (empty without overrides)."""
    if not overrides:
        return ""
    return ", with " + ", ".join(f"{k}={v}" for k, v in dict(overrides).items())
