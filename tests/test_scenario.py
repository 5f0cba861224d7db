"""Scenarios and regimes from presets and files, with validated overrides (model.scenario)."""

from __future__ import annotations

import pytest

from saca.model.parameters import SacaInputError
from saca.model.regime import Regime
from saca.model.scenario import (
    Scenario,
    apply_overrides,
    load_regime,
    load_scenario,
    parse_overrides,
    preset_names,
    regime_description,
)
from saca.model.situation import Phase

REGIMES = {
    "constructive",
    "autonomous",
    "hybrid",
    "task_force",
    "list_matching",
    "front_loaded",
    "grid_instructor",
}


def message(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg, msg
    return msg


def toml_timeline(*phases: tuple[str, int, int]) -> str:
    return (
        "[" + ", ".join(f'{{ phase = "{n}", start = {a}, end = {z} }}' for n, a, z in phases) + "]"
    )


# ----- presets ------------------------------------------------------------------------
def test_design_regimes_and_scenarios_are_shipped():
    assert set(preset_names("regimes")) >= REGIMES
    assert set(preset_names("scenarios")) >= {"baseline", "emergency", "district"}


@pytest.mark.parametrize("name", preset_names("regimes"))
def test_every_regime_preset_loads_with_a_description(name):
    got_name, reg = load_regime(name)
    assert got_name == name and isinstance(reg, Regime)
    assert regime_description(name).strip()


@pytest.mark.parametrize("name", preset_names("scenarios"))
def test_every_scenario_preset_loads(name):
    scen = load_scenario(name)
    assert scen.name == name and scen.description.strip()
    scen.situation.check()


def test_constructive_and_autonomous_sit_at_the_two_ends_of_every_dial():
    _, con = load_regime("constructive")
    _, aut = load_regime("autonomous")
    for dial in ("information", "consensus", "goals", "contract", "decision", "control"):
        assert getattr(con, dial) == 0.0 and getattr(aut, dial) == 1.0


def test_district_is_the_seed_004_district():
    sit = load_scenario("district").situation
    assert (sit.communities, sit.grids, sit.households) == (137, 940, 100_000)
    assert [p.name for p in sit.timeline] == ["normal", "emergency", "recovery"]
    assert sit.days == 365


def test_emergency_timeline():
    tl = load_scenario("emergency").situation.timeline
    assert tl == (Phase("normal", 0, 30), Phase("emergency", 30, 90), Phase("recovery", 90, 180))


def test_objects_pass_through():
    scen = Scenario(name="x")
    assert load_scenario(scen) is scen
    reg = Regime(contract=0.9)
    assert load_regime(reg) == ("custom", reg)


# ----- bad names and files ------------------------------------------------------------
def test_unknown_regime_name_suggests_and_lists_presets():
    with pytest.raises(SacaInputError) as exc:
        load_regime("autonomus")
    msg = message(exc)
    assert "did you mean autonomous?" in msg and "constructive" in msg


def test_unknown_scenario_name():
    with pytest.raises(SacaInputError) as exc:
        load_scenario("nowhere")
    assert "unknown scenario 'nowhere'" in message(exc)


def test_missing_toml_file(tmp_path):
    with pytest.raises(SacaInputError) as exc:
        load_regime(tmp_path / "absent.toml")
    assert "does not exist" in message(exc)


def test_broken_toml_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[regime]\ninformation = = 0.5\n")
    with pytest.raises(SacaInputError) as exc:
        load_regime(path)
    msg = message(exc)
    assert "cannot read" in msg and "broken.toml" in msg


def test_toml_file_with_an_unreadable_number(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text("[regime]\ncontract = 1" + "0" * 5000 + "\n")
    with pytest.raises(SacaInputError) as exc:
        load_regime(path)
    assert "cannot read" in message(exc)


def test_non_utf8_toml_file(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'description = "caf\xe9"\n')
    with pytest.raises(SacaInputError) as exc:
        load_scenario(path)
    assert "cannot read" in message(exc)


def test_regime_file_with_values(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[regime]\ncontract = 0.8\nescalation = "central"\n')
    name, reg = load_regime(path)
    assert name == "mine" and reg.contract == 0.8 and reg.escalation == "central"
    assert reg.information == Regime().information


def test_regime_file_with_out_of_range_value(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[regime]\ncontract = 1.5\n")
    with pytest.raises(SacaInputError) as exc:
        load_regime(path)
    assert "regime.contract" in message(exc)


def test_regime_file_with_a_key_outside_its_table(tmp_path):
    path = tmp_path / "loose.toml"
    path.write_text("contrakt = 0.5\n")
    with pytest.raises(SacaInputError) as exc:
        load_regime(path)
    assert "did you mean regime.contract?" in message(exc)


def test_scenario_file_with_unknown_table(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[regime]\ncontract = 0.5\n")
    with pytest.raises(SacaInputError) as exc:
        load_scenario(path)
    assert "[regime]" in message(exc)


def test_scenario_file_with_timeline_and_values(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        "[situation]\nhouseholds = 500\ntimeline = "
        + toml_timeline(("normal", 0, 10), ("emergency", 10, 25))
        + "\n"
        "[behaviour]\ntrust_gain = 0.1\n"
    )
    scen = load_scenario(path)
    assert scen.name == "s" and scen.situation.households == 500
    assert scen.situation.days == 25 and scen.behaviour.trust_gain == 0.1


@pytest.mark.parametrize(
    ("timeline", "words"),
    [
        (toml_timeline(("normal", 0, 10), ("emergency", 12, 20)), "without gaps"),
        (toml_timeline(("normal", 0, 10), ("emergency", 8, 20)), "without gaps"),
        (toml_timeline(("storm", 0, 10)), "unknown"),
        (toml_timeline(("normal", 0, 10), ("recovery", 10, 5)), "before it starts"),
        ('[{ phase = "normal", start = 0 }]', "needs exactly phase, start and end"),
        ('[{ phase = "normal", start = 0, end = 10.5 }]', "whole days"),
        ('"normal"', "list of tables"),
    ],
)
def test_inconsistent_timeline_in_a_file(tmp_path, timeline, words):
    path = tmp_path / "t.toml"
    path.write_text(f"[situation]\ntimeline = {timeline}\n")
    with pytest.raises(SacaInputError) as exc:
        load_scenario(path)
    assert words in message(exc)


# ----- overrides ----------------------------------------------------------------------
def test_parse_overrides_reads_values_as_toml():
    got = parse_overrides(["regime.goals=1", "regime.evaluation=points", "regime.task_force=true"])
    assert got == {"regime.goals": 1, "regime.evaluation": "points", "regime.task_force": True}
    with pytest.raises(SacaInputError) as exc:
        parse_overrides(["regime.goals"])
    assert "KEY=VALUE" in message(exc)


def test_apply_overrides_changes_scenario_and_regime():
    scen, reg = apply_overrides(
        load_scenario("baseline"),
        Regime(),
        {"regime.information": 1, "situation.households": 900, "behaviour.trust_gain": 0.2},
    )
    assert reg.information == 1.0 and isinstance(reg.information, float)
    assert scen.situation.households == 900 and scen.behaviour.trust_gain == 0.2


def test_apply_overrides_timeline():
    tl = [{"phase": "normal", "start": 0, "end": 5}, {"phase": "emergency", "start": 5, "end": 9}]
    scen, _ = apply_overrides(load_scenario("baseline"), Regime(), {"situation.timeline": tl})
    assert scen.situation.timeline == (Phase("normal", 0, 5), Phase("emergency", 5, 9))


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"regime.informaton": 1}, "did you mean regime.information?"),
        ({"regim.information": 1}, "did you mean regime.information?"),
        ({"information": 1}, "unknown parameter"),
        ({"regime.information": 1.5}, "out of range"),
        ({"regime.information": "high"}, "must be a number"),
        ({"situation.households": True}, "whole number"),
        ({"situation.households": 2.5}, "whole number"),
        ({"regime.offloading_allowed": 1}, "true or false"),
        ({"regime.escalation": "sideways"}, "grid_first"),
        ({"situation.households": 10, "situation.grids": 20}, "empty in some grids"),
        (
            {"situation.timeline": [{"phase": "normal", "start": 1, "end": 5}]},
            "without gaps",
        ),
    ],
)
def test_bad_overrides_raise_one_line_errors(overrides, words):
    with pytest.raises(SacaInputError) as exc:
        apply_overrides(load_scenario("baseline"), Regime(), overrides)
    assert words in message(exc)


def test_a_scenario_file_given_as_a_regime_says_so(tmp_path):
    path = tmp_path / "scen.toml"
    path.write_text("[situation]\nhouseholds = 500\n")
    with pytest.raises(SacaInputError) as exc:
        load_regime(path)
    assert "[situation]" in message(exc)
