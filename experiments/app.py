"""The saca app: Mesa's SolaraViz page for exploring the SACA model in a browser.

Run it with ``saca app`` (or ``solara run experiments/app.py``). The sidebar holds Mesa's
controls (Reset, play/pause, Step), a regime preset picker, and sliders and switches for
every regime parameter plus the scenario and seed; parameters take effect on Reset, and
picking a preset rebuilds the model with it. Two pages:

- **Page 0, one run**: today's metrics, time series of efficacy, trust (resident-sunk,
  resident-community, cadre-cadre) and burnout through the phases, and the network of one
  community: households coloured by trust, cadres by exhaustion.
- **Page 1, side by side**: the ``constructive`` and ``autonomous`` presets on the same
  scenario with the same seed, stepped together and drawn together.

Figures are matplotlib images drawn on the server, so the page needs no plotting library
from a CDN; :mod:`experiments.app_assets` installs the rest of Solara's front end.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import solara
from mesa.visualization import SolaraViz
from mesa.visualization import solara_viz as _viz
from mesa.visualization.utils import update_counter

from experiments.app_figures import REGIME_COLOURS, NetworkPlot, SeriesPlot, rolling, series
from model import CollaborationModel
from model.regime import DIALS, Regime
from model.scenario import load_regime, preset_names

SWITCHES = (
    "mandated_visits_per_week",
    "offloading_allowed",
    "task_force",
    "evaluation",
    "front_loading",
    "event_filter",
    "escalation",
    "grid_instructors",
    "selection",
    "assignment_basis",
    "off_post_share",
)
"""The policy switches shown beside the six dials (every other field of :class:`Regime`)."""

DEFAULTS = {"scenario_name": "emergency", "preset": "hybrid", "seed": 42}
PAIR = ("constructive", "autonomous")
"""The regimes of the side-by-side page."""


# ----- the model the app drives ---------------------------------------------------------
class AppModel(CollaborationModel):
    """:class:`CollaborationModel` with flat keyword parameters, as SolaraViz sets them.

    A regime preset gives every regime parameter; any parameter given here (not None)
    replaces the preset's value. The model stops (``running = False``) at the end of the
    scenario's timeline, and records how long each step took (``step_seconds``).

    Mesa's Reset builds ``type(model)(**changed)`` from the inputs the user changed, which
    may be only some of them. The app therefore gives each browser session a subclass
    (:func:`session_model`) whose ``remembered`` settings are the last model's: a
    parameter not given keeps its current value (the scenario, the seed, the preset and
    the regime values, unless the preset changes). ``AppModel`` itself remembers nothing.

    Args:
        scenario_name: scenario preset name or TOML path.
        preset: regime preset name or TOML path.
        seed: the model's seed (``rng``).
        **regime values: ``information`` ... ``control`` and the switches in
            :data:`SWITCHES`; None keeps the current (or the preset's) value.
    """

    remembered: dict[str, Any] | None = None
    """The last model's :attr:`settings` on a session subclass; None: remember nothing."""

    def __init__(
        self,
        scenario_name: str | None = None,
        preset: str | None = None,
        seed: int | None = None,
        information: float | None = None,
        consensus: float | None = None,
        goals: float | None = None,
        contract: float | None = None,
        decision: float | None = None,
        control: float | None = None,
        mandated_visits_per_week: float | None = None,
        offloading_allowed: bool | None = None,
        task_force: bool | None = None,
        evaluation: str | None = None,
        front_loading: float | None = None,
        event_filter: bool | None = None,
        escalation: str | None = None,
        grid_instructors: bool | None = None,
        selection: str | None = None,
        assignment_basis: str | None = None,
        off_post_share: float | None = None,
    ) -> None:
        given = {k: v for k, v in locals().items() if k in DIALS + SWITCHES and v is not None}
        last = type(self).remembered or {}
        scenario_name = scenario_name or last.get("scenario_name", DEFAULTS["scenario_name"])
        preset = preset or last.get("preset", DEFAULTS["preset"])
        seed = int(last.get("seed", DEFAULTS["seed"]) if seed is None else seed)
        if last.get("preset") == preset:  # same preset: keep the current regime values
            given = {**{k: last[k] for k in DIALS + SWITCHES if k in last}, **given}
        overrides = {f"regime.{k}": v for k, v in given.items()}
        super().__init__(scenario=scenario_name, regime=preset, rng=seed, overrides=overrides)
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
            **{k: getattr(self.regime, k) for k in DIALS + SWITCHES},
        }

    def step(self) -> None:
        """One day; the model stops running (Mesa's play loop ends) after the last day of
        the timeline."""
        t0 = time.perf_counter()
        super().step()
        self.step_seconds.append(time.perf_counter() - t0)
        if self.steps >= self.situation.days:
            self.running = False


def regime_values(preset: str) -> dict[str, Any]:
    """Every dial and switch of a regime preset.

    Args:
        preset: regime preset name or TOML path.
    """
    _, reg = load_regime(preset)
    return {k: getattr(reg, k) for k in DIALS + SWITCHES}


