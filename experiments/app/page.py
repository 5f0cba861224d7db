"""The saca app: a browser page for exploring the SACA model, built on Mesa's SolaraViz parts.

Run it with ``saca app`` (or ``solara run experiments/app/page.py``). The sidebar holds Mesa's
run controls (Reset, play/pause, Step), the regime preset, and an input for the scenario,
the seed and every regime parameter declared in :mod:`saca.model.regime` (range, meaning and
source seed from the declaration, shown as a tooltip). Edits take effect on Reset; until
then the sidebar says what is pending. Four named pages:

- **Explore**: the run's status, time series of efficacy, trust and burnout through the
  (named) phases, today's metrics, and one community's network.
- **Compare**: the sidebar's regime, edits included, against any preset on the same
  scenario and seed; the sidebar's Reset and Step drive both.
- **Replicates**: N seeds of the sidebar's regime and of the compared preset on the sweep
  engine (:mod:`saca.experiments.engine.sweep`) in the background: mean ± 95% band per day and the
  paired differences of the key metrics.
- **Export**: the run's time series (CSV), settings and summary (JSON), figures (PNG,
  SVG), and the ``saca run`` command that reproduces it.

The page's address encodes scenario, preset, seed and regime edits (``?scenario=…&
preset=…&seed=…&information=0.3``); opening it restores that state. Figures are
matplotlib images drawn on the server, so the page needs no plotting library from a CDN;
:mod:`saca.experiments.app.assets` installs the rest of Solara's front end.
"""

from __future__ import annotations

import functools
import html
import io as _io
import math
import shlex
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import solara
import solara.lab
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from saca.experiments import stats
from saca.experiments.engine import io, runner
from saca.experiments.engine.backends.base import execute
from saca.experiments.engine.plan import SweepPlan, prepare
from saca.experiments.engine.seeds import MAX_SEED, check_seed, seed_sequence
from saca.experiments.engine.spec import parse_spec
from saca.experiments.plots.figures import KEY_METRICS, label
from saca.experiments.plots.live import (
    EFFICACY_WINDOW,
    NetworkPlot,
    SeriesPlot,
    band_figure,
    rolling,
    series,
)
from saca.experiments.plots.style import regime_colour
from saca.model import CollaborationModel, SacaInputError
from saca.model.parameters import ParamInfo, coerce, describe, parse_value
from saca.model.regime import DIALS, Regime
from saca.model.scenario import load_regime, preset_names

TITLE = "saca: constructive vs autonomous collaboration"
"""The page's title (browser tab and app bar)."""

REGIME_PARAMS: tuple[ParamInfo, ...] = tuple(describe("regime", Regime))
"""Every declared regime parameter, in declaration order: the sidebar has one input each."""
INFO = {p.key.split(".", 1)[1]: p for p in REGIME_PARAMS}
"""Regime parameter name → its declaration."""
REGIME_KEYS = tuple(INFO)
"""The regime parameters' names."""
SWITCHES = tuple(k for k in REGIME_KEYS if k not in DIALS)
"""The policy switches (every declared regime parameter that is not one of the dials)."""

DEFAULTS = {"scenario_name": "emergency", "preset": "hybrid", "seed": 42}
REFERENCE = "autonomous"
"""The preset the Compare and Replicates pages start with (constructive if the sidebar
runs autonomous)."""
REPLICATES = 5
"""Seeds per regime the Replicates page offers first."""


# ----- the model the app drives ---------------------------------------------------------
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


# ----- reproducing a run ----------------------------------------------------------------
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
    spec, name, reg = runner.resolve(model.scenario_name, model.preset, dotted)
    meta = io.run_meta(spec, name, reg, dotted, model.seed, model.steps)
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


# ----- the address ----------------------------------------------------------------------
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


# ----- metrics as text ------------------------------------------------------------------
ROWS = (
    ("efficacy", f"Efficacy ({EFFICACY_WINDOW}-day mean)"),
    ("trust_resident_sunk", "Trust resident–sunk"),
    ("trust_resident_community", "Trust resident–community"),
    ("trust_cadre_cadre", "Trust cadre–cadre"),
    ("trust_institution", "Trust in institutions"),
    ("burnout_mean", "Burnout (mean exhaustion)"),
    ("burnout_share", "Burned-out share"),
    ("shirking_rate", "Shirking rate"),
    ("needs_open", "Open needs"),
    ("complaints", "Complaints today"),
)

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
    for key, _ in ROWS:
        x = series(model, key)
        if key == "efficacy":
            x = rolling(x)
            x[: EFFICACY_WINDOW - 1] = np.nan
        out[key] = float(x[-1]) if len(x) else float("nan")
    return out


