"""The situation: structure consistency and the phase timeline (model.situation)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saca.model.parameters import SacaInputError
from saca.model.situation import PHASES, Phase, Situation, check_timeline, default_timeline


def message(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert msg and "\n" not in msg, msg
    return msg


@st.composite
def tilings(draw, n_min: int = 1, n_max: int = 4) -> tuple[Phase, ...]:
    """Any timeline of 1-4 known phases, each at least one day, starting on day 0."""
    lengths = draw(st.lists(st.integers(1, 400), min_size=n_min, max_size=n_max))
    names = draw(st.lists(st.sampled_from(PHASES), min_size=len(lengths), max_size=len(lengths)))
    out, start = [], 0
    for name, n in zip(names, lengths, strict=True):
        out.append(Phase(name, start, start + n))
        start += n
    return tuple(out)


@given(tilings())
def test_any_tiling_of_one_to_four_phases_is_accepted(timeline):
    check_timeline(timeline)
    sit = Situation(timeline=timeline)
    sit.check()
    assert sit.days == sum(p.end - p.start for p in timeline)


@given(tilings(n_min=2), st.data())
def test_a_gap_or_an_overlap_between_phases_is_rejected(timeline, data):
    i = data.draw(st.integers(1, len(timeline) - 1))
    prev = timeline[i - 1]
    # shift the start of phase i away from the end of phase i-1, keeping it non-empty
    shift = data.draw(st.integers(-(prev.end - prev.start), 30).filter(lambda s: s != 0))
    ph = timeline[i]
    moved = Phase(ph.name, ph.start + shift, max(ph.end, ph.start + shift + 1))
    broken = (*timeline[:i], moved, *timeline[i + 1 :])
    with pytest.raises(SacaInputError) as exc:
        check_timeline(broken)
    assert "without gaps" in message(exc)


@given(tilings(), st.integers(1, 50))
def test_a_timeline_not_starting_on_day_zero_is_rejected(timeline, offset):
    shifted = tuple(Phase(p.name, p.start + offset, p.end + offset) for p in timeline)
    with pytest.raises(SacaInputError):
        check_timeline(shifted)


def test_unknown_phase_is_rejected_with_the_known_ones_listed():
    with pytest.raises(SacaInputError) as exc:
        check_timeline((Phase("normal", 0, 10), Phase("crisis", 10, 20)))
    msg = message(exc)
    assert "'crisis'" in msg and all(p in msg for p in PHASES)


@pytest.mark.parametrize("end", [5, 4, -1])
def test_a_phase_ending_before_it_starts_is_rejected(end):
    with pytest.raises(SacaInputError) as exc:
        check_timeline((Phase("normal", 0, 5), Phase("emergency", 5, end)))
    assert "before it starts" in message(exc)


def test_an_empty_timeline_is_rejected():
    with pytest.raises(SacaInputError) as exc:
        check_timeline(())
    assert "empty" in message(exc)


def test_default_timeline_is_180_days_of_ordinary_times():
    assert default_timeline() == (Phase("normal", 0, 180),)
    assert Situation().days == 180


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"households": 7, "grids": 8, "communities": 4}, "empty in some grids"),
        ({"grids": 3, "communities": 4}, "situation.grids"),
        ({"communities": 1, "streets": 2}, "situation.communities"),
        ({"share_old_estate": 0.7, "share_urban_village": 0.4}, "must not exceed 1"),
    ],
)
def test_inconsistent_structure_is_rejected(changes, words):
    sit = dataclasses.replace(Situation(), **changes)
    with pytest.raises(SacaInputError) as exc:
        sit.check()
    assert words in message(exc)


def test_smallest_consistent_structure_is_accepted():
    dataclasses.replace(Situation(), households=1, grids=1, communities=1, streets=1).check()
