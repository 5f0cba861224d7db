"""Typed parameters with their ranges, meanings and source studies, kept in one place.

Every parameter of a run is a field of one of four dataclasses (`Situation`,
`Population`, `Behaviour` in :mod:`saca.model.situation` / :mod:`saca.model.population` /
:mod:`saca.model.behaviour`, and `Regime` in :mod:`saca.model.regime`). Each field is declared with
:func:`param`, which stores its range, meaning and source study in the field's metadata. The CLI's
``saca list``, the ``--set`` validation, the ODD tables and the app all read that metadata
through :func:`describe`, so a parameter is documented exactly once.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints


class SacaInputError(ValueError):
    """A user's mistake in a parameter, file or option: one line naming problem and fix."""


@dataclass(frozen=True)
class ParamInfo:
    """What is known about one parameter.

    Args:
        key: dotted key, e.g. ``regime.information``.
        kind: ``float``, ``int``, ``bool`` or ``choice``.
        default: default value.
        lo: lowest allowed value (numbers), or None.
        hi: highest allowed value (numbers), or None.
        choices: allowed values for a ``choice`` parameter.
        meaning: one sentence saying what it does.
        source: the source study (``000``–``004``), ``calibration`` or ``assumption: <why>``.
    """

    key: str
    kind: str
    default: Any
    lo: float | None
    hi: float | None
    choices: tuple[str, ...] | None
    meaning: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of this description."""
        return dataclasses.asdict(self)


def param(
    default: Any,
    meaning: str,
    source: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    choices: Iterable[str] | None = None,
) -> Any:
    """Declare a dataclass field carrying its range, meaning and source study.

    Args:
        default: the default value.
        meaning: what the parameter does, one sentence.
        source: the source study it comes from (``"000"``…``"004"``, several joined by ``/``, or
            ``"calibration"`` for a magnitude chosen by the modellers).
        lo: inclusive lower bound for numbers.
        hi: inclusive upper bound for numbers.
        choices: the allowed strings for a choice parameter.
    """
    meta = {
        "meaning": meaning,
        "source": source,
        "lo": lo,
        "hi": hi,
        "choices": tuple(choices) if choices is not None else None,
    }
    return field(default=default, metadata=meta)


def _kind(tp: Any, choices: tuple[str, ...] | None) -> str:
    if choices is not None:
        return "choice"
    if tp is bool:
        return "bool"
    if tp is int:
        return "int"
    if tp is float:
        return "float"
    return "other"


def describe(group: str, cls: type) -> list[ParamInfo]:
    """List the scalar parameters of a parameter dataclass.

    Args:
        group: the dotted prefix, e.g. ``"regime"``.
        cls: the dataclass type.
    """
    return list(_describe(group, cls))


@functools.cache
def _describe(group: str, cls: type) -> tuple[ParamInfo, ...]:
    # Read once per class: every model built and every override checked asks again, and
    # resolving the type hints took ~50 ms a time (a tenth of a quick validation).
    hints = get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if "meaning" not in f.metadata:
            continue
        choices = f.metadata["choices"]
        out.append(
            ParamInfo(
                key=f"{group}.{f.name}",
                kind=_kind(hints[f.name], choices),
                default=f.default,
                lo=f.metadata["lo"],
                hi=f.metadata["hi"],
                choices=choices,
                meaning=f.metadata["meaning"],
                source=f.metadata["source"],
            )
        )
    return tuple(out)


def coerce(info: ParamInfo, value: Any) -> Any:
    """Check a value against a parameter's type and range and return it in its type.

    Args:
        info: the parameter's description.
        value: the value given by the user (from TOML or ``--set``).

    Raises:
        SacaInputError: wrong type or out of range, with the allowed values.
    """
    k = info.key
    if info.kind == "bool":
        if isinstance(value, bool):
            return value
        raise SacaInputError(f"{k} must be true or false, got {value!r}")
    if info.kind == "choice":
        if isinstance(value, str) and value in (info.choices or ()):
            return value
        raise SacaInputError(f"{k} must be one of {', '.join(info.choices or ())}, got {value!r}")
    if info.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise SacaInputError(f"{k} must be a whole number, got {value!r}")
    elif info.kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SacaInputError(f"{k} must be a number, got {value!r}")
        try:
            value = float(value)
        except OverflowError:  # a whole number too large for a float
            raise SacaInputError(
                f"{k} = {value} is out of range; allowed {info.lo} to {info.hi}"
            ) from None
        if value != value:
            raise SacaInputError(f"{k} must be a number, got nan")
    if (info.lo is not None and value < info.lo) or (info.hi is not None and value > info.hi):
        raise SacaInputError(f"{k} = {value} is out of range; allowed {info.lo} to {info.hi}")
    return value


def parse_value(text: str) -> Any:
    """Parse the right-hand side of ``--set KEY=VALUE`` as a TOML value, else a string.

    Args:
        text: the text after ``=``.
    """
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except ValueError:  # TOMLDecodeError, or an integer too long for Python to convert
        return text.strip()


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The one of ``choices`` closest to ``word`` (difflib, cutoff 0.6), or None.

    Every "did you mean" in saca comes from here.

    Args:
        word: what the user wrote.
        choices: the valid words.
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"did you mean 'x'? "`` for the closest of ``choices`` to ``word``, or ``""``.

    Args:
        word: what the user wrote.
        choices: the valid words.
    """
    close = closest(word, choices)
    return f"did you mean {close!r}? " if close else ""