COUNTS = ("needs_open", "complaints")


def _fmt(v: float, key: str) -> str:
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
    for key, name in ROWS:
        cells = "".join(
            f"<td data-metric='{key}' data-model='{html.escape(lab)}' style='text-align:right;"
            f"padding:0 8px;font-variant-numeric:tabular-nums'>{_fmt(v[key], key)}</td>"
            for lab, v in vals
        )
        rows.append(f"<tr><td>{name}</td>{cells}</tr>")
    return (
        "<table class='saca-metrics' style='font-size:14px;border-collapse:collapse'>"
        f"<tr><th></th>{head}</tr>{''.join(rows)}</table>"
    )


def _ms(model: AppModel) -> str:
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


def _status(model: AppModel) -> str:
    state = "Finished · " if model.finished else ""
    return (
        f"{state}Day {model.steps} of {model.situation.days} · phase {model.phase} · "
        f"scenario {model.scenario_name} · regime {regime_label(model)} · seed {model.seed}"
    )


def _colour(model: AppModel) -> str:
    return regime_colour(model.preset, modified=bool(model.edits))


# ----- the sidebar ----------------------------------------------------------------------
def slider_step(info: ParamInfo) -> float:
    """The slider step of a numeric parameter: about 1/20 of a power of ten under its
    range (0.05 for a 0–1 dial, 0.5 for 0–14); typed values need not be on a step."""
    span = float(info.hi) - float(info.lo)
    if info.kind == "int":
        return max(1, int(10 ** math.floor(math.log10(span)) / 10)) if span >= 1 else 1
    return 10 ** math.floor(math.log10(span)) / 20 if span > 0 else 0.05


def tooltip(info: ParamInfo) -> str:
    """A parameter's tooltip, from its declaration: meaning, range or choices, source."""
    if info.kind == "choice":
        allowed = "one of " + ", ".join(info.choices or ())
    elif info.kind == "bool":
        allowed = "on or off"
    else:
        allowed = f"range {info.lo:g} to {info.hi:g}"
    src = "calibration" if info.source == "calibration" else f"seed {info.source}"
    extra = " (0 = constructive, 1 = autonomous)" if info.key.split(".")[-1] in DIALS else ""
    return f"{info.meaning}{extra}. {allowed}; source: {src}; default {info.default}."


def pending_changes(pending: Mapping[str, Any], settings: Mapping[str, Any]) -> list[str]:
    """What the inputs say that the model does not yet run: ``"name now → new"``.

    Args:
        pending: the inputs' values.
        settings: the model's :attr:`AppModel.settings`.
    """
    return [
        f"{k.replace('_name', '')} {settings.get(k)} → {v}"
        for k, v in pending.items()
        if settings.get(k) != v
    ]


@solara.component
def NumberInput(name: str, info: ParamInfo, value: float, on_value: Callable[[Any], None]) -> None:
    """A slider with the value beside it as a field that takes a typed value, range
    checked against the declaration."""
    error, set_error = solara.use_state("")

    def typed(v: float | None) -> None:
        if v is None:
            return
        try:
            on_value(coerce(info, int(v) if info.kind == "int" else float(v)))
            set_error("")
        except SacaInputError:
            set_error(f"allowed {info.lo:g} to {info.hi:g}")

    slider = solara.SliderInt if info.kind == "int" else solara.SliderFloat
    lab = name if name in DIALS else name.replace("_", " ")
    with solara.Row(style={"align-items": "center", "gap": "4px"}, classes=["saca-input"]):
        with solara.Column(style={"flex": "1 1 auto", "min-width": "0"}):
            slider(
                lab,
                value=value,
                min=info.lo,
                max=info.hi,
                step=slider_step(info),
                on_value=on_value,
                thumb_label=False,
            )
        field = solara.InputInt if info.kind == "int" else solara.InputFloat
        field(
            "",
            value=value,
            on_value=typed,
            dense=True,
            hide_details=True,
            classes=["saca-number", f"saca-number-{name}"],
            style={"max-width": "72px", "flex": "0 0 72px"},
        )
        with solara.Tooltip(tooltip(info)):
            solara.v.Icon(
                small=True, children=["mdi-information-outline"], class_=f"saca-tip saca-tip-{name}"
            )
    if error:
        solara.Text(error, classes=["saca-input-error"], style={"color": "#b00020"})


