"""The app's state: the model it drives, its settings and address, its files, metrics as text."""

from __future__ import annotations

import functools
import html
import io as _io
import shlex
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from saca.experiments.engine import io, runner
from saca.experiments.engine.seeds import MAX_SEED, check_seed, seed_sequence
from saca.experiments.plots.live import (
    EFFICACY_WINDOW,
    rolling,
    series,
)
from saca.experiments.plots.style import regime_colour, short_label
from saca.model import CollaborationModel, SacaInputError
from saca.model.parameters import ParamInfo, coerce, describe, parse_value
from saca.model.regime import DIALS, Regime
from saca.model.scenario import load_regime, preset_names

REGIME_PARAMS: tuple[ParamInfo, ...] = tuple(describe("regime", Regime))
"""Every declared regime parameter, in declaration order: the sidebar has one input each."""


INFO = {p.key.split(".", 1)[1]: p for p in REGIME_PARAMS}
"""Regime parameter name → its declaration."""


REGIME_KEYS = tuple(INFO)
"""The regime parameters' names."""


SWITCHES = tuple(k for k in REGIME_KEYS if k not in DIALS)
"""The policy switches (every declared regime parameter that is not one of the dials)."""


DEFAULTS = {"scenario_name": "emergency", "preset": "hybrid", "seed": 42}


class AppModel(CollaborationModel):
    """:class:`CollaborationModel` with flat keyword parameters, as the sidebar sets them.

    A regime preset gives every regime parameter; any parameter given here (not None)
    replaces the preset's value. The model stops (``running = False``) at the end of the
    scenario's timeline, and records how long each step took (``step_seconds``).

    Mesa's Reset builds ``type(model)(**inputs)``. Each browser session gets a subclass
    (:func:`session_model`) whose ``remembered`` settings are the last model's: a
    parameter not given keeps its current value (the scenario, the seed, the preset and
    the regime values, unless the preset changes). ``AppModel`` itself remembers nothing.

    Args:
        scenario_name: scenario preset name or TOML path.
        preset: regime preset name or TOML path.
        seed: the model's seed (``rng``; the generator is ``SeedSequence(seed)``).
        scenario: Mesa's scenario object, which Mesa's Reset passes; ignored.
        **values: regime parameters by name (:data:`REGIME_KEYS`); None keeps the current
            (or the preset's) value.
    """

    remembered: dict[str, Any] | None = None
    """The last model's :attr:`settings` on a session subclass; None: remember nothing."""

    def __init__(
        self,
        scenario_name: str | None = None,
        preset: str | None = None,
        seed: int | None = None,
        scenario: Any = None,
        **values: Any,
    ) -> None:
        unknown = sorted(set(values) - set(REGIME_KEYS))
        if unknown:
            raise TypeError(f"unknown regime parameter(s): {', '.join(unknown)}")
        given = {k: v for k, v in values.items() if v is not None}
        last = type(self).remembered or {}
        scenario_name = scenario_name or last.get("scenario_name", DEFAULTS["scenario_name"])
        preset = preset or last.get("preset", DEFAULTS["preset"])
        seed = int(last.get("seed", DEFAULTS["seed"]) if seed is None else seed)
        if last.get("preset") == preset:  # same preset: keep the current regime values
            given = {**{k: last[k] for k in REGIME_KEYS if k in last}, **given}
        overrides = {f"regime.{k}": v for k, v in given.items()}
        # SeedSequence(seed), as `saca run --seed` gives its model: the same seed
        # reproduces the app's run on the command line (Mesa seeds an int differently).
        super().__init__(
            scenario=scenario_name,
            regime=preset,
            rng=seed_sequence(seed),
            overrides=overrides,
        )
        self.scenario_name, self.preset, self.seed = scenario_name, preset, seed
        self.step_seconds: list[float] = []
        if type(self).remembered is not None:
            type(self).remembered = self.settings

    @property
    def settings(self) -> dict[str, Any]:
        """Scenario, preset, seed and every regime value of this model."""
        return {
            "scenario_name": self.scenario_name,
            "preset": self.preset,
            "seed": self.seed,
            **{k: getattr(self.regime, k) for k in REGIME_KEYS},
        }

    @property
    def edits(self) -> dict[str, Any]:
        """The regime values that differ from the preset's (name → value)."""
        return edits(self.settings)

    @property
    def finished(self) -> bool:
        """The run reached the end of the scenario's timeline."""
        return self.steps >= self.situation.days

    def step(self) -> None:
        """One day; the model stops running (Mesa's play loop ends) after the last day of
        the timeline."""
        t0 = time.perf_counter()
        super().step()
        self.step_seconds.append(time.perf_counter() - t0)
        if self.finished:
            self.running = False


