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

The page's parts: :mod:`~saca.experiments.app.state` (the model the app drives, its settings
and address), :mod:`~saca.experiments.app.controls` (the sidebar, built from the parameter
declarations) and :mod:`~saca.experiments.app.replicates` (the Replicates page).
"""

from __future__ import annotations

import html
import time
from typing import Any

import solara
import solara.lab
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from saca.experiments.app.controls import (
    CommunityPicker,
    ComparedPreset,
    ParamInputs,
    PresetPicker,
    RunState,
)
from saca.experiments.app.replicates import Replicates
from saca.experiments.app.state import (
    EFFICACY_NOTE,
    AppModel,
    figure_bytes,
    metrics_html,
    model_colour,
    parse_query,
    regime_label,
    run_command,
    run_json,
    session_model,
    state_query,
    status_line,
    step_time_text,
    timeseries_csv,
)
from saca.experiments.plots.live import (
    NetworkPlot,
    SeriesPlot,
)
from saca.experiments.plots.style import regime_colour
from saca.model.regime import DIALS

TITLE = "saca: constructive vs autonomous collaboration"
"""The page's title (browser tab and app bar)."""


REFERENCE = "autonomous"
"""The preset the Compare and Replicates pages start with (constructive if the sidebar
runs autonomous)."""


def _plots(model: AppModel, community: int) -> tuple[SeriesPlot, NetworkPlot]:
    """The model's figures, built on first use and kept on the model (updating a kept
    figure costs a fraction of building one)."""
    cache = model.__dict__.setdefault("_app_plots", {})
    if "series" not in cache:
        cache["series"] = SeriesPlot(
            [(model.preset, model_colour(model))], model.situation.timeline
        )
    if community not in cache:
        cache[community] = NetworkPlot(model, community, size=4.4)
    return cache["series"], cache[community]


def regime_line(model: AppModel) -> str:
    """The regime's dials in one line, as the Explore page shows them."""
    r = model.regime
    dials = " · ".join(f"{d} {getattr(r, d):.2f}" for d in DIALS)
    return f"Regime now: {dials}"


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
        solara.Text(status_line(model), classes=["saca-status"])
        solara.Text(regime_line(model), classes=["saca-regime"], style={"font-size": "13px"})
        solara.Image(series_png, classes=["saca-series"], width="100%")
        solara.Text(EFFICACY_NOTE, classes=["saca-note"], style={"font-size": "12px"})
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            with solara.Column(style={"min-width": "300px"}):
                solara.HTML(tag="div", unsafe_innerHTML=metrics_html([("value", model)]))
                solara.Text(
                    step_time_text(model), classes=["saca-steptime"], style={"font-size": "12px"}
                )
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


def column_labels(model: AppModel, reference: str) -> tuple[str, str]:
    """The two columns' names on the Compare page: the sidebar's regime and the reference."""
    mine = regime_label(model)
    return (f"{mine} (sidebar)" if mine == reference else mine), reference


@solara.component
def Compare(model: AppModel, reference: solara.Reactive[str]) -> None:
    """The Compare page: the sidebar's regime against a chosen preset, same scenario and
    seed, both at the sidebar's day (its Reset and Step drive this page)."""
    update_counter.get()
    community, set_community = solara.use_state(0)
    ref = reference_model(model, reference.value)
    mine, theirs = column_labels(model, reference.value)
    colours = (model_colour(model), regime_colour(reference.value, 1))
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
            ComparedPreset(reference)
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
        plot = SeriesPlot([(model.preset, model_colour(model))], model.situation.timeline)
        return plot.update([model])

    def network_fig() -> Any:
        return NetworkPlot(model, 0).update()

    with solara.Column(style={"padding": "4px 8px", "gap": "6px"}):
        solara.Text(f"This run: {status_line(model)}.")
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