@solara.component
def ParamInputs(pending: solara.Reactive[dict], model: AppModel) -> None:
    """The scenario, the seed and every regime parameter, each showing its value."""

    def setter(key: str) -> Callable[[Any], None]:
        return lambda v: pending.set({**pending.value, key: v})

    p = pending.value
    solara.Select(
        "Scenario",
        value=p["scenario_name"],
        values=preset_names("scenarios"),
        on_value=setter("scenario_name"),
    )
    solara.InputInt(
        "Seed",
        value=p["seed"],
        on_value=lambda v: v is not None and v >= 0 and setter("seed")(int(v)),
        classes=["saca-seed"],
    )
    for name, info in INFO.items():
        if info.kind in ("float", "int") and info.lo is not None and info.hi is not None:
            NumberInput(name, info, p[name], setter(name))
            continue
        with solara.Row(style={"align-items": "center", "gap": "4px"}):
            if info.kind == "bool":
                solara.Checkbox(label=name.replace("_", " "), value=p[name], on_value=setter(name))
            elif info.kind == "choice":
                solara.Select(
                    name.replace("_", " "),
                    value=p[name],
                    values=list(info.choices or ()),
                    on_value=setter(name),
                )
            else:
                solara.InputText(
                    name, value=str(p[name]), on_value=setter(name), continuous_update=False
                )
            with solara.Tooltip(tooltip(info)):
                solara.v.Icon(
                    small=True,
                    children=["mdi-information-outline"],
                    class_=f"saca-tip saca-tip-{name}",
                )


@solara.component
def RunState(model: AppModel, pending: Mapping[str, Any]) -> None:
    """The sidebar's run state: finished, and edits waiting for Reset."""
    update_counter.get()
    if model.finished:
        solara.Success(
            f"Run finished: day {model.steps} of {model.situation.days}. Reset to run again.",
            dense=True,
            classes=["saca-finished"],
        )
    changes = pending_changes(pending, model.settings)
    if changes:
        solara.Warning(
            "Pending: press Reset to apply " + "; ".join(changes),
            dense=True,
            classes=["saca-pending"],
        )


# ----- the pages ------------------------------------------------------------------------
def _plots(model: AppModel, community: int) -> tuple[SeriesPlot, NetworkPlot]:
    """The model's figures, built on first use and kept on the model (updating a kept
    figure costs a fraction of building one)."""
    cache = model.__dict__.setdefault("_app_plots", {})
    if "series" not in cache:
        cache["series"] = SeriesPlot([(model.preset, _colour(model))], model.situation.timeline)
    if community not in cache:
        cache[community] = NetworkPlot(model, community, size=4.4)
    return cache["series"], cache[community]


def _regime_line(model: AppModel) -> str:
    r = model.regime
    dials = " · ".join(f"{d} {getattr(r, d):.2f}" for d in DIALS)
    return f"Regime now: {dials}"


@solara.component
def CommunityPicker(model: CollaborationModel, value: int, on_value: Callable) -> None:
    """A slider over the communities of the model."""
    n = int(model.structure.n_communities)
    if n > 1:
        v = min(value, n - 1)
        solara.SliderInt(f"Community {v}", value=v, min=0, max=n - 1, on_value=on_value)


CSS = """
.saca-series, .saca-pair-series, .saca-band { max-width: 1000px; }
.saca-network { max-width: 560px; }
.saca-replicate-table td, .saca-replicate-table th { padding: 2px 10px; text-align: right; }
.saca-replicate-table td:first-child { text-align: left; }
.saca-number input { text-align: right; }
"""
"""The page's own style: figures scale down with the window, never beyond their pixels."""


