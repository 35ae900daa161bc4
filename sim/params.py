"""Every parameter of the model, once: name, default, range, unit and meaning.

The scenario loader, the ``--set`` option, the Mesa model's keyword arguments, the dashboard's
sliders and docs/ODD.md all read this table, so no range is written twice. Defaults and their
reasons are discussed in docs/ODD.md ("Calibration").
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "DYNAMICS",
    "INTERVENTIONS",
    "LABEL_THRESHOLDS",
    "PERSON",
    "RUN",
    "Param",
    "closest",
    "dynamics_defaults",
    "plain_number",
    "validate_value",
]


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Attributes
    ----------
    name : str
        The key in scenario files, ``--set`` and the Mesa model.
    default : float
        The calibrated default (see docs/ODD.md).
    low, high : float
        The closed range of allowed values.
    unit : str
        Unit in plain words.
    meaning : str
        One sentence a student understands.
    integer : bool
        Whether the value must be a whole number.
    label : str
        A short name for controls and figure axes (defaults to the name in words).
    lever : bool
        Whether this is one of the model's three levers (reassurance frequency, relief decay,
        exhaustion rate) or a strategy switch that the dashboard puts first.
    step : float
        Step of a slider over ``low`` to ``high``; 0 (the default) lets the dashboard choose a
        round step on which both ends and the default fall.

    """

    name: str
    default: float
    low: float
    high: float
    unit: str
    meaning: str
    integer: bool = False
    label: str = ""
    lever: bool = False
    step: float = 0.0

    @property
    def title(self) -> str:
        """The label for controls and axes: ``label`` or the name in words."""
        return self.label or self.name.replace("_", " ").capitalize()

    def allowed(self) -> str:
        """The allowed values in words, for messages: ``0 to 1 (scale 0-1)``."""
        span = f"{plain_number(self.low)} to {plain_number(self.high)} ({self.unit})"
        return f"a whole number from {span}" if self.integer else span

    def problem(self, value: object) -> str | None:
        """What is wrong with ``value`` for this parameter, in words, or ``None`` if it is allowed.

        The one rule every entry point applies (the Python API through :meth:`check`, scenario
        files and ``--set``, sweeps): a real number (Python's or NumPy's, not a bool), finite,
        whole where the parameter counts something, within ``low`` to ``high``.
        """
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return "must be a number"
        if not math.isfinite(value):
            return "must be a finite number"
        if self.integer and not isinstance(value, numbers.Integral) and float(value) != int(value):
            return "must be a whole number"
        if not self.low <= value <= self.high:
            return "is out of range"
        return None

    def check(self, value: object, where: str = "") -> float:
        """Return ``value`` as a number if it is allowed, else raise ``ValueError`` saying why."""
        problem = self.problem(value)
        if problem is None:
            return int(value) if self.integer else float(value)  # type: ignore[arg-type]
        label = where or self.name
        if problem == "must be a number":
            raise ValueError(
                f"{label} must be a number in [{plain_number(self.low)}, "
                f"{plain_number(self.high)}] ({self.unit}), got {value!r}"
            )
        if problem == "is out of range":
            raise ValueError(
                f"{label} = {plain_number(value)} is out of range; allowed: "
                f"{plain_number(self.low)} to {plain_number(self.high)} ({self.unit})"
            )
        raise ValueError(f"{label} {problem}, got {value!r}")

    def check_array(self, values, where: str = ""):
        """Return per-couple ``values`` as a float array if all are allowed, else ``ValueError``."""
        import numpy as np

        array = np.asarray(values, dtype=float)
        if not np.all((array >= self.low) & (array <= self.high)):
            raise ValueError(
                f"{where or self.name} has values outside {plain_number(self.low)} to "
                f"{plain_number(self.high)} ({self.unit})"
            )
        return array


def plain_number(x: float) -> str:
    """Format a range bound plainly: whole numbers without an exponent (10000000, not 1e+07)."""
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer()):
        return str(int(x))
    return f"{x:g}"


def _table(*params: Param) -> dict[str, Param]:
    return {p.name: p for p in params}