def _choices(name: str) -> tuple[str, ...]:
    field = next(f for f in dataclasses.fields(Regime) if f.name == name)
    return tuple(field.metadata.get("choices") or ())


def session_model() -> type[AppModel]:
    """A subclass of :class:`AppModel` for one browser session, remembering its last
    model's settings (Mesa's Reset passes only the inputs that changed)."""
    return type("SessionModel", (AppModel,), {"remembered": {}})


def model_params(settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """SolaraViz's ``model_params``: the scenario, the seed, the six dials and the switches,
    each input starting at ``settings`` (a model's :attr:`AppModel.settings`).

    Args:
        settings: the values to show; None shows the default scenario, seed and preset.
    """
    if settings is None:
        settings = {**DEFAULTS, **regime_values(DEFAULTS["preset"])}
    params: dict[str, Any] = {
        "scenario_name": {
            "type": "Select",
            "value": settings["scenario_name"],
            "values": preset_names("scenarios"),
            "label": "Scenario",
        },
        "seed": {"type": "SliderInt", "value": settings["seed"], "min": 0, "max": 100, "step": 1},
    }
    for dial in DIALS:
        params[dial] = {
            "type": "SliderFloat",
            "value": float(settings[dial]),
            "min": 0.0,
            "max": 1.0,
            "step": 0.05,
            "label": dial,
        }
    for name in SWITCHES:
        v = settings[name]
        label = name.replace("_", " ")
        if isinstance(v, bool):
            params[name] = {"type": "Checkbox", "value": v, "label": label}
        elif isinstance(v, str):
            params[name] = {
                "type": "Select",
                "value": v,
                "values": list(_choices(name)),
                "label": label,
            }
        else:
            hi = 7.0 if name == "mandated_visits_per_week" else 1.0
            step = 0.5 if name == "mandated_visits_per_week" else 0.05
            params[name] = {
                "type": "SliderFloat",
                "value": float(v),
                "min": 0.0,
                "max": hi,
                "step": step,
                "label": label,
            }
    return params


# ----- metrics as text ------------------------------------------------------------------
ROWS = (
    ("efficacy", "Efficacy (7-day mean)"),
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


def current_metrics(model: CollaborationModel) -> dict[str, float]:
    """Today's value of each metric in :data:`ROWS` (efficacy as a 7-day mean); NaN on
    day 0."""
    out = {}
    for key, _ in ROWS:
        x = series(model, key)
        if key == "efficacy":
            x = rolling(x)
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
    head = "".join(f"<th style='text-align:right;padding:0 8px'>{lab}</th>" for lab, _ in vals)
    rows = []
    for key, name in ROWS:
        cells = "".join(
            f"<td data-metric='{key}' data-model='{lab}' style='text-align:right;"
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


def _status(model: AppModel) -> str:
    changed = any(getattr(model.regime, k) != v for k, v in regime_values(model.preset).items())
    regime = f"{model.preset} (modified)" if changed else model.preset
    return (
        f"Day {model.steps} of {model.situation.days} · phase {model.phase} · "
        f"scenario {model.scenario_name} · regime {regime} · seed {model.seed}"
    )


# ----- components -----------------------------------------------------------------------
def _plots(model: AppModel, community: int) -> tuple[SeriesPlot, NetworkPlot]:
    """The model's figures, built on first use and kept on the model (updating a kept
    figure costs a fraction of building one)."""
    cache = model.__dict__.setdefault("_app_plots", {})
    if "series" not in cache:
        colour = REGIME_COLOURS.get(model.preset, "#1f77b4")
        cache["series"] = SeriesPlot([(model.preset, colour)], model.situation.timeline)
    if community not in cache:
        cache[community] = NetworkPlot(model, community)
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
        solara.SliderInt("Community", value=min(value, n - 1), min=0, max=n - 1, on_value=on_value)


@solara.component
def OneRun(model: AppModel) -> None:
    """Page 0: today's metrics, time series, and one community's network."""
    update_counter.get()
    community, set_community = solara.use_state(0)
    community = min(community, int(model.structure.n_communities) - 1)
    t0 = time.perf_counter()
    series_plot, network_plot = _plots(model, community)
    series_plot.update([model])
    network_plot.update()
    series_png, network_png = series_plot.png(), network_plot.png()
    draw_ms = 1000 * (time.perf_counter() - t0)
    with solara.Column(style={"padding": "8px"}):
        solara.Text(_status(model), classes=["saca-status"])
        solara.Text(_regime_line(model), classes=["saca-regime"])
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            with solara.Column(style={"min-width": "300px"}):
                solara.HTML(tag="div", unsafe_innerHTML=metrics_html([("value", model)]))
                solara.Text(_ms(model), classes=["saca-steptime"])
                solara.Text(f"figures drawn in {draw_ms:.0f} ms", classes=["saca-drawtime"])
                CommunityPicker(model, community, set_community)
            solara.Image(network_png, classes=["saca-network"])
        solara.Image(series_png, classes=["saca-series"])


_pair: solara.Reactive[tuple | None] = solara.reactive(None)
_pair_version = solara.reactive(0)


def make_pair(scenario_name: str, seed: int) -> tuple[AppModel, ...]:
    """The models of the side-by-side page: the presets in :data:`PAIR`, same scenario and
    seed.

    Args:
        scenario_name: scenario preset or TOML path.
        seed: the seed of both.
    """
    return tuple(AppModel(scenario_name=scenario_name, preset=p, seed=seed) for p in PAIR)


@solara.component
def SideBySide(model: AppModel) -> None:
    """Page 1: constructive and autonomous with the main model's scenario and seed,
    stepped together."""
    update_counter.get()
    _pair_version.get()
    community, set_community = solara.use_state(0)
    key = (model.scenario_name, model.seed)
    if _pair.value is None or _pair.value[0] != key:
        _pair.value = (key, make_pair(*key))
    models = _pair.value[1]

    def advance(days: int | None) -> None:
        for m in models:
            n = m.situation.days - m.steps if days is None else days
            for _ in range(max(0, n)):
                m.step()
        _pair_version.value += 1

    def reset() -> None:
        _pair.value = (key, make_pair(*key))
        _pair_version.value += 1

    first = models[0]
    c = min(community, int(first.structure.n_communities) - 1)
    cache = first.__dict__.setdefault("_app_plots", {})
    if "pair_series" not in cache:
        cache["pair_series"] = SeriesPlot(
            [(p, REGIME_COLOURS[p]) for p in PAIR], first.situation.timeline
        )
    cache["pair_series"].update(models)
    series_png = cache["pair_series"].png()
    networks = []
    for p, m in zip(PAIR, models, strict=True):
        plots = m.__dict__.setdefault("_app_plots", {})
        key_n = ("pair", c)
        if key_n not in plots:
            plots[key_n] = NetworkPlot(m, c, size=3.7)
        plots[key_n].update(f"{p}: community {c}, day {m.steps}")
        networks.append(plots[key_n].png())
    with solara.Column(style={"padding": "8px"}):
        solara.Text(
            f"Constructive and autonomous presets, same scenario ({model.scenario_name}) and "
            f"seed ({model.seed}) as page 0: day {first.steps} of {first.situation.days} "
            f"({first.phase}). Change scenario or seed in the sidebar and press Reset there.",
            classes=["saca-pair-status"],
        )
        with solara.Row():
            done = not first.running
            solara.Button("Step both", on_click=lambda: advance(1), disabled=done)
            solara.Button("+10 days", on_click=lambda: advance(10), disabled=done)
            solara.Button("Run to end", on_click=lambda: advance(None), disabled=done)
            solara.Button("Reset pair", on_click=reset)
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            solara.HTML(
                tag="div", unsafe_innerHTML=metrics_html(list(zip(PAIR, models, strict=True)))
            )
            with solara.Column(style={"min-width": "260px"}):
                CommunityPicker(first, c, set_community)
        solara.Image(series_png, classes=["saca-pair-series"])
        with solara.Row(style={"flex-wrap": "wrap"}):
            for img in networks:
                solara.Image(img, classes=["saca-pair-network"])


def _layout(num_components: int) -> list[dict[str, Any]]:
    """Grid layout of a SolaraViz page: each component full width, stacked (Mesa's default
    puts two half-width components per row, too narrow for these figures)."""
    return [
        {"i": i, "w": 12, "h": 30, "moved": False, "x": 0, "y": 30 * i}
        for i in range(num_components)
    ]


_viz.make_initial_grid_layout = _layout


@solara.component
def PresetPicker(preset: str, on_preset: Callable[[str], None]) -> None:
    """The regime preset picker: choosing one rebuilds the model with it and moves every
    slider to its values."""
    with solara.Card("Regime preset"):
        solara.Select("Preset", value=preset, values=preset_names("regimes"), on_value=on_preset)
        solara.Text(
            "Picking a preset rebuilds the model with it. Sliders and switches below take "
            "effect on Reset."
        )


@solara.component
def Page() -> None:
    """The app: SolaraViz with the preset picker beside its sidebar."""
    cls = solara.use_memo(session_model, [])
    first = solara.use_memo(lambda: cls(), [])
    model = solara.use_reactive(first)
    picks, set_picks = solara.use_state(0)
    current = model.value

    def on_preset(p: str) -> None:
        model.value = cls(scenario_name=current.scenario_name, preset=p, seed=current.seed)
        set_picks(picks + 1)

    with solara.Sidebar():
        PresetPicker(current.preset, on_preset)
    # Keyed by the picks: a new preset remounts the inputs, dropping changes not yet
    # applied, so that every input shows the new model's value.
    SolaraViz(
        model,
        components=[(OneRun, 0), (SideBySide, 1)],
        model_params=model_params(current.settings),
        name="saca: constructive vs autonomous collaboration",
    ).key(f"viz-{picks}")