@solara.component
def Explore(model: AppModel) -> None:
    """The Explore page: status, time series, today's metrics, one community's network."""
    update_counter.get()
    community, set_community = solara.use_state(0)
    community = min(community, int(model.structure.n_communities) - 1)
    t0 = time.perf_counter()
    series_plot, network_plot = _plots(model, community)
    series_plot.update([model])
    network_plot.update()
    series_png, network_png = series_plot.png(), network_plot.png()
    draw_ms = 1000 * (time.perf_counter() - t0)
    with solara.Column(style={"padding": "4px 8px", "gap": "4px"}):
        solara.Text(_status(model), classes=["saca-status"])
        solara.Text(_regime_line(model), classes=["saca-regime"], style={"font-size": "13px"})
        solara.Image(series_png, classes=["saca-series"], width="100%")
        solara.Text(EFFICACY_NOTE, classes=["saca-note"], style={"font-size": "12px"})
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            with solara.Column(style={"min-width": "300px"}):
                solara.HTML(tag="div", unsafe_innerHTML=metrics_html([("value", model)]))
                solara.Text(_ms(model), classes=["saca-steptime"], style={"font-size": "12px"})
                solara.Text(
                    f"figures drawn in {draw_ms:.0f} ms",
                    classes=["saca-drawtime"],
                    style={"font-size": "12px"},
                )
                CommunityPicker(model, community, set_community)
            solara.Image(network_png, classes=["saca-network"], width="560px")


def reference_model(model: AppModel, preset: str) -> AppModel:
    """The compared preset's model for ``model``: same scenario and seed, stepped to the
    same day (kept on ``model``, so Reset starts it afresh).

    Args:
        model: the sidebar's model.
        preset: the compared preset.
    """
    refs = model.__dict__.setdefault("_app_refs", {})
    if preset not in refs:
        refs[preset] = AppModel(scenario_name=model.scenario_name, preset=preset, seed=model.seed)
    ref = refs[preset]
    while ref.steps < model.steps:
        ref.step()
    return ref


def _labels(model: AppModel, reference: str) -> tuple[str, str]:
    mine = regime_label(model)
    return (f"{mine} (sidebar)" if mine == reference else mine), reference


@solara.component
def Compare(model: AppModel, reference: solara.Reactive[str]) -> None:
    """The Compare page: the sidebar's regime against a chosen preset, same scenario and
    seed, both at the sidebar's day (its Reset and Step drive this page)."""
    update_counter.get()
    community, set_community = solara.use_state(0)
    ref = reference_model(model, reference.value)
    mine, theirs = _labels(model, reference.value)
    colours = (_colour(model), regime_colour(reference.value, 1))
    c = min(community, int(model.structure.n_communities) - 1)
    cache = model.__dict__.setdefault("_app_plots", {})
    key = ("compare", reference.value)
    if key not in cache:
        cache[key] = SeriesPlot(
            [(mine, colours[0]), (theirs, colours[1])], model.situation.timeline
        )
    cache[key].update([model, ref])
    series_png = cache[key].png()
    networks = []
    for lab, m in ((mine, model), (theirs, ref)):
        plots = m.__dict__.setdefault("_app_plots", {})
        if ("pair", c) not in plots:
            plots[("pair", c)] = NetworkPlot(m, c, size=3.3)
        plots[("pair", c)].update(f"{lab}: community {c}, day {m.steps}")
        networks.append(plots[("pair", c)].png())
    with solara.Column(style={"padding": "4px 8px", "gap": "4px"}):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
            solara.Text(
                f"The sidebar's regime, {mine}, against the preset ",
                classes=["saca-compare-status"],
            )
            solara.Select(
                "compared preset",
                value=reference.value,
                values=preset_names("regimes"),
                on_value=reference.set,
                style={"max-width": "220px"},
            )
            solara.Text(
                f"scenario {model.scenario_name}, seed {model.seed}, day {model.steps} of "
                f"{model.situation.days} ({model.phase}). The sidebar's Reset and Step drive "
                "both.",
                classes=["saca-compare-day"],
            )
        solara.Image(series_png, classes=["saca-pair-series"], width="100%")
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            solara.HTML(tag="div", unsafe_innerHTML=metrics_html([(mine, model), (theirs, ref)]))
            with solara.Column(style={"min-width": "260px"}):
                CommunityPicker(model, c, set_community)
        with solara.Row(style={"align-items": "flex-start"}):
            for img in networks:
                solara.Image(img, classes=["saca-pair-network"], width="410px")


