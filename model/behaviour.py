"""Behavioural constants of the submodels: magnitudes calibrated to plausible values.

The studies give mechanisms and directions, not numbers; these are the magnitudes the
modellers chose (``docs/ODD.md`` gives the reasoning). They are parameters like any other,
so sensitivity analysis can vary them.
"""

from __future__ import annotations

from dataclasses import dataclass

from saca.model.parameters import param


@dataclass(frozen=True)
class Behaviour:
    """Behavioural constants of every submodel, grouped by stage; each with its source."""

    # ----- time and channels (seed 000, 002, 004) -------------------------------------
    hop_hours: float = param(
        4.0,
        "hours a report or an order waits at each level of the command hierarchy "
        "(receive, log, forward)",
        "000/004",
        lo=0.0,
        hi=72.0,
    )
    detail_loss: float = param(
        0.2, "share of a need's detail lost per hierarchy hop", "000", lo=0.0, hi=1.0
    )
    list_lag_hours: float = param(
        0.25,
        "hours before a report posted on the shared task list is seen by the cadres",
        "002",
        lo=0.0,
        hi=24.0,
    )
    unverified_share: float = param(
        0.25,
        "share of peer-to-peer reports that are duplicated, stale or unverified",
        "000",
        lo=0.0,
        hi=1.0,
    )
    verify_hours: float = param(
        0.75,
        "hours a cadre spends checking an unverified peer report before working it",
        "000",
        lo=0.0,
        hi=8.0,
    )
    list_read_hours: float = param(
        0.05,
        "hours an active cadre spends reading one peer report of the day within its reach",
        "000/002",
        lo=0.0,
        hi=1.0,
    )
    list_read_cap: float = param(
        1.0,
        "most hours a cadre spends reading peer reports in a day",
        "assumption: attention is bounded",
        lo=0.0,
        hi=8.0,
    )
    workday_start: float = param(
        8.0, "hour of the day full-time cadres and offices start work", "004", lo=0.0, hi=23.0
    )
    after_hours_start: float = param(
        18.0,
        "hour of the day in-service members start their after-hours service",
        "002",
        lo=0.0,
        hi=23.0,
    )
    need_hour_first: float = param(
        7.0,
        "earliest hour of the day a need arises (needs arise uniformly in waking hours)",
        "assumption: needs arise in waking hours",
        lo=0.0,
        hi=23.0,
    )
    need_hour_last: float = param(
        22.0, "latest hour of the day a need arises", "assumption", lo=1.0, hi=24.0
    )
    office_handle_hours: float = param(
        0.5,
        "hours a street office, the city platform or a property firm takes to settle a need "
        "it picks up",
        "004",
        lo=0.0,
        hi=48.0,
    )
    settle_probability: float = param(
        0.85,
        "chance that an upper level with the power to decide settles a need it handles",
        "004",
        lo=0.0,
        hi=1.0,
    )
    patience_days: float = param(
        30.0,
        "days a household waits past a reported need's deadline before giving up",
        "assumption: residents eventually give up",
        lo=1.0,
        hi=365.0,
    )
    # ----- residents: trust, reporting, self-help (seed 000, 001, 003) -----------------
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
    report_spread: float = param(
        0.08,
        "spread of the logistic reporting curve around the threshold (smaller: sharper)",
        "assumption",
        lo=0.005,
        hi=1.0,
    )
    report_urgency: float = param(
        0.3,
        "how much an urgent need lowers the trust a household needs before reporting it",
        "000",
        lo=0.0,
        hi=1.0,
    )
    late_gain_share: float = param(
        0.5,
        "share of the trust gain that a late resolution or a wanted visit brings",
        "000",
        lo=0.0,
        hi=1.0,
    )
    institution_share: float = param(
        0.5,
        "share of a contact's trust change that carries over to trust in the institution",
        "000",
        lo=0.0,
        hi=1.0,
    )
    satisfaction_step: float = param(
        0.2,
        "satisfaction gained (lost) after a resolved (failed) need, fraction of the gap",
        "002",
        lo=0.0,
        hi=1.0,
    )
    fail_complaint_share: float = param(
        0.5,
        "chance of a complaint after a failure, relative to an unwanted stranger visit",
        "001",
        lo=0.0,
        hi=1.0,
    )
    consult_trust_gain: float = param(
        0.04,
        "trust a household gains in the cadre and the institution when consulted about "
        "its need (fraction of the gap to 1)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    engagement_gain: float = param(
        0.3,
        "engagement in self-organisation a household gains when it is consulted (fraction "
        "of the gap to 1)",
        "003",
        lo=0.0,
        hi=1.0,
    )
    engagement_decay: float = param(
        0.01,
        "daily decay of a household's engagement without consultation",
        "003",
        lo=0.0,
        hi=1.0,
    )
    self_help_max: float = param(
        0.5,
        "share of needs solved by residents' own ties in a fully capable, cohesive, engaged "
        "community",
        "003",
        lo=0.0,
        hi=1.0,
    )
    self_help_unengaged: float = param(
        0.5,
        "self-help a community keeps when none of its households is engaged, relative to a "
        "fully engaged one",
        "003",
        lo=0.0,
        hi=1.0,
    )
    social_org_boost: float = param(
        1.3,
        "factor on self-help for services and disputes in a community with a social "
        "organisation (volunteers, mediation)",
        "003",
        lo=1.0,
        hi=5.0,
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
    # ----- allocation: claiming and command (seed 000, 002, 004) -----------------------
    claim_threshold: float = param(
        0.4,
        "response threshold of an unloaded, rested cadre for claiming a task",
        "002",
        lo=0.01,
        hi=5.0,
    )
    estimate_error: float = param(
        0.3,
        "log-normal spread of a cadre's estimate of the hours a listed task takes",
        "002",
        lo=0.0,
        hi=2.0,
    )
    task_aversion: float = param(
        0.6,
        "how much an unattractive task (a dispute, an emergency task under risk, an upper-"
        "level case) lowers the stimulus to claim it",
        "000/002",
        lo=0.0,
        hi=1.0,
    )
    claim_wait_hours: float = param(
        24.0,
        "hours an unclaimed task waits on the list before it is sent to the command",
        "002",
        lo=0.0,
        hi=240.0,
    )
    pool_backlog: float = param(
        2.0,
        "reported backlog, in days of work, at which the command sends a post's task to the "
        "least-loaded full-time cadre of the street",
        "004",
        lo=0.0,
        hi=30.0,
    )
    consult_delay_hours: float = param(
        3.0,
        "hours a consulted assignment waits for the answers of the cadres and the household",
        "000",
        lo=0.0,
        hi=72.0,
    )
    consult_hours: float = param(
        0.25,
        "hours a consultation takes from the cadre it assigns",
        "000",
        lo=0.0,
        hi=8.0,
    )
    surge_backlog: float = param(
        1.0,
        "reported backlog, in days of work per full-time cadre of a street, at which the "
        "command orders a surge in an emergency",
        "000",
        lo=0.0,
        hi=30.0,
    )
    surge_overtime_hours: float = param(
        3.0, "overtime hours a surge orders from every full-time cadre", "000", lo=0.0, hi=8.0
    )
    surge_turnout: float = param(
        0.8,
        "chance an in-service member ordered out by a surge reports for duty that day",
        "000/002",
        lo=0.0,
        hi=1.0,
    )
    offload_admin_share: float = param(
        0.5,
        "share of their administrative hours community cadres push onto off-post cadres "
        "when offloading is allowed, at full propensity",
        "001",
        lo=0.0,
        hi=1.0,
    )
    offload_propensity: float = param(
        0.6,
        "chance a community cadre pushes a need onto a sunk cadre when allowed",
        "001",
        lo=0.0,
        hi=1.0,
    )
    # ----- meetings and consultation (seed 000) ----------------------------------------
    meeting_hours: float = param(
        1.0,
        "hours a community's coordination meeting takes from every full-time cadre present",
        "000",
        lo=0.0,
        hi=8.0,
    )
    alignment_gain: float = param(
        0.15,
        "goal alignment a cadre gains at a negotiated meeting (fraction of the gap to 1)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    alignment_decay: float = param(
        0.02,
        "goal alignment a cadre loses on a day its decisions are imposed",
        "000",
        lo=0.0,
        hi=1.0,
    )
    misalignment_effort: float = param(
        0.2,
        "share of effort lost by a cadre with no goal alignment",
        "000",
        lo=0.0,
        hi=1.0,
    )
    meeting_trust_gain: float = param(
        0.03,
        "cadre–cadre trust gained by the sunk and community cadres of a meeting (fraction "
        "of the gap to 1)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    initial_working_trust: float = param(
        0.4,
        "trust on a working tie between a sunk and a community cadre at the start: guarded "
        "(the compatibility barrier)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    order_trust_loss: float = param(
        0.01,
        "share of its working trust a sunk cadre loses when the command assigns it work "
        "without asking (marginalisation)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    joint_trust_gain: float = param(
        0.02,
        "cadre–cadre trust gained on a day both cadres of a tie resolved a need",
        "000/001",
        lo=0.0,
        hi=1.0,
    )
    offload_trust_loss: float = param(
        0.02,
        "share of its working trust a tie loses each time work is offloaded along it",
        "001",
        lo=0.0,
        hi=1.0,
    )
    knowledge_gain: float = param(
        0.05,
        "local knowledge a sunk cadre gains per meeting or consultation it takes part in "
        "(fraction of the gap to 1)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    stranger_knowledge: float = param(
        0.5,
        "local knowledge of an off-post cadre new to the community (insiders have 1)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    # ----- work (seed 000, 002, 004) ---------------------------------------------------
    need_hours: float = param(
        2.5,
        "mean cadre hours one need takes",
        "assumption: a visit and a follow-up",
        lo=0.1,
        hi=40.0,
    )
    level_hours: float = param(
        0.5,
        "extra share of hours a need takes per level above the grid it must be solved at",
        "004",
        lo=0.0,
        hi=5.0,
    )
    paper_closure: float = param(
        0.3,
        "chance a cadre records a failed attempt as done when goals are pure checklist "
        "indicators that count closures; the problem is not solved and returns",
        "001",
        lo=0.0,
        hi=1.0,
    )
    resurface_days: float = param(
        7.0,
        "days after which a problem closed on paper arises again as a new need",
        "assumption: an unsolved problem comes back within about a week",
        lo=1.0,
        hi=365.0,
    )
    rework_share: float = param(
        0.5,
        "share of a need's hours that must be worked again after a failed attempt",
        "assumption: a second visit is shorter than the first",
        lo=0.0,
        hi=1.0,
    )
    diagnosis_hours: float = param(
        0.5,
        "hours a cadre spends finding that a need is beyond its level before passing it up",
        "004",
        lo=0.0,
        hi=8.0,
    )
    success_floor: float = param(
        0.3,
        "chance that finished work resolves a need even with no skill, knowledge or effort",
        "assumption",
        lo=0.0,
        hi=1.0,
    )
    skill_weight: float = param(
        0.3, "weight of skill in the quality of work", "002", lo=0.0, hi=1.0
    )
    experience_weight: float = param(
        0.15, "weight of grassroots experience in the quality of work", "001", lo=0.0, hi=1.0
    )
    familiarity_weight: float = param(
        0.15,
        "weight of familiarity with the household in the quality of work",
        "000/001",
        lo=0.0,
        hi=1.0,
    )
    resources_weight: float = param(
        0.1, "weight of resources in the quality of work", "001", lo=0.0, hi=1.0
    )
    information_weight: float = param(
        0.3,
        "weight of the information that reaches the cadre (fidelity × local knowledge) in "
        "the quality of work",
        "000",
        lo=0.0,
        hi=1.0,
    )
    effort_weight: float = param(
        0.5, "how much the success of work depends on effort", "000", lo=0.0, hi=1.0
    )
    shirk_threshold: float = param(
        0.35, "effort below which a cadre works perfunctorily", "000", lo=0.0, hi=1.0
    )
    perfunctory_success: float = param(
        0.25,
        "factor on the success of perfunctory work (hours logged, little resolved)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    staleness_peer: float = param(
        0.3,
        "share of the staleness of a waiting need's information left when it travels peer "
        "to peer (live updates)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    anxiety_effect: float = param(
        0.6, "share of effort an anxious cadre loses at full anxiety", "000", lo=0.0, hi=1.0
    )
    anxiety_pressure: float = param(
        0.5,
        "share of anxiety from risk that depends on felt pressure (the rest is risk alone)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    experience_calm: float = param(
        0.5, "share of anxiety that full grassroots experience removes", "000", lo=0.0, hi=1.0
    )
    # ----- control: inspection, sanctions, evaluation, paperwork (seed 000, 001, 002) -----
    inspection_rate: float = param(
        0.25,
        "chance a day that a cadre is inspected under pure checklist control (full-time "
        "staff: their work; in-service members: their attendance)",
        "001",
        lo=0.0,
        hi=1.0,
    )
    detect_checklist: float = param(
        0.8,
        "chance an inspection detects perfunctory work when goals are checklist indicators",
        "000/001",
        lo=0.0,
        hi=1.0,
    )
    detect_outcome: float = param(
        0.25,
        "chance an inspection detects perfunctory work when goals are residents' outcomes "
        "(slow and noisy to verify)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    sanction_compliance: float = param(
        0.4,
        "compliance a sanctioned cadre gains (effort extracted by fear, fraction of the gap to 1)",
        "000",
        lo=0.0,
        hi=1.0,
    )
    compliance_decay: float = param(
        0.05, "daily decay of compliance after a sanction", "000", lo=0.0, hi=1.0
    )
    sanction_strain: float = param(0.03, "exhaustion a sanction adds", "000", lo=0.0, hi=1.0)
    sanction_motivation: float = param(
        0.03, "intrinsic motivation a sanction crowds out", "000", lo=0.0, hi=1.0
    )
    pressure_rate: float = param(
        0.1,
        "daily rate at which felt pressure follows the day's inspections, orders and mandates",
        "000",
        lo=0.0,
        hi=1.0,
    )
    paperwork_hours: float = param(
        1.5,
        "daily inspection paperwork of a full-time cadre under pure checklist control",
        "001",
        lo=0.0,
        hi=8.0,
    )
    cover_hours: float = param(
        1.0,
        "daily hours of defensive record-keeping of a fully compliant cadre who feels fully "
        "watched, when goals are checklist indicators (records are what is counted)",
        "001",
        lo=0.0,
        hi=8.0,
    )
    data_entry_hours: float = param(
        0.3,
        "daily hours a cadre spends entering events into the digital system when every event "
        "goes up (no event filter)",
        "003",
        lo=0.0,
        hi=8.0,
    )
    visit_hours: float = param(0.5, "hours one household visit takes", "001", lo=0.0, hi=8.0)
    voice_share: float = param(
        0.5,
        "share of residents whose satisfaction reaches an outcome evaluation (the vocal)",
        "002/003",
        lo=0.0,
        hi=1.0,
    )
    recognition_gain: float = param(
        0.2,
        "recognition a cadre gains from a recognised day (fraction of the gap to 1)",
        "000/002",
        lo=0.0,
        hi=1.0,
    )
    recognition_decay: float = param(0.05, "daily decay of recognition", "000", lo=0.0, hi=1.0)
    correction_delay: float = param(
        14.0, "days a feedback channel takes to act on a reported problem", "001", lo=1.0, hi=365.0
    )
    waste_signal: float = param(
        4.0,
        "how strongly the wasted share of hours, as residents voice it, drives correction "
        "(a quarter wasted is a full-strength signal at 4)",
        "001",
        lo=0.0,
        hi=20.0,
    )
    # ----- strain, motivation, participation (seed 000, 002) ---------------------------
    exhaustion_rate: float = param(
        0.02, "exhaustion gained per day per unit of overload", "000", lo=0.0, hi=1.0
    )
    recovery_rate: float = param(
        0.03, "exhaustion recovered per day per unit of spare capacity", "000", lo=0.0, hi=1.0
    )
    backlog_load: float = param(
        0.5,
        "weight of waiting work (up to two days of it) in the load a cadre feels",
        "000",
        lo=0.0,
        hi=1.0,
    )
    low_control_strain: float = param(
        1.0,
        "extra strain of overload for a cadre with no control over its work (demand–control)",
        "000",
        lo=0.0,
        hi=5.0,
    )
    risk_strain: float = param(1.0, "extra strain of overload at full risk", "000", lo=0.0, hi=5.0)
    support_buffer: float = param(
        0.5, "share of strain that full support buffers", "000", lo=0.0, hi=1.0
    )
    anxiety_strain: float = param(
        0.1,
        "exhaustion from anxiety and felt pressure, relative to the overload rate",
        "000",
        lo=0.0,
        hi=5.0,
    )
    support_trust_weight: float = param(
        0.5, "weight of fellow cadres' trust in support", "000", lo=0.0, hi=1.0
    )
    support_resources_weight: float = param(
        0.25,
        "weight of resources in support (recognition takes the rest)",
        "000/001",
        lo=0.0,
        hi=1.0,
    )
    burnout_threshold: float = param(
        0.6, "exhaustion above which a cadre counts as burned out", "000", lo=0.0, hi=1.0
    )
    withdraw_threshold: float = param(
        0.9, "exhaustion above which a cadre withdraws until recovered", "000", lo=0.0, hi=1.0
    )
    control_rate: float = param(
        0.1,
        "daily rate at which felt job control follows the share of work a cadre chose",
        "000",
        lo=0.0,
        hi=1.0,
    )
    motivation_rate: float = param(
        0.01,
        "daily rate at which motivation responds to control, recognition and pressure",
        "000",
        lo=0.0,
        hi=1.0,
    )
    control_motivation: float = param(
        0.25, "motivation gained from full felt job control (lost at none)", "000", lo=0.0, hi=1.0
    )
    recognition_motivation: float = param(
        0.2, "motivation gained from full recognition", "000/002", lo=0.0, hi=1.0
    )
    crowding_motivation: float = param(
        0.3,
        "motivation crowded out by full felt pressure when all hours go to formalism",
        "000/001",
        lo=0.0,
        hi=1.0,
    )
    exhaustion_motivation: float = param(
        0.3, "motivation lost at full exhaustion", "000", lo=0.0, hi=1.0
    )
    initial_willingness: float = param(
        0.8, "an in-service member's willingness to serve at the start", "002", lo=0.0, hi=1.0
    )
    participation_base: float = param(
        0.4,
        "share of a willing in-service member's participation that does not depend on motivation",
        "002",
        lo=0.0,
        hi=1.0,
    )
    recognition_rebuild: float = param(
        2.0,
        "rate, relative to the decay, at which recognition rebuilds an in-service member's "
        "willingness",
        "002",
        lo=0.0,
        hi=20.0,
    )
    participation_decay: float = param(
        0.01,
        "daily decay of an in-service member's willingness without accountability",
        "002",
        lo=0.0,
        hi=1.0,
    )
