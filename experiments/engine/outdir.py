"""The one rule for every results folder (``--out DIR``): one writer, no overwrites.

Every command that writes a results folder (``run``, ``compare``, ``validate``, ``sweep``,
``sensitivity``, ``map``, ``discover``) goes through this module:

* **One writer per folder.** :func:`locked` takes an exclusive ``flock`` on ``DIR/.lock``
  *before* the folder's state is read and writes the holder's identity (command, sweep
  name, spec, pid, host, start time) into it, so a second writer is refused at once with
  one line naming the one that runs. The kernel drops the lock when its process dies,
  however it dies, so a killed writer never leaves a stale lock.
* **No overwrites.** :func:`claim` refuses a non-empty folder that is not the command's
  own resumable work; ``--force`` moves the old contents aside to ``DIR.old-<time>``
  (never deleting anything).
* **I/O errors are not user mistakes.** :class:`StorageError` (exit 3) carries one line
  naming the folder and the cause; :func:`storage_error` makes one from an ``OSError``.

Exit codes of every command are :data:`EXIT_CODES`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from saca.model import SacaInputError

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_STORAGE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_CODES = {
    EXIT_OK: "done: every run succeeded and every file is written",
    EXIT_FAILED: "some runs failed (recorded with their traceback; the others are stored)",
    EXIT_INPUT: "input error: a bad spec, option or --out; nothing was run",
    EXIT_STORAGE: "I/O or storage error: disk full, permissions, damaged files",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C, SIGTERM); finished runs are stored; resume",
}
"""What each exit code of ``saca`` means (README, section "Results folders")."""
LOCK = ".lock"


class StorageError(Exception):
    """An I/O or storage problem with a results folder, in one line (exit code 3)."""


def storage_error(exc: OSError, where: str | Path, fix: str = "") -> StorageError:
    """A one-line :class:`StorageError` naming the folder and the cause of an ``OSError``.

    Args:
        exc: the error (``ENOSPC``, ``EACCES``, ``EIO``, ...).
        where: the results folder.
        fix: what to do next (e.g. the resume command); a default is chosen by cause.
    """
    name = errno.errorcode.get(exc.errno or 0, "")
    cause = exc.strerror or str(exc) or type(exc).__name__
    what = f" ({exc.filename})" if exc.filename else ""
    if not fix:
        fix = (
            "free some space, then resume"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT)
            else "fix the folder's permissions or disk, then resume"
        )
    return StorageError(f"cannot write {where}: {cause}{f' [{name}]' if name else ''}{what}; {fix}")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def holder(out: str | Path) -> dict[str, Any]:
    """Who holds (or last held) the lock of ``out``: the identity its writer recorded.

    Args:
        out: the results folder.
    """
    try:
        return json.loads((Path(out) / LOCK).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def describe(who: Mapping[str, Any]) -> str:
    """A lock holder in words, e.g. ``saca sweep 'risk' (spec x.toml, pid 12 on host, ...)``.

    Args:
        who: the identity from :func:`holder`.
    """
    if not who:
        return "another saca command"
    name = f" {who['name']!r}" if who.get("name") else ""
    bits = [f"spec {who['spec']}" if who.get("spec") else ""]
    bits.append(f"pid {who.get('pid', '?')} on {who.get('host', '?')}")
    bits.append(f"since {who['started']}" if who.get("started") else "")
    return f"{who.get('command', 'saca')}{name} ({', '.join(b for b in bits if b)})"


@contextlib.contextmanager
def locked(out: str | Path, identity: Mapping[str, Any] | None = None) -> Iterator[Path]:
    """Be the only writer of ``out`` (created if needed) for the ``with`` block.

    Args:
        out: the results folder.
        identity: who writes (``command``, ``name``, ``spec``, ``spec_hash``); pid, host
            and start time are added.

    Raises:
        SacaInputError: another process writes ``out`` (the line names it), or ``out``
            cannot be created.
    """
    path = Path(out)
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SacaInputError(f"cannot create --out {out}: {exc.strerror}") from None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        yield path
        return
    try:
        fh = open(path / LOCK, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block
    except OSError as exc:
        raise storage_error(exc, path) from None
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            who = holder(path)
            # the holder writes its identity just after taking the lock: give it a moment
            for _ in range(20):
                if who:
                    break
                time.sleep(0.025)
                who = holder(path)
            mine = identity or {}
            same = bool(who.get("spec_hash")) and who.get("spec_hash") == mine.get("spec_hash")
            what = "the same sweep" if same else describe(who)
            raise SacaInputError(
                f"--out {out} is being written right now by {what}; wait for it to finish "
                "(or stop it), then " + ("resume with --resume" if same else "give another --out")
            ) from None
        record = {**(identity or {}), "pid": os.getpid(), "host": socket.gethostname()}
        record["started"] = _now()
        with contextlib.suppress(OSError):  # the identity is a courtesy; the lock is the rule
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(record) + "\n")
            fh.flush()
        yield path
    finally:
        if created and not holds_files(path):
            # refused before anything was written (e.g. no scheduler): leave no trace
            with contextlib.suppress(OSError):
                (path / LOCK).unlink()
                path.rmdir()
        fh.close()


def is_busy(out: str | Path) -> bool:
    """Whether another process holds the lock of ``out`` right now.

    Args:
        out: the results folder.
    """
    path = Path(out) / LOCK
    if not path.is_file():
        return False
    try:
        import fcntl
    except ImportError:  # pragma: no cover
        return False
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        return False


def prepare_out(out: str | Path) -> Path:
    """Check that an output directory can be used, without creating it.

    Args:
        out: the ``--out`` path.

    Raises:
        SacaInputError: the path is an existing file, or its nearest existing parent is a
            file.
    """
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise SacaInputError(f"--out {out} is an existing file; give a directory path")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise SacaInputError(f"--out {out} lies under the file {parent}; give a directory path")
    return path


def make_out(out: str | Path) -> Path:
    """Create the output directory (and parents).

    Args:
        out: the ``--out`` path, already checked with :func:`prepare_out`.

    Raises:
        SacaInputError: it cannot be created (permissions, read-only disk).
    """
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SacaInputError(f"cannot create --out {out}: {exc.strerror}") from None
    return path


def holds_files(path: Path) -> bool:
    """Whether ``path`` is a directory with anything but hidden files (e.g. its lock).

    Args:
        path: the directory.
    """
    return path.is_dir() and any(not p.name.startswith(".") for p in path.iterdir())


def move_aside(out: str | Path) -> Path:
    """Move the contents of ``out`` to a new sibling ``out.old-<UTC time>``; nothing deleted.

    Args:
        out: the folder.

    Returns:
        Where the old contents are now.
    """
    path = Path(out)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    dest = path.with_name(f"{path.name}.old-{stamp}")
    n = 1
    while dest.exists():
        n += 1
        dest = path.with_name(f"{path.name}.old-{stamp}-{n}")
    try:
        dest.mkdir()
        for p in sorted(path.iterdir()):
            if p.name != LOCK:
                os.replace(p, dest / p.name)
    except OSError as exc:
        raise storage_error(exc, path, "move its contents aside yourself") from None
    return dest


_HELD = contextlib.ExitStack()
"""Locks taken by :func:`claim`, held until :func:`release` (or the process ends)."""


def release() -> None:
    """Release every lock taken by :func:`claim` in this process."""
    _HELD.close()


def claim(
    out: str | Path,
    command: str,
    *,
    force: bool = False,
    own: Callable[[Path], bool] | None = None,
    what: str = "",
    log: Callable[[str], None] | None = None,
    identity: Mapping[str, Any] | None = None,
) -> Path:
    """Lock ``out`` for this command, then check it may take its results.

    The lock is taken first and held until :func:`release` (``saca`` releases it when the
    command ends; a killed process loses it). Under the lock, ``out`` may be new, empty
    (hidden files aside), or hold the command's own resumable work (``own(out)`` true).
    Anything else is refused in one line; with ``force`` its contents are moved to
    ``out.old-<time>`` (see :func:`move_aside`) and ``log`` is told where.

    Args:
        out: the ``--out`` path.
        command: the command's name for messages (``run``, ``compare``, ...).
        force: move old contents aside instead of refusing.
        own: whether a non-empty ``out`` is this command's own work to continue.
        what: what ``out`` should hold, for the message (default ``command``'s results).
        log: where to report a move (default: nowhere).
        identity: who writes, recorded in the lock (see :func:`locked`).

    Raises:
        SacaInputError: ``out`` is a file, lies under one, holds other results without
            ``force``, or is being written by another process.
    """
    path = prepare_out(out)
    with contextlib.ExitStack() as stack:
        stack.enter_context(locked(path, {"command": f"saca {command}", **(identity or {})}))
        if holds_files(path) and not (own is not None and own(path)):
            if not force:
                why = (
                    f"saca {command} does not overwrite results"
                    if own is None
                    else f"holds no {what or f'saca {command} work'}"
                )
                raise SacaInputError(
                    f"--out {out} is not empty and {why}; give a new or empty directory, or "
                    f"add --force to move its contents to {path.name}.old-<time>"
                )
            dest = move_aside(path)
            if log is not None:
                log(f"saca {command}: moved the old contents of {out} to {dest}")
        _HELD.enter_context(stack.pop_all())
    return path


def add_force_option(parser: Any) -> None:
    """Add ``--force`` (move what ``--out`` holds aside instead of refusing).

    Args:
        parser: an argparse parser.
    """
    parser.add_argument(
        "--force",
        action="store_true",
        help="if --out holds other results, move them to DIR.old-<time> (nothing is deleted) "
        "instead of refusing",
    )


def write_bytes(data: bytes, path: Path) -> Path:
    """Write a file so that it appears whole or not at all (temporary name, fsync, rename).

    Args:
        data: the contents.
        path: the final file.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


__all__ = [
    "EXIT_CODES",
    "EXIT_FAILED",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_STORAGE",
    "StorageError",
    "add_force_option",
    "claim",
    "describe",
    "holder",
    "holds_files",
    "is_busy",
    "locked",
    "move_aside",
    "release",
    "storage_error",
    "write_bytes",
]