def regime_values(preset: str) -> dict[str, Any]:
    """Every regime parameter of a regime preset.

    Args:
        preset: regime preset name or TOML path.
    """
    return dict(_preset_values(preset))


@functools.lru_cache(maxsize=64)
def _preset_values(preset: str) -> tuple[tuple[str, Any], ...]:
    # Read once: the status line asks on every step whether the regime was edited.
    _, reg = load_regime(preset)
    return tuple((k, getattr(reg, k)) for k in REGIME_KEYS)


def edits(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The regime values in ``settings`` that differ from its preset's.

    Args:
        settings: an :attr:`AppModel.settings`-like dict.
    """
    base = regime_values(settings["preset"])
    return {k: settings[k] for k in REGIME_KEYS if k in settings and settings[k] != base[k]}


def session_model() -> type[AppModel]:
    """A subclass of :class:`AppModel` for one browser session, remembering its last
    model's settings (so an input left out of a Reset keeps its value)."""
    return type("SessionModel", (AppModel,), {"remembered": {}})


def default_settings() -> dict[str, Any]:
    """The settings the app opens with when its address names none."""
    return {**DEFAULTS, **regime_values(DEFAULTS["preset"])}


def _toml(value: Any) -> str:
    """A value as ``--set`` parses it back (TOML scalars; bare words are strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def run_command(settings: Mapping[str, Any], steps: int, out: str = "saca-run") -> str:
    """The ``saca run`` command that reproduces a run of the app day for day.

    Args:
        settings: the run's :attr:`AppModel.settings`.
        steps: days run.
        out: the ``--out`` directory of the command.
    """
    words = [
        "saca",
        "run",
        "--scenario",
        str(settings["scenario_name"]),
        "--regime",
        str(settings["preset"]),
        "--seed",
        str(settings["seed"]),
        "--steps",
        str(steps),
    ]
    for k, v in edits(settings).items():
        words += ["--set", f"regime.{k}={_toml(v)}"]
    words += ["--out", out]
    return shlex.join(words)


def timeseries_csv(model: CollaborationModel) -> str:
    """The run's daily metrics as CSV, the columns of ``saca run --out``'s
    ``timeseries.parquet`` (``day``, ``phase``, then every metric).

    Args:
        model: the model.
    """
    return model.timeseries().reset_index().to_csv(index=False)


def run_json(model: AppModel) -> str:
    """The run's settings and summary as JSON: the ``meta.json`` of ``saca run --out``
    (every parameter, seeding, versions), the summary per window, and the command.

    Args:
        model: the model.
    """
    dotted = {f"regime.{k}": v for k, v in model.edits.items()}
    scenario, name, reg = runner.resolve(model.scenario_name, model.preset, dotted)
    meta = io.run_meta(scenario, name, reg, dotted, model.seed, model.steps)
    summary = model.summary(by_phase=True) if model.steps else pd.DataFrame()
    body = {
        **meta,
        "command": run_command(model.settings, model.steps) if model.steps else None,
        "summary": {w: summary.loc[w].to_dict() for w in summary.index},
    }
    return io.dumps(body)


def figure_bytes(fig: Any, fmt: str) -> bytes:
    """A matplotlib figure saved as ``png`` or ``svg``.

    Args:
        fig: the figure.
        fmt: ``png`` or ``svg``.
    """
    buf = _io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150 if fmt == "png" else None)
    return buf.getvalue()


def state_query(settings: Mapping[str, Any]) -> str:
    """The query string that restores ``settings``: scenario, preset, seed and the regime
    values that differ from the preset.

    Args:
        settings: an :attr:`AppModel.settings`-like dict.
    """
    q = {
        "scenario": settings["scenario_name"],
        "preset": settings["preset"],
        "seed": settings["seed"],
        **{k: _toml(v) for k, v in edits(settings).items()},
    }
    return urllib.parse.urlencode(q)


def parse_query(search: str | None) -> tuple[dict[str, Any], list[str]]:
    """Settings from a query string (see :func:`state_query`), checked against the
    declarations; anything unusable is left at its default and named in the problems.

    Args:
        search: the query string, without ``?``; None or empty gives the defaults.

    Returns:
        ``(settings, problems)``.
    """
    q = dict(urllib.parse.parse_qsl(search or "", keep_blank_values=True))
    problems: list[str] = []
    out = dict(DEFAULTS)
    if q.get("scenario") in preset_names("scenarios"):
        out["scenario_name"] = q.pop("scenario")
    elif "scenario" in q:
        problems.append(f"unknown scenario {q.pop('scenario')!r}")
    if q.get("preset") in preset_names("regimes"):
        out["preset"] = q.pop("preset")
    elif "preset" in q:
        problems.append(f"unknown preset {q.pop('preset')!r}")
    if "seed" in q:
        text = q.pop("seed")
        try:
            out["seed"] = check_seed(int(text))
        except (ValueError, SacaInputError):
            problems.append(f"seed must be a whole number from 0 to {MAX_SEED}")
    out.update(regime_values(out["preset"]))
    for k, text in q.items():
        if k not in INFO:
            problems.append(f"unknown parameter {k!r}")
            continue
        try:
            out[k] = coerce(INFO[k], query_value(INFO[k], text))
        except SacaInputError as exc:
            problems.append(str(exc))
    return out, problems


def query_value(info: ParamInfo, text: str) -> Any:
    """A query value in the type of its parameter (the text itself for choices).

    Args:
        info: the parameter's declaration.
        text: the value as written in the address.
    """
    if info.kind == "choice":
        return text
    return parse_value(text)


ROWS = (
    "efficacy",
    "trust_resident_sunk",
    "trust_resident_community",
    "trust_cadre_cadre",
    "trust_institution",
    "burnout_mean",
    "burnout_share",
    "shirking_rate",
    "needs_open",
    "complaints",
)
"""The metrics of the app's table, in order (each named by its record's short name)."""


def row_label(metric: str) -> str:
    """A metric's name in the app's table: its record's short name (efficacy's rolling mean
    said).

    Args:
        metric: a metric of :data:`ROWS`.
    """
    name = short_label(metric)
    return f"{name} ({EFFICACY_WINDOW}-day mean)" if metric == "efficacy" else name


EFFICACY_NOTE = (
    "Efficacy is the share of the needs falling due that day that were resolved by their "
    "deadline: it is undefined (–) until the first needs fall due, and the first days rest "
    "on a handful of needs (one missed need reads as 0), so the 7-day mean starts on day "
    f"{EFFICACY_WINDOW}."
)


def current_metrics(model: CollaborationModel) -> dict[str, float]:
    """Today's value of each metric in :data:`ROWS` (efficacy as a 7-day mean, NaN until
    day 7); NaN on day 0."""
    out = {}
    for key in ROWS:
        x = series(model, key)
        if key == "efficacy":
            x = rolling(x)
            x[: EFFICACY_WINDOW - 1] = np.nan
        out[key] = float(x[-1]) if len(x) else float("nan")
    return out


COUNTS = ("needs_open", "complaints")


def metric_text(v: float, key: str) -> str:
    """A metric's value as the app's table shows it (counts whole, others to 3 decimals)."""
    if not np.isfinite(v):
        return "–"
    return f"{v:.0f}" if key in COUNTS else f"{v:.3f}"


def metrics_html(columns: Sequence[tuple[str, CollaborationModel]]) -> str:
    """A small HTML table of :func:`current_metrics`, one column per model. Each value
    cell carries ``data-metric`` and ``data-model`` attributes (the browser test reads
    them).

    Args:
        columns: ``(label, model)`` pairs.
    """
    vals = [(lab, current_metrics(m)) for lab, m in columns]
    head = "".join(
        f"<th style='text-align:right;padding:0 8px'>{html.escape(lab)}</th>" for lab, _ in vals
    )
    rows = []
    for key in ROWS:
        cells = "".join(
            f"<td data-metric='{key}' data-model='{html.escape(lab)}' style='text-align:right;"
            f"padding:0 8px;font-variant-numeric:tabular-nums'>{metric_text(v[key], key)}</td>"
            for lab, v in vals
        )
        rows.append(f"<tr><td>{row_label(key)}</td>{cells}</tr>")
    return (
        "<table class='saca-metrics' style='font-size:14px;border-collapse:collapse'>"
        f"<tr><th></th>{head}</tr>{''.join(rows)}</table>"
    )


def step_time_text(model: AppModel) -> str:
    """How long the last steps took, for the Explore page."""
    s = getattr(model, "step_seconds", [])
    if not s:
        return "no step yet"
    recent = s[-10:]
    return f"last step {1000 * s[-1]:.0f} ms (mean of last {len(recent)}: " + (
        f"{1000 * sum(recent) / len(recent):.0f} ms)"
    )


def regime_label(model: AppModel) -> str:
    """The regime's name as shown: the preset, with "(modified)" when edited."""
    return f"{model.preset} (modified)" if model.edits else model.preset


def status_line(model: AppModel) -> str:
    """The run's status line: day, phase, scenario, regime, seed."""
    state = "Finished · " if model.finished else ""
    return (
        f"{state}Day {model.steps} of {model.situation.days} · phase {model.phase} · "
        f"scenario {model.scenario_name} · regime {regime_label(model)} · seed {model.seed}"
    )


def model_colour(model: AppModel) -> str:
    """The colour of a model's regime (its preset's, or the edited colour)."""
    return regime_colour(model.preset, modified=bool(model.edits))
