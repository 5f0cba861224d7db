"""Behavioural constants of the submodels: magnitudes calibrated to plausible values.

The studies give mechanisms and directions, not numbers; these are the magnitudes the
modellers chose (``docs/ODD.md`` gives the reasoning). They are parameters like any other,
so sensitivity analysis can vary them.
"""

from __future__ import annotations

from dataclasses import dataclass

from model.parameters import param


@dataclass(frozen=True)
class Behaviour:
    """Calibration constants for trust, reporting, work, burnout and correction."""

    trust_gain: float = param(
        0.08,
        "trust gained after a need resolved on time (fraction of the gap to 1)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    loss_aversion: float = param(
        2.0,
        "how much larger a trust loss after a failure is than a gain after a success",
        "000",
        lo=1.0,
        hi=10.0,
    )
    visit_trust_loss: float = param(
        0.03, "trust lost after an unwanted visit by a complete stranger", "001", lo=0.0, hi=1.0
    )
    complaint_prob: float = param(
        0.15, "chance that an unwanted stranger visit brings a complaint", "001", lo=0.0, hi=1.0
    )
    word_of_mouth: float = param(
        0.05,
        "daily pull of a household's opinions toward its neighbours' opinions",
        "000",
        lo=0.0,
        hi=1.0,
    )
    familiarity_gain: float = param(
        0.2, "familiarity gained per contact (fraction of the gap to 1)", "001", lo=0.0, hi=1.0
    )
    familiarity_decay: float = param(
        0.003, "daily decay of familiarity without contact", "001", lo=0.0, hi=0.5
    )
    stranger_trust: float = param(
        0.35, "initial resident trust in a sunk cadre they have never met", "000", lo=0.0, hi=1.0
    )
    community_trust: float = param(
        0.6, "initial resident trust in their community cadres", "000", lo=0.0, hi=1.0
    )
    institution_trust: float = param(
        0.5,
        "initial resident trust in the institution (street office, hotline)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    report_threshold: float = param(
        0.3,
        "trust at which half of the needs get reported; below it needs stay hidden",
        "000",
        lo=0.0,
        hi=1.0,
    )
    self_help_max: float = param(
        0.5,
        "share of needs solved by residents' own ties in a fully capable, cohesive community",
        "003",
        lo=0.0,
        hi=1.0,
    )
    prevention_max: float = param(
        0.35, "largest cut in need rates that front-loaded service achieves", "003", lo=0.0, hi=1.0
    )
    crowding_out: float = param(
        0.7, "share of self-help that full top-down front-loading displaces", "003", lo=0.0, hi=1.0
    )
    capacity_building: float = param(
        0.25,
        "self-help that full front-loading builds in a community with no capacity",
        "003",
        lo=0.0,
        hi=1.0,
    )
    level_delay: float = param(
        1.0,
        "days a report or assignment waits at each level of the hierarchy",
        "000/004",
        lo=0.0,
        hi=30.0,
    )
    detail_loss: float = param(
        0.2, "share of a need's detail lost per hierarchy hop", "000", lo=0.0, hi=1.0
    )
    claim_threshold: float = param(
        0.4,
        "response threshold of an unloaded, rested cadre for claiming a task",
        "002",
        lo=0.01,
        hi=5.0,
    )
    need_hours: float = param(
        2.5, "mean cadre hours one need takes", "calibration", lo=0.1, hi=40.0
    )
    exhaustion_rate: float = param(
        0.02, "exhaustion gained per day per unit of overload", "000", lo=0.0, hi=1.0
    )
    recovery_rate: float = param(
        0.03, "exhaustion recovered per day per unit of spare capacity", "000", lo=0.0, hi=1.0
    )
    burnout_threshold: float = param(
        0.6, "exhaustion above which a cadre counts as burned out", "000", lo=0.0, hi=1.0
    )
    withdraw_threshold: float = param(
        0.9, "exhaustion above which a cadre withdraws until recovered", "000", lo=0.0, hi=1.0
    )
    shirk_threshold: float = param(
        0.35, "effort below which a cadre works perfunctorily", "000", lo=0.0, hi=1.0
    )
    paperwork_hours: float = param(
        1.5,
        "daily inspection paperwork per cadre under pure checklist control",
        "001",
        lo=0.0,
        hi=8.0,
    )
    visit_hours: float = param(0.5, "hours one household visit takes", "001", lo=0.0, hi=8.0)
    meeting_hours: float = param(
        0.6,
        "daily hours of negotiation per cadre under fully negotiated consensus",
        "000",
        lo=0.0,
        hi=8.0,
    )
    consult_hours: float = param(
        0.3,
        "daily hours of consultation per cadre under fully consultative decisions",
        "000",
        lo=0.0,
        hi=8.0,
    )
    offload_propensity: float = param(
        0.6,
        "chance a community cadre pushes a need onto a sunk cadre when allowed",
        "001",
        lo=0.0,
        hi=1.0,
    )
    correction_delay: float = param(
        14.0, "days a feedback channel takes to act on a reported problem", "001", lo=1.0, hi=365.0
    )
    motivation_rate: float = param(
        0.01,
        "daily rate at which motivation responds to autonomy, recognition and pressure",
        "000",
        lo=0.0,
        hi=1.0,
    )
    participation_decay: float = param(
        0.01,
        "daily decay of an in-service member's willingness without accountability",
        "002",
        lo=0.0,
        hi=1.0,
    )