def parse_toml(raw: str | bytes, source: str) -> dict[str, Any]:
    """Parse TOML text (bytes are read as UTF-8); a mistake is one line naming ``source``.

    Args:
        raw: the file's content.
        source: how the message names it, e.g. its path.

    Raises:
        SacaInputError: bad syntax or encoding.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return tomllib.loads(text)
    except ValueError as exc:  # bad syntax or encoding, or an integer too long to convert
        raise SacaInputError(f"cannot read {source}: {exc}; fix the TOML syntax") from None


def read_toml(path: str | Path, what: str = "file") -> tuple[dict[str, Any], str]:
    """Read a TOML file: its data and its text. Every TOML file saca reads comes here.

    Args:
        path: the file.
        what: what the file is, for the message when it is missing (``sweep spec``).

    Raises:
        SacaInputError: a missing or unreadable file or bad TOML, in one line.
    """
    p = Path(path)
    if not p.is_file():
        raise SacaInputError(f"{what} {path} does not exist or is not a file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SacaInputError(f"cannot read {path}: {exc}") from None
    return parse_toml(text, str(path)), text


def unknown_key_error(key: str, known: Iterable[str]) -> SacaInputError:
    """Build the error for an unknown key, with a "did you mean" when one is close.

    Args:
        key: the key the user gave.
        known: every valid key.
    """
    known = list(known)
    # The right name in the wrong group (situation.trust_gain) is the likeliest slip.
    tail = key.rsplit(".", 1)[-1]
    close = [k for k in known if k.rsplit(".", 1)[-1] == tail][:1]
    if not close:
        near = closest(key, known)
        close = [near] if near else []
    hint = f"; did you mean {close[0]}?" if close else "; run `saca list` for the keys"
    return SacaInputError(f"unknown parameter {key!r}{hint}")


def apply_values(obj: Any, group: str, values: Mapping[str, Any], known: Iterable[str]) -> Any:
    """Return a copy of a parameter dataclass with validated values replaced.

    Args:
        obj: the dataclass instance.
        group: its dotted prefix (``"regime"``…), used in error messages.
        values: field name → raw value.
        known: every valid dotted key, for "did you mean".
    """
    infos = {i.key.split(".", 1)[1]: i for i in describe(group, type(obj))}
    changes = {}
    for name, raw in values.items():
        if name not in infos:
            raise unknown_key_error(f"{group}.{name}", known)
        changes[name] = coerce(infos[name], raw)
    return dataclasses.replace(obj, **changes)