# ----- replicates -----------------------------------------------------------------------
def replicate_plan(
    settings: Mapping[str, Any], regime: str, fixed: Mapping[str, Any], replicates: int
) -> SweepPlan:
    """A sweep plan of one regime replicated: root seed the sidebar's, so replicate ``r``
    has ``SeedSequence(seed, spawn_key=(0, r))`` under every regime (paired).

    Args:
        settings: the sidebar's settings (scenario and seed).
        regime: the regime preset.
        fixed: regime values replacing the preset's (dotted keys).
        replicates: seeds.
    """
    spec = parse_spec(
        {
            "sweep": {
                "name": "app",
                "scenario": settings["scenario_name"],
                "regimes": [regime],
                "replicates": int(replicates),
                "seed": int(settings["seed"]),
            },
            "fixed": dict(fixed),
        },
        label="app replicates",
    )
    return prepare(spec)


def run_replicates(
    settings: Mapping[str, Any],
    reference: str,
    replicates: int,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, Any]:
    """Replicates of the sidebar's regime (edits included) and of a reference preset on
    the sweep engine, with common random numbers.

    Args:
        settings: the sidebar's settings.
        reference: the reference preset.
        replicates: seeds per regime.
        progress: called with (runs done, runs in all) after each run.

    Returns:
        ``labels`` (sidebar's, reference's), ``timeseries`` (long), ``runs`` (one row
        per run: regime, replicate and every metric over the whole run) and ``stats``
        (:func:`saca.experiments.stats.compare_stats` with the reference first).
    """
    mine = f"{settings['preset']} (modified)" if edits(settings) else settings["preset"]
    if mine == reference:
        mine = f"{mine} (sidebar)"
    jobs = [
        (mine, settings["preset"], {f"regime.{k}": v for k, v in edits(settings).items()}),
        (reference, reference, {}),
    ]
    plans = [
        (lab, replicate_plan(settings, preset, fixed, replicates)) for lab, preset, fixed in jobs
    ]
    total = sum(p.n_runs for _, p in plans)
    done = 0
    series_parts, runs = [], []
    for lab, plan in plans:
        for task in plan.tasks(timeseries=True):
            out = execute(task)
            if out.status != "ok":
                raise RuntimeError(f"run {task.id} failed: {out.error}")
            series_parts.append(out.timeseries.assign(regime=lab))
            whole = out.summary[out.summary["window"] == "all"].assign(regime=lab)
            runs.append(whole)
            done += 1
            progress(done, total)
    ts = pd.concat(series_parts, ignore_index=True)
    table = pd.concat(runs, ignore_index=True)
    return {
        "labels": (mine, reference),
        "timeseries": ts,
        "runs": table,
        "stats": stats.compare_stats(table, [reference, mine], KEY_METRICS),
        "settings": dict(settings),
        "replicates": int(replicates),
        "timeline": plans[0][1].scenario.situation.timeline,
    }


def _ci(d: Mapping[str, float], key: str = "mean") -> str:
    v, lo, hi = d.get(key), d.get("lo"), d.get("hi")
    if v is None or not np.isfinite(v):
        return "–"
    if lo is None or not np.isfinite(lo):
        return f"{v:.3f}"
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def differences_html(result: Mapping[str, Any]) -> str:
    """The replicate table: each key metric's mean [95% CI] under both regimes and the
    paired difference (sidebar − reference) [95% CI]; ``data-metric`` on each row."""
    mine, ref = result["labels"]
    st = result["stats"]
    head = (
        f"<tr><th></th><th>{html.escape(mine)}</th><th>{html.escape(ref)}</th>"
        f"<th>difference ({html.escape(mine)} − {html.escape(ref)})</th></tr>"
    )
    rows = []
    for m in KEY_METRICS:
        d = st["differences"][mine][m]
        sig = np.isfinite(d["lo"]) and np.isfinite(d["hi"]) and (d["lo"] > 0 or d["hi"] < 0)
        style = "font-weight:bold" if sig else ""
        rows.append(
            f"<tr data-metric='{m}'><td>{label(m)}</td>"
            f"<td>{_ci(st['regimes'][mine][m])}</td><td>{_ci(st['regimes'][ref][m])}</td>"
            f"<td class='saca-diff' style='{style}'>{_ci(d, 'diff')}</td></tr>"
        )
    return (
        "<table class='saca-replicate-table' style='font-size:13px;border-collapse:collapse;"
        "font-variant-numeric:tabular-nums' cellpadding='3'>"
        f"{head}{''.join(rows)}</table>"
        "<div style='font-size:12px'>Whole-run values; mean [95% Student t CI] over the seeds; "
        "difference: paired over the same seeds (bold: the CI excludes 0).</div>"
    )