#: Per-person traits (set under ``[partner_a]`` and ``[partner_b]``, or drawn from a culture).
PERSON: dict[str, Param] = _table(
    Param(
        "anxiety",
        0.15,
        0.0,
        1.0,
        "scale 0-1",
        "Fear of abandonment and vigilance for rejection (ECR anxiety).",
    ),
    Param(
        "avoidance",
        0.15,
        0.0,
        1.0,
        "scale 0-1",
        "Discomfort with closeness and depending on a partner (ECR avoidance).",
    ),
    Param(
        "expression",
        0.5,
        0.0,
        1.0,
        "0 = words, 1 = actions",
        "How this person shows and reads reassurance: in words, in actions, or both.",
    ),
    Param(
        "asking_norm",
        0.6,
        0.0,
        1.0,
        "scale 0-1",
        "How acceptable explicit asking for reassurance is where this person comes from.",
    ),
)

#: The dynamics shared by both partners of a couple (``[dynamics]`` in a scenario file).
DYNAMICS: dict[str, Param] = _table(
    # The three levers of the model.
    Param(
        "reassurance_frequency",
        4.0,
        0.0,
        24.0,
        "requests per day",
        "How often a person asks for reassurance at most, when deeply insecure.",
        label="Reassurance frequency",
        lever=True,
    ),
    Param(
        "relief_decay",
        1.0,
        0.05,
        10.0,
        "per day",
        "How fast the relief from one reassurance fades, before habituation speeds it up.",
        label="Relief decay",
        lever=True,
    ),
    Param(
        "exhaustion_rate",
        0.08,
        0.0,
        0.5,
        "exhaustion per answered request",
        "What answering one request costs the answering partner.",
        label="Exhaustion rate",
        lever=True,
    ),
    # Stress and felt security.
    Param(
        "stress_rate",
        0.5,
        0.0,
        10.0,
        "stressors per day",
        "How often outside stress or intrusive doubts arrive.",
    ),
    Param(
        "stress_size",
        0.15,
        0.0,
        1.0,
        "threat per stressor",
        "How much one stressor shakes a person (more for anxious people).",
    ),
    Param(
        "stress_floor",
        0.5,
        0.0,
        2.0,
        "share of stress_size",
        "How much a stressor shakes a person without anxiety; a fully anxious person is shaken "
        "by one stress_size more.",
    ),
    Param("threat_decay", 1.0, 0.01, 10.0, "per day", "How fast accumulated stress and hurt fade."),
    Param(
        "trust_weight",
        0.5,
        0.0,
        1.0,
        "felt security",
        "How much trust in the partner lifts or lowers a person's baseline security.",
    ),
    Param(
        "base_security",
        0.8,
        0.0,
        1.0,
        "felt security",
        "Security a person without anxiety and with middling trust returns to when nothing "
        "happens.",
    ),
    Param(
        "anxiety_insecurity",
        0.3,
        0.0,
        1.0,
        "felt security",
        "How much lower a fully anxious person's baseline security is.",
    ),
    Param(
        "secure_hurt",
        0.3,
        0.0,
        1.0,
        "share of the hurt",
        "Share of a hurt (a rebuff, a cold answer, the partner's distance) a person without "
        "anxiety feels; a fully anxious person feels all of it.",
    ),
    # Seeking.
    Param(
        "seek_threshold",
        0.6,
        0.0,
        1.0,
        "felt security",
        "Felt security at which a person's urge to ask is half of its most.",
    ),
    Param(
        "seek_softness",
        0.1,
        0.01,
        0.5,
        "felt security",
        "How gradually asking rises as felt security falls (the width of the step).",
    ),
    Param(
        "routine_asking",
        0.08,
        0.0,
        0.5,
        "share of the full urge",
        "Everyday bids for reassurance that do not depend on feeling insecure.",
    ),
    Param(
        "discouragement",
        0.0,
        0.0,
        1.0,
        "share of asking",
        "How much a person who expects no answer (low trust) stops asking.",
    ),
    Param(
        "secure_asking",
        0.5,
        0.0,
        1.0,
        "share of the full rate",
        "How often a person without anxiety asks at most, as a share of a fully anxious "
        "person's rate.",
    ),
    Param(
        "withdrawn_asking",
        0.5,
        0.0,
        1.0,
        "share of asking",
        "How much less a person who has fully pulled back asks (the fearful push-pull).",
    ),
    Param(
        "norm_asking",
        0.4,
        0.0,
        1.0,
        "asking rate factor",
        "Added to the asking norm to scale asking: 0.4 makes the default norm 0.6 count as 1, "
        "a norm of 0 as 0.4.",
    ),
    Param(
        "fearful_asking",
        1.0,
        0.0,
        1.0,
        "share of deactivation",
        "How far anxiety overrides avoidant deactivation of asking: 0, avoidance suppresses "
        "asking whatever the anxiety; 1, a fully anxious and fully avoidant person asks as if "
        "not avoidant.",
    ),
    # Answering (caregiving).
    Param(
        "responsiveness",
        0.98,
        0.0,
        1.0,
        "probability",
        "Chance that a rested, close, secure partner answers a request.",
    ),
    Param(
        "avoidant_holdback",
        0.5,
        0.0,
        1.0,
        "share of answers",
        "How many answers a fully avoidant partner holds back (avoidance acts squared).",
    ),
    Param(
        "communication",
        0.2,
        0.0,
        1.0,
        "scale 0-1",
        "How clearly needs are explained: cheaper for the partner, better relief.",
    ),
    Param(
        "exhaustion_coldness",
        0.8,
        0.0,
        1.0,
        "warmth lost",
        "How much warmth an answer loses when the answering partner is fully exhausted.",
    ),
    Param(
        "cold_answer_hurt",
        0.15,
        0.0,
        1.0,
        "threat per cold answer",
        "How much a fully cold, dismissive answer hurts (more for anxious people).",
    ),
    Param(
        "exhaustion_reluctance",
        0.8,
        0.0,
        1.0,
        "share of answers",
        "How many answers a fully exhausted partner no longer gives.",
    ),
    Param(
        "withdrawn_answering",
        0.5,
        0.0,
        1.0,
        "share of answers",
        "How many answers a partner who has fully pulled back no longer gives.",
    ),
    Param(
        "clear_answering",
        0.05,
        0.0,
        1.0,
        "share of answers",
        "How many more answers a fully explained need gets than an unexplained one.",
    ),
    Param(
        "insecure_caregiving",
        0.25,
        0.0,
        1.0,
        "share of answers",
        "How many answers a caregiver who feels no security at all holds back.",
    ),
    Param(
        "compulsive_caregiving",
        0.15,
        0.0,
        1.0,
        "share of answers",
        "How much more readily a fully anxious caregiver answers (compulsive caregiving).",
    ),
    Param(
        "avoidant_coolness",
        0.4,
        0.0,
        1.0,
        "warmth lost",
        "How much cooler a fully avoidant partner's answers are.",
    ),
    Param(
        "anxious_insensitivity",
        0.2,
        0.0,
        1.0,
        "warmth lost",
        "How much less attuned a fully anxious partner's answers are.",
    ),
    Param(
        "clear_quality",
        0.4,
        0.0,
        1.0,
        "quality lost",
        "How much of an answer's or gesture's quality is lost when nothing is explained "
        "(communication 0).",
    ),
    # Relief, habituation, rebound, rebuff.
    Param(
        "relief_gain",
        0.6,
        0.0,
        1.0,
        "relief per answer",
        "Relief from one fully effective answer to a fresh person.",
    ),
    Param(
        "habituation_gain",
        0.02,
        0.0,
        1.0,
        "per reassurance received",
        "How much each answered request gets a person used to reassurance.",
    ),
    Param("habituation_decay", 0.05, 0.0, 1.0, "per day", "How fast habituation fades (weeks)."),
    Param(
        "habituation_speedup",
        2.0,
        0.0,
        20.0,
        "times faster at full habituation",
        "How much habituation shortens relief: relief decays (1 + this x habituation) faster.",
    ),
    Param(
        "secure_habituation",
        0.2,
        0.0,
        1.0,
        "share of the gain",
        "How fast a person without anxiety habituates to reassurance, as a share of a fully "
        "anxious person's pace.",
    ),
    Param(
        "rebound",
        0.15,
        0.0,
        2.0,
        "threat per unit of faded relief",
        "How much fading relief turns into fresh doubt for a fully anxious person.",
    ),
    Param(
        "rebuff_hurt",
        0.12,
        0.0,
        1.0,
        "threat per unanswered request",
        "How much an unanswered request hurts (more for anxious people).",
    ),
    Param(
        "push_pull",
        0.5,
        0.0,
        1.0,
        "share",
        "How much a fearful person discounts an answer and pulls back after getting one.",
    ),
    Param(
        "pullback",
        0.25,
        0.0,
        1.0,
        "share of push_pull",
        "How far a fully fearful person pulls back after each answer, as a share of push_pull.",
    ),
    # The answerer's cost.
    Param(
        "recovery_rate",
        0.6,
        0.0,
        5.0,
        "per day",
        "How fast exhaustion recovers when the partner is left in peace.",
    ),
    Param(
        "burnout",
        0.8,
        0.0,
        1.0,
        "share of recovery lost",
        "How much recovery slows when exhaustion is total (a source of tipping points).",
    ),
    Param(
        "exhaustion_withdrawal",
        0.4,
        0.0,
        2.0,
        "withdrawal per request received",
        "How much an exhausted partner pulls back when asked again, whatever their style.",
    ),
    Param(
        "avoidant_burden",
        1.0,
        0.0,
        2.0,
        "share of the base cost",
        "How much more answering costs a fully avoidant partner (the base cost is half of "
        "exhaustion_rate).",
    ),
    Param(
        "anxious_burden",
        0.5,
        0.0,
        2.0,
        "share of the base cost",
        "How much more answering costs a fully anxious partner (compulsive caregiving).",
    ),
    Param(
        "clear_ease",
        0.5,
        0.0,
        1.0,
        "share",
        "How much a fully explained request lowers what it costs the partner and how much it "
        "crowds them.",
    ),
    Param(
        "norm_burden",
        1.6,
        1.0,
        3.0,
        "cost factor",
        "The asking norm is subtracted from this to scale what answering costs: 1.6 makes the "
        "default norm 0.6 count as 1.",
    ),
    # Trust and distance.
    Param(
        "trust_learning_rate",
        0.015,
        0.0,
        1.0,
        "per request",
        "How far trust moves toward what the partner's answer showed with each request.",
    ),
    Param(
        "rebuff_learning",
        0.5,
        0.0,
        2.0,
        "share of the learning rate",
        "How much an unanswered request teaches distrust, relative to what an answer teaches.",
    ),
    Param(
        "affection_learning",
        0.5,
        0.0,
        2.0,
        "share of the learning rate",
        "How much one unasked gesture teaches trust, relative to an answered request.",
    ),
    Param(
        "withdrawal_gain",
        0.12,
        0.0,
        1.0,
        "per request received",
        "How much a fully avoidant partner pulls back when asked for reassurance.",
    ),
    Param("withdrawal_decay", 0.5, 0.01, 10.0, "per day", "How fast a partner's withdrawal fades."),
    Param(
        "withdrawal_threat",
        0.5,
        0.0,
        1.0,
        "felt security",
        "How much a partner's withdrawal lowers felt security (weighted by anxiety).",
    ),
    # Unasked affection, channels, closeness.
    Param(
        "affection_rate",
        1.5,
        0.0,
        24.0,
        "gestures per day",
        "Unasked affection a close, rested partner gives.",
    ),
    Param(
        "avoidant_reserve",
        0.5,
        0.0,
        1.0,
        "share of gestures",
        "How many fewer unasked gestures a fully avoidant person makes.",
    ),
    Param(
        "affection_relief",
        0.3,
        0.0,
        1.0,
        "relief per gesture",
        "Relief from one unasked gesture (it does not feed habituation).",
    ),
    Param(
        "channel_mismatch",
        0.6,
        0.0,
        1.0,
        "quality lost",
        "Quality lost when reassurance is given in words and read in actions, or vice versa.",
    ),
    Param(
        "closeness_gain",
        0.3,
        0.0,
        1.0,
        "closeness per warm exchange",
        "How much one warm answer or gesture received adds to felt closeness.",
    ),
    Param(
        "closeness_decay",
        0.2,
        0.01,
        5.0,
        "per day",
        "How fast felt closeness fades without warm exchanges.",
    ),
    # Satisfaction, commitment and dissolution.
    Param(
        "satisfaction_rate",
        0.02,
        0.001,
        1.0,
        "per day",
        "How fast satisfaction follows how the relationship feels.",
    ),
    Param(
        "security_weight",
        0.35,
        0.0,
        1.0,
        "satisfaction",
        "How much felt security counts in satisfaction.",
    ),
    Param(
        "partner_trust_weight",
        0.15,
        0.0,
        1.0,
        "satisfaction",
        "How much trust in the partner's availability counts in satisfaction.",
    ),
    Param(
        "closeness_weight",
        0.7,
        0.0,
        1.0,
        "satisfaction",
        "How much felt closeness counts in satisfaction.",
    ),
    Param(
        "burden_weight",
        0.35,
        0.0,
        1.0,
        "satisfaction",
        "Satisfaction lost by a fully exhausted person (the cost of answering).",
    ),
    Param(
        "pursuit_weight",
        0.3,
        0.0,
        1.0,
        "satisfaction",
        "Satisfaction lost by a person who has fully pulled back from a pursuing partner.",
    ),
    Param(
        "commitment_rate", 0.02, 0.0, 1.0, "per day", "How fast commitment follows satisfaction."
    ),
    Param(
        "commitment_floor",
        0.3,
        0.0,
        1.0,
        "commitment",
        "Commitment kept by investments and barriers even when satisfaction is gone "
        "(higher for married couples).",
    ),
    Param(
        "investment_weight",
        0.0,
        0.0,
        1.0,
        "commitment",
        "How much a person's investments (time, shared friends, a home, plans; 0 to 1, growing "
        "with time together) add to what holds their commitment up.",
    ),
    Param(
        "investment_days",
        365,
        30,
        3650,
        "days",
        "How fast investments grow: a fully satisfied person's investments close the share "
        "1 - exp(-1) of their gap to the most in this many days.",
    ),
    Param(
        "barrier_spread",
        0.0,
        0.0,
        0.5,
        "standard deviation",
        "How much couples differ in the barriers to leaving (children, shared home and money, "
        "beliefs about divorce): the spread of each couple's commitment floor.",
    ),
    Param(
        "anxious_dependence",
        0.4,
        0.0,
        1.0,
        "share",
        "How much of the commitment that dissatisfaction takes an anxious person keeps "
        "(dependence: fewer alternatives, fear of being single).",
    ),
    Param(
        "dissolution_satisfaction",
        0.3,
        0.0,
        1.0,
        "satisfaction",
        "Satisfaction below which a person considers leaving.",
    ),
    Param(
        "dissolution_commitment",
        0.56,
        0.0,
        1.0,
        "commitment",
        "Commitment below which a dissatisfied person actually leaves.",
    ),
    Param(
        "dissolution_days",
        60,
        1,
        365,
        "days",
        "Mean wait from wanting out to leaving (a daily chance of 1 in this many).",
        integer=True,
    ),
    # The couple's history before day 1.
    Param(
        "start_trust",
        0.55,
        0.0,
        1.0,
        "trust",
        "Mean trust at the start: what the couple learned before the simulation.",
    ),
    Param("start_satisfaction", 0.7, 0.0, 1.0, "satisfaction", "Mean satisfaction at the start."),
    Param("start_commitment", 0.7, 0.0, 1.0, "commitment", "Mean commitment at the start."),
    Param(
        "start_investment",
        0.8,
        0.0,
        1.0,
        "investment",
        "Mean investments at the start (0 to 1): what the couple has built before the simulation.",
    ),
    Param(
        "investment_spread",
        0.15,
        0.0,
        0.5,
        "standard deviation",
        "How much couples' starting investments vary (living together or not, shared friends, "
        "how long they have been together).",
    ),
    Param(
        "history_spread",
        0.12,
        0.0,
        0.5,
        "standard deviation",
        "How much couples' starting trust, satisfaction and commitment vary.",
    ),
    Param(
        "appraisal_spread",
        0.15,
        0.0,
        0.5,
        "standard deviation",
        "Lasting person-to-person differences in how satisfied one is with the same "
        "relationship (things the model leaves out).",
    ),
    Param(
        "appraisal_days",
        2000,
        30,
        36500,
        "days",
        "How long the lasting appraisal holds: it follows outside events as a slow walk whose "
        "values a year apart correlate exp(-365 / days).",
    ),
    Param(
        "shared_stress",
        0.5,
        0.0,
        1.0,
        "share",
        "How much of what happens outside the couple (money, work, housing, family) the two "
        "partners share: the correlation of their outside events.",
    ),
    Param(
        "alternatives_spread",
        0.12,
        0.0,
        0.5,
        "standard deviation",
        "How much the quality of a person's alternatives to the relationship varies (someone "
        "new, a move, friends' disapproval), on the satisfaction scale.",
    ),
    Param(
        "alternatives_days",
        120,
        7,
        3650,
        "days",
        "How long an alternative stays: the quality of alternatives follows a slow walk whose "
        "values this many days apart correlate exp(-1).",
    ),
    Param(
        "idealization",
        0.1,
        0.0,
        0.9,
        "share",
        "The rosy view at the start: the share of the gap to an ideal relationship it closes, "
        "fading with time together (disillusionment); larger for newer couples.",
    ),
    Param(
        "idealization_days",
        365,
        30,
        36500,
        "days",
        "How long the idealisation lasts: it fades as exp(-day / days).",
    ),
    Param(
        "working_model_change",
        0.15,
        0.0,
        1.0,
        "share",
        "How far a person's anxiety and avoidance move with experience: by this share of how "
        "much more (or less) available the partner has been than they expected.",
    ),
    Param(
        "working_model_days",
        365,
        30,
        36500,
        "days",
        "How slowly attachment follows experience with the partner (time scale of the revision).",
    ),
    Param(
        "life_events_spread",
        0.0,
        0.0,
        0.3,
        "standard deviation",
        "How far what happens outside the couple (losses, illness, moves, other relationships) "
        "moves a person's anxiety and avoidance: the spread of a slow walk added to both (off by "
        "default; 0.12 makes one-year stability about 0.85).",
    ),
    Param(
        "life_events_days",
        365,
        30,
        36500,
        "days",
        "How slowly those outside events move attachment: values of the walk this many days "
        "apart correlate exp(-1).",
    ),
    # Treatments (the five strategies): response, relapse, trait change.
    Param(
        "treatment_engagement",
        0.6,
        0.01,
        0.99,
        "share",
        "Mean share of a strategy's possible benefit a couple takes up (attendance and "
        "response); it varies between couples.",
    ),
    Param(
        "session_gain",
        0.2,
        0.0,
        1.0,
        "share per session",
        "Share of the remaining benefit a couple gains from each session or practice week.",
    ),
    Param(
        "relapse_share",
        0.25,
        0.0,
        1.0,
        "share of couples",
        "Share of couples who lose their gains after a strategy ends.",
    ),
    Param(
        "gain_fading",
        0.0003,
        0.0,
        1.0,
        "per day",
        "How fast gains fade after a strategy ends, for couples who keep them.",
    ),
    Param(
        "relapse_fading",
        0.02,
        0.0,
        1.0,
        "per day",
        "How fast gains fade after a strategy ends, for couples who relapse.",
    ),
    Param(
        "anxiety_norm",
        0.4,
        0.0,
        1.0,
        "scale 0-1",
        "Population mean anxiety: treatment moves anxiety toward it, never below.",
    ),
    Param(
        "avoidance_norm",
        0.35,
        0.0,
        1.0,
        "scale 0-1",
        "Population mean avoidance: treatment moves avoidance toward it, never below.",
    ),
    Param(
        "max_trait_change",
        0.2,
        0.0,
        1.0,
        "scale 0-1",
        "The largest change in anxiety or avoidance that full treatment brings.",
    ),
    Param(
        "trait_change",
        1.0,
        0.0,
        1.0,
        "share",
        "Whether treatments change traits (1) or act only through their own mechanism (0).",
    ),
    Param(
        "self_soothing",
        0.85,
        0.0,
        5.0,
        "relief per day",
        "Relief a person gives themself per day with therapy's skills at full benefit.",
    ),
    Param(
        "awareness_effect",
        0.5,
        0.0,
        1.0,
        "share",
        "How much style awareness at full benefit lowers withdrawal after a request, the hurt "
        "of the partner's distance and avoidance's hold on answers.",
    ),
    Param(
        "communication_target",
        0.8,
        0.0,
        1.0,
        "scale 0-1",
        "The communication that practising open communication brings a couple to at full benefit.",
    ),
    Param(
        "actions_channel",
        1.0,
        0.0,
        1.0,
        "share of the mismatch",
        "How much of the word/action mismatch consistent actions remove at full benefit.",
    ),
    Param(
        "actions_affection",
        1.0,
        0.0,
        4.0,
        "times the usual rate",
        "How much unasked affection consistent actions add at full benefit (1 doubles it).",
    ),
    Param(
        "fears_habituation",
        0.5,
        0.0,
        1.0,
        "share",
        "How much addressing the fears lowers habituation gain at full benefit.",
    ),
    Param(
        "fears_rebound",
        0.5,
        0.0,
        1.0,
        "share",
        "How much addressing the fears lowers rebound at full benefit.",
    ),
    Param(
        "fears_trait",
        0.7,
        0.0,
        1.0,
        "share of therapy's",
        "How much of therapy's change in anxiety addressing the fears brings.",
    ),
)

