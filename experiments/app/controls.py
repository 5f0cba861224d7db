"""The sidebar's controls, each built from a parameter's declaration (range, label, help)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import solara
import solara.lab
from mesa.visualization.utils import update_counter

from saca.experiments.app.state import INFO, AppModel
from saca.model import CollaborationModel, SacaInputError
from saca.model.parameters import ParamInfo, coerce
from saca.model.regime import DIALS
from saca.model.scenario import preset_names


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


@solara.component
def CommunityPicker(model: CollaborationModel, value: int, on_value: Callable) -> None:
    """A slider over the communities of the model."""
    n = int(model.structure.n_communities)
    if n > 1:
        v = min(value, n - 1)
        solara.SliderInt(f"Community {v}", value=v, min=0, max=n - 1, on_value=on_value)


@solara.component
def PresetPicker(preset: str, on_preset: Callable[[str], None]) -> None:
    """The regime preset picker: choosing one rebuilds the model with it and moves every
    input to its values."""
    solara.Select("Preset", value=preset, values=preset_names("regimes"), on_value=on_preset)


@solara.component
def ComparedPreset(reference: solara.Reactive[str]) -> None:
    """The picker of the preset the Compare and Replicates pages set against the sidebar's
    regime (both pages share it).

    Args:
        reference: the compared preset's name.
    """
    solara.Select(
        "compared preset",
        value=reference.value,
        values=preset_names("regimes"),
        on_value=reference.set,
        style={"max-width": "220px"},
    )