def replicate_png(result: Mapping[str, Any]) -> bytes:
    """The replicate figure (:func:`saca.experiments.plots.live.band_figure`) of a
    :func:`run_replicates` result, as PNG bytes."""
    mine, ref = result["labels"]
    modified = bool(edits(result["settings"]))
    labels = [
        (mine, regime_colour(result["settings"]["preset"], 0, modified)),
        (ref, regime_colour(ref, 1)),
    ]
    fig = band_figure(result["timeseries"], labels, result["timeline"])
    return figure_bytes(fig, "png")


@solara.component
def Replicates(model: AppModel, reference: solara.Reactive[str]) -> None:
    """The Replicates page: N seeds of the sidebar's regime and the compared preset, run
    in the background on the sweep engine, drawn as mean ± 95% band with the paired
    differences of the key metrics."""
    n, set_n = solara.use_state(REPLICATES)
    progress, set_progress = solara.use_state((0, 0))
    settings = model.settings

    def work() -> dict[str, Any]:
        return run_replicates(settings, reference.value, n, lambda d, t: set_progress((d, t)))

    task = solara.lab.use_task(work, dependencies=None, prefer_threaded=True)
    drawn = solara.use_ref((None, b""))
    with solara.Column(style={"padding": "4px 8px", "gap": "6px"}):
        solara.Text(
            f"Runs the sidebar's regime ({regime_label(model)}, edits included) and the "
            f"preset {reference.value} (chosen on Compare) on scenario {model.scenario_name} "
            f"for its whole timeline, seeds SeedSequence({model.seed}, spawn_key=(0, r)) "
            "shared by both regimes (paired).",
            classes=["saca-replicate-intro"],
        )
        with solara.Row(style={"align-items": "center"}):
            solara.InputInt(
                "seeds per regime",
                value=n,
                on_value=lambda v: v is not None and 2 <= v <= 200 and set_n(int(v)),
                style={"max-width": "160px"},
                classes=["saca-replicate-n"],
            )
            solara.Button(
                f"Run {n} seeds",
                on_click=lambda: (set_progress((0, 2 * n)), task()),
                disabled=task.pending,
                color="primary",
            )
            solara.Select(
                "compared preset",
                value=reference.value,
                values=preset_names("regimes"),
                on_value=reference.set,
                style={"max-width": "220px"},
            )
        if task.pending:
            done, total = progress
            solara.ProgressLinear(100 * done / max(total, 1))
            solara.Text(f"{done} of {total} runs done", classes=["saca-replicate-progress"])
        elif task.error:
            solara.Error(f"replicates failed: {task.exception}")
        elif task.finished and task.value is not None:
            result = task.value
            if drawn.current[0] is not result:  # draw once per result, not per render
                drawn.current = (result, replicate_png(result))
            png = drawn.current[1]
            solara.Image(png, classes=["saca-band"], width="100%")
            solara.HTML(tag="div", unsafe_innerHTML=differences_html(result))
            solara.FileDownload(
                lambda: result["runs"].to_csv(index=False),
                filename=f"saca-replicates-{result['replicates']}-seeds.csv",
                label="Download the runs (CSV)",
            )


# ----- export ---------------------------------------------------------------------------
def _stem(model: AppModel) -> str:
    return f"saca-{model.scenario_name}-{model.preset}-seed{model.seed}-day{model.steps}"