#: Run-level settings of a scenario file.
RUN: dict[str, Param] = _table(
    Param("days", 180, 1, 3650, "days", "Simulated days.", integer=True),
    Param("seed", 0, 0, 2**63 - 1, "integer", "Seed of the run's random numbers.", integer=True),
    Param(
        "couples", 200, 1, 10_000_000, "couples", "Replicate couples of this pairing.", integer=True
    ),
)

#: The source article's strategies, each an intervention that can be scheduled from a day on.
INTERVENTIONS: dict[str, str] = {
    "style_awareness": "Recognise each other's attachment styles: a request reads as a need, "
    "not pressure, so the partner pulls back half as much and avoidance holds back answers "
    "half as much; distance reads as a style, not rejection, so it hurts half as much.",
    "communication": "Communicate openly: needs are explained, so answering costs less, crowds "
    "the partner less and relief is better (communication rises toward 0.8).",
    "consistent_actions": "Reassure through words and consistent actions: answers reach both "
    "channels (no mismatch) and unasked affection doubles.",
    "address_fears": "Address the underlying fear: habituation builds half as fast, rebound "
    "halves, and anxiety eases toward the population norm (bounded).",
    "therapy": "Professional support (couple therapy): self-soothing gives relief without the "
    "partner, and anxiety and avoidance ease toward the population norm (bounded).",
}


