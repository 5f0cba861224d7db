"""Progress of a batch of runs: a tqdm bar on a terminal, plain lines in a log.

A sweep sent to a file (CI, ``nohup``, SLURM) must still say how far it is: when stderr
is not a terminal, :class:`Progress` writes a line such as
``sweep foo: 120/4096 runs, 2 failed, 3.1 runs/s, eta 21 min`` at most every
``LINE_SECONDS`` seconds or every ``LINE_FRACTION`` of the work, whichever comes first,
and flushes it, so ``tail -f`` shows it at once. On a terminal it is a tqdm bar.
"""

from __future__ import annotations

import math
import sys
import time
from typing import IO, Any

from tqdm import tqdm

LINE_SECONDS = 10.0
"""Longest gap between two progress lines in a log (seconds)."""
LINE_FRACTION = 0.05
"""A progress line is also written whenever this fraction of the work is done."""


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def is_terminal(stream: IO[str]) -> bool:
    """Whether ``stream`` is an interactive terminal (where a bar can redraw itself)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False


class Progress:
    """Count finished runs and show it: a bar on a terminal, else plain timed lines.

    Use as a context manager; call :meth:`update` once per finished run.

    Args:
        total: runs in the whole batch (including ones already done).
        label: how lines name the batch, e.g. ``sweep foo``.
        initial: runs already done before this session (a resumed sweep).
        unit: what is counted (``run``).
        show: True always, False never, None: a bar on a terminal, lines otherwise.
        stream: where to write (default stderr).
        every: seconds between lines in a log.
        fraction: also write a line whenever this fraction of ``total`` is done.
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        initial: int = 0,
        unit: str = "run",
        show: bool | None = None,
        stream: IO[str] | None = None,
        every: float = LINE_SECONDS,
        fraction: float = LINE_FRACTION,
    ) -> None:
        self.total = int(total)
        self.label = label
        self.done = int(initial)
        self.initial = int(initial)
        self.failed = 0
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self.step = max(1, math.ceil(self.total * fraction))
        self._t0 = time.monotonic()
        self._last_t = self._t0
        self._last_n = self.done
        self._bar: Any = None
        self._lines = False
        if show is False:
            return
        if is_terminal(self.stream):
            self._bar = tqdm(
                total=self.total,
                initial=self.done,
                desc=label,
                unit=unit,
                file=self.stream,
                dynamic_ncols=True,
            )
            self._bar.set_postfix(failed=0)
        else:
            self._lines = True

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def update(self, n: int = 1, failed: int = 0) -> None:
        """Count ``n`` finished runs, ``failed`` of them failed.

        Args:
            n: runs finished.
            failed: of those, how many failed.
        """
        self.done += n
        self.failed += failed
        if self._bar is not None:
            self._bar.update(n)
            self._bar.set_postfix(failed=self.failed, refresh=False)
        elif self._lines:
            # update(0) is a heartbeat: a log hears from a batch of long runs every
            # ``every`` seconds even when none finished
            now = time.monotonic()
            due = now - self._last_t >= self.every or self.done - self._last_n >= self.step
            if due and self.done < self.total:
                self._write(now)

    def line(self, now: float | None = None) -> str:
        """The progress as one line, e.g. ``sweep foo: 120/4096 runs, 2 failed, ...``."""
        now = time.monotonic() if now is None else now
        ran = self.done - self.initial
        elapsed = max(now - self._t0, 1e-9)
        rate = ran / elapsed
        left = self.total - self.done
        text = f"{self.label}: {self.done}/{self.total} {self.unit}s, {self.failed} failed"
        if ran:
            per = f"{rate:.1f} {self.unit}s/s" if rate >= 0.1 else f"{1 / rate:.0f} s/{self.unit}"
            text += f", {per}, eta {_duration(left / rate)}" if left else f", {per}"
        else:
            text += f", {_duration(elapsed)} elapsed"
        return text

    def _write(self, now: float) -> None:
        self.stream.write(self.line(now) + "\n")
        self.stream.flush()
        self._last_t, self._last_n = now, self.done

    def close(self) -> None:
        """Close the bar, or write the final line in a log."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._lines:
            self._write(time.monotonic())
            self._lines = False


def say(text: str, stream: IO[str] | None = None) -> None:
    """Write one line to stderr now (a plan line before the work starts)."""
    stream = stream if stream is not None else sys.stderr
    stream.write(text.rstrip("\n") + "\n")
    stream.flush()