@solara.component
def Export(model: AppModel) -> None:
    """The Export page: the run's data, settings, figures and reproducing command."""
    update_counter.get()
    if model.steps == 0:
        solara.Info("Step the model first: there is nothing to export on day 0.")
        return
    cmd = run_command(model.settings, model.steps)
    stem = _stem(model)

    def series_fig() -> Any:
        plot = SeriesPlot([(model.preset, _colour(model))], model.situation.timeline)
        return plot.update([model])

    def network_fig() -> Any:
        return NetworkPlot(model, 0).update()

    with solara.Column(style={"padding": "4px 8px", "gap": "6px"}):
        solara.Text(f"This run: {_status(model)}.")
        solara.Text(
            "Reproduce it from a shell (same rows as the CSV below, in "
            "saca-run/timeseries.parquet):"
        )
        solara.HTML(
            tag="pre",
            unsafe_innerHTML=html.escape(cmd),
            classes=["saca-command"],
            style={
                "user-select": "all",
                "white-space": "pre-wrap",
                "background": "#f5f5f5",
                "padding": "8px",
                "font-size": "13px",
            },
        )
        with solara.Row(style={"flex-wrap": "wrap", "gap": "6px"}):
            solara.FileDownload(
                lambda: timeseries_csv(model),
                filename=f"{stem}.csv",
                label="Time series (CSV)",
                mime_type="text/csv",
            )
            solara.FileDownload(
                lambda: run_json(model),
                filename=f"{stem}.json",
                label="Settings and summary (JSON)",
                mime_type="application/json",
            )
            for fmt in ("png", "svg"):
                solara.FileDownload(
                    lambda fmt=fmt: figure_bytes(series_fig(), fmt),
                    filename=f"{stem}-series.{fmt}",
                    label=f"Time series figure ({fmt.upper()})",
                )
                solara.FileDownload(
                    lambda fmt=fmt: figure_bytes(network_fig(), fmt),
                    filename=f"{stem}-network.{fmt}",
                    label=f"Network figure ({fmt.upper()})",
                )


# ----- the page -------------------------------------------------------------------------
@solara.component
def PresetPicker(preset: str, on_preset: Callable[[str], None]) -> None:
    """The regime preset picker: choosing one rebuilds the model with it and moves every
    input to its values."""
    solara.Select("Preset", value=preset, values=preset_names("regimes"), on_value=on_preset)


PAGES = ("Explore", "Compare", "Replicates", "Export")


@solara.component
def Page() -> None:
    """The app: Mesa's run controls and the inputs in the sidebar, four named pages."""
    router = solara.use_router()
    start = solara.use_memo(lambda: parse_query(router.search), [])
    cls = solara.use_memo(session_model, [])
    first = solara.use_memo(lambda: cls(**start[0]), [])
    model = solara.use_reactive(first)
    pending = solara.use_reactive(first.settings)
    play_interval = solara.use_reactive(100)
    render_interval = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)
    current = model.value
    reference = solara.use_reactive("constructive" if current.preset == REFERENCE else REFERENCE)
    tab = solara.use_reactive(0)

    def on_preset(p: str) -> None:
        model.value = cls(scenario_name=current.scenario_name, preset=p, seed=current.seed)
        pending.value = model.value.settings

    loaded = solara.use_ref(False)

    def sync_address() -> None:
        # The address follows the model (not the inputs): it is what Reset last built.
        # Not on the first render: the browser's own address, read when the page mounts,
        # would overwrite it; the sidebar's link serves until the first change.
        if not loaded.current:
            loaded.current = True
            return
        if router.search != (q := state_query(current.settings)):
            router.push(f"{router.path or '/'}?{q}")

    solara.use_effect(sync_address, [current])

    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar():
        with solara.Card("Run", margin=0):
            # Keyed by the model: a new model (a preset picked) re-enables play and Step.
            ModelController(
                model,
                model_parameters=pending,
                play_interval=play_interval,
                render_interval=render_interval,
                use_threads=use_threads,
            ).key(f"controller-{id(current)}")
            RunState(current, pending.value)
            for problem in start[1]:
                solara.Warning(f"address: {problem}", dense=True)
            link = html.escape(f"?{state_query(current.settings)}")
            solara.HTML(
                tag="div",
                unsafe_innerHTML=f"<a class='saca-share' href='{link}'>Link to this run</a> "
                "(scenario, preset, seed and edits; opening it restores them)",
                style={"font-size": "12px", "margin-top": "6px"},
            )
        with solara.Card("Regime", margin=0):
            PresetPicker(current.preset, on_preset)
            ParamInputs(pending, current)
        with solara.Card("Play", margin=0):
            solara.SliderInt(
                f"Play interval: {play_interval.value} ms",
                value=play_interval,
                min=1,
                max=500,
                step=10,
            )
            solara.SliderInt(
                f"Days per step: {render_interval.value}",
                value=render_interval,
                min=1,
                max=30,
                step=1,
            )
    with solara.lab.Tabs(value=tab, lazy=True):
        with solara.lab.Tab(PAGES[0]):
            Explore(current)
        with solara.lab.Tab(PAGES[1]):
            Compare(current, reference)
        with solara.lab.Tab(PAGES[2]):
            Replicates(current, reference)
        with solara.lab.Tab(PAGES[3]):
            Export(current)