#: The outcome labels' thresholds (``[labels]`` in a scenario file; ``sim.outcomes``). They are
#: applied to a run's end state, not inside the simulation, so changing one relabels the same
#: couples. Why each value (docs/ODD.md, section 8): ``spiral_rate`` is the source article's
#: "occasional" bound (about once a day), ``excessive_rate`` its "constant, repetitive" (twice a
#: day, whatever else holds); ``spiral_trust`` lies below where trust starts (0.55), so the asker
#: has learned that answers fail; ``spiral_exhaustion`` is half of the partner's possible
#: exhaustion; ``distant_satisfaction`` lies below where satisfaction starts (0.7) and below the
#: bulk of a secure population's; ``distant_contact`` is one answer or unasked gesture a day
#: between the two partners, less than secure couples exchange on their own (affection alone is
#: about 1.5 a day each).
LABEL_THRESHOLDS: dict[str, Param] = _table(
    Param(
        "spiral_rate",
        1.0,
        0.0,
        24.0,
        "requests per day, last 30 days",
        "Requests a day at which an asker spirals if the cycle is not working (low trust or an "
        "exhausted partner).",
    ),
    Param(
        "excessive_rate",
        2.0,
        0.0,
        24.0,
        "requests per day, last 30 days",
        "Requests a day at which an asker spirals whatever else holds (constant asking).",
    ),
    Param(
        "spiral_trust",
        0.45,
        0.0,
        1.0,
        "trust",
        "The asker's final trust below which the cycle is not working.",
    ),
    Param(
        "spiral_exhaustion",
        0.5,
        0.0,
        1.0,
        "exhaustion",
        "The partner's final exhaustion from which the cycle is not working.",
    ),
    Param(
        "distant_satisfaction",
        0.45,
        0.0,
        1.0,
        "satisfaction",
        "The lower final satisfaction of the two below which a couple is distant.",
    ),
    Param(
        "distant_contact",
        1.0,
        0.0,
        100.0,
        "answers and gestures per day, both partners",
        "Answers plus unasked gestures a day, both partners together, below which a couple is "
        "distant.",
    ),
)


def dynamics_defaults() -> dict[str, float]:
    """Return the default value of every dynamics parameter, by name."""
    return {name: p.default for name, p in DYNAMICS.items()}


def closest(name: str, choices: Mapping[str, object] | list[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice to ``name``, or ``""``."""
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def validate_value(table: Mapping[str, Param], name: str, value: object, where: str = "") -> float:
    """Check one value against ``table``; raise ``ValueError`` naming what is wrong and allowed."""
    if name not in table:
        raise ValueError(
            f"unknown parameter {name!r}{closest(name, table)}; allowed: {', '.join(table)}"
        )
    return table[name].check(value, where or name)
