"""The Mesa face: RelationshipModel, Person views, DataCollector and batch_run."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pytest

from sim import simulate
from sim.agents import Person
from sim.engine import kernel as k
from sim.model import RelationshipModel
from sim.outcomes import LABELS
from sim.params import DYNAMICS
from sim.simulation import COUPLE_COLUMNS

MODEL_SERIES = [
    "Mean security",
    "Requests per day",
    "Answered share",
    "Share stable",
    "Share spiraling",
    "Share distant",
    "Share dissolved",
]
AGENT_SERIES = ["security", "relief", "exhaustion", "trust", "satisfaction", "requests"]


def small(**overrides) -> RelationshipModel:
    return RelationshipModel(**{"couples": 4, "days": 20, "rng": 7, **overrides})


def test_defaults_build_one_anxious_avoidant_couple_with_exact_presets():
    model = RelationshipModel(rng=1)
    assert model.day == 0 and model.running
    assert len(model.agents) == 2
    a, b = model.people["a"][0], model.people["b"][0]
    assert (a.anxiety, a.avoidance, a.style) == (0.85, 0.15, "anxious")
    assert (b.anxiety, b.avoidance, b.style) == (0.15, 0.85, "avoidant")
    assert model.setup.dynamics["relief_decay"] == DYNAMICS["relief_decay"].default


def test_parameters_are_keyword_only_with_defaults():
    signature = inspect.signature(RelationshipModel.__init__)
    parameters = [p for name, p in signature.parameters.items() if name != "self"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    assert all(p.default is not inspect.Parameter.empty for p in parameters)
    for lever in ("reassurance_frequency", "relief_decay", "exhaustion_rate"):
        assert signature.parameters[lever].default == DYNAMICS[lever].default
    with pytest.raises(TypeError):
        RelationshipModel("anxious")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"relief_decay": 0.0}, ["relief_decay", "0", "0.05", "10"]),
        ({"reassurance_frequency": 30}, ["reassurance_frequency", "30", "0", "24"]),
        ({"exhaustion_rate": -0.1}, ["exhaustion_rate", "-0.1", "0", "0.5"]),
        ({"communication": 1.5}, ["communication", "1.5", "0", "1"]),
        ({"stress_rate": float("nan")}, ["stress_rate", "nan"]),
        ({"anxiety_a": 1.2}, ["anxiety_a", "1.2", "0", "1"]),
        ({"avoidance_b": -1}, ["avoidance_b", "-1", "0", "1"]),
        ({"expression_b": 2}, ["expression_b", "2", "0", "1"]),
        ({"couples": 0}, ["couples", "0", "1"]),
        ({"days": 5000}, ["days", "5000", "1", "3650"]),
        ({"days": 2.5}, ["days", "2.5", "whole number"]),
        ({"therapy_day": -3}, ["therapy_day", "-3", "0", "3650"]),
        ({"communication_day": "soon"}, ["communication_day", "soon"]),
        ({"style_a": "clingy"}, ["style_a", "clingy", "secure", "anxious", "avoidant", "fearful"]),
        ({"dynamics": {"burnout": 3.0}}, ["burnout", "3", "0", "1"]),
        ({"dynamics": {"burnot": 0.5}}, ["burnot", "burnout"]),
        ({"dynamics": {"relief_decay": 2.0}}, ["relief_decay", "keyword"]),
    ],
)
def test_invalid_values_raise_value_error_naming_parameter_value_and_range(overrides, words):
    with pytest.raises(ValueError) as caught:
        RelationshipModel(**{"couples": 2, "days": 10, "rng": 1, **overrides})
    message = str(caught.value)
    for word in words:
        assert word in message, f"{word!r} missing from {message!r}"


def test_rng_and_seed_together_are_refused():
    with pytest.raises(ValueError, match="rng or seed"):
        RelationshipModel(rng=1, seed=1)


def test_one_step_is_one_day_and_the_run_stops_at_days():
    model = small(days=3)
    model.step()
    assert (model.day, model.steps, model.kernel.day) == (1, 1, 1)
    model.run_model()
    assert model.day == 3 and not model.running
    model.step()  # past the end: nothing more happens
    assert model.day == 3


def test_same_rng_same_run_and_integer_rng_is_the_api_seed():
    one, two = small(rng=11), small(rng=11)
    one.run_model()
    two.run_model()
    np.testing.assert_array_equal(one.kernel.S, two.kernel.S)
    assert one.kernel_seed == 11
    result = simulate(one.setup)
    np.testing.assert_array_equal(result.kernel.S, one.kernel.S)
    generator_runs = [small(rng=np.random.default_rng(5)) for _ in range(2)]
    assert generator_runs[0].kernel_seed == generator_runs[1].kernel_seed
    assert RelationshipModel(seed=11).kernel_seed == 11  # Mesa 3.3's older keyword


def test_several_couples_are_jittered_around_the_presets():
    model = small(couples=50, style_a="secure", style_b="fearful")
    anxiety = model.kernel.state("anxiety")
    assert np.unique(anxiety[0]).size == 50
    # STYLE_JITTER is 0.07: the mean of 50 draws is within 3 standard errors (0.03) of the preset.
    assert abs(anxiety[0].mean() - 0.15) < 0.03 and abs(anxiety[1].mean() - 0.85) < 0.03


def test_trait_overrides_apply_to_every_couple():
    model = small(couples=5, anxiety_a=0.4, avoidance_b=0.6)
    assert np.all(model.kernel.state("anxiety")[0] == 0.4)
    assert np.all(model.kernel.state("avoidance")[1] == 0.6)


def test_interventions_are_scheduled_by_day():
    model = small(therapy_day=5, communication_day=0)
    scheduled = {item.kind: item.day for item in model.setup.interventions}
    assert scheduled == {"communication": 0, "therapy": 5}


def test_people_are_views_on_the_kernel():
    model = small()
    person = model.people["a"][2]
    assert isinstance(person, Person)
    assert not {"security", "trust", "anxiety", "requests"} & set(vars(person))  # nothing copied
    model.kernel.state("trust")[0, 2] = 0.123
    assert person.trust == 0.123
    before = person.requests
    for _ in range(10):
        model.step()
    assert person.requests == int(model.kernel.recorder("requests")[0, 2]) >= before
    assert person.security == model.kernel.state("security")[0, 2]
    person.step()  # a no-op: the kernel advances everyone
    assert person.security == model.kernel.state("security")[0, 2]


def test_every_state_and_count_of_the_kernel_is_a_person_property():
    model = small()
    model.step()
    for person in model.agents:
        for name in k.STATE_VARS:
            assert getattr(person, name) == model.kernel.state(name)[person.row, person.couple]
        for name in ("requests", "answered", "affection_received"):
            assert getattr(person, name) == model.kernel.recorder(name)[person.row, person.couple]


def test_partners_are_symmetric():
    model = small(couples=6)
    assert len(model.agents) == 12
    for person in model.agents:
        assert person.partner.partner is person
        assert person.partner.couple == person.couple
        assert {person.role, person.partner.role} == {"a", "b"}


def test_datacollector_frames_have_the_expected_columns():
    model = small()
    for _ in range(5):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert set(MODEL_SERIES) <= set(frame.columns)
    assert len(frame) == 6  # the start and five days
    shares = frame[[f"Share {label}" for label in LABELS]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0, atol=1e-12)
    agents = model.datacollector.get_agent_vars_dataframe()
    assert set(AGENT_SERIES) <= set(agents.columns)
    assert len(agents) == 6 * 8


def test_tables_for_the_dashboard_follow_the_run_and_end_equal_to_simulate():
    model = small(couples=30, days=45)
    for _ in range(10):
        model.step()
    early = model.couples_table()
    assert list(early.columns) == list(COUPLE_COLUMNS) and len(early) == 30
    assert sum(model.outcome_counts().values()) == 30
    assert abs(sum(model.outcome_shares().values()) - 1.0) < 1e-12
    assert len(model.daily_series()) == 10
    # Before day 30 the first and last windows are the same days, so the rates agree.
    np.testing.assert_array_equal(
        early["request_rate_first_30d_a"], early["request_rate_last_30d_a"]
    )
    assert np.isclose(early["requests_a"].sum(), 10 * early["request_rate_first_30d_a"].sum())
    model.run_model()
    table = model.couples_table()
    final = simulate(model.setup).couples
    for name in COUPLE_COLUMNS:
        expected, got = final[name], table[name].to_numpy()
        if expected.dtype.kind in "USO":
            assert list(expected) == list(got), name
        else:
            np.testing.assert_array_equal(expected, got, err_msg=name)
    assert list(model.aspects()["aspect"]) == [
        "frequency",
        "emotional impact",
        "partner response",
        "long-term outcome",
    ]


def batch_run_rng_keyword() -> bool:
    return "rng" in inspect.signature(mesa.batch_run).parameters


@pytest.mark.parametrize("processes", [1, 2])
def test_batch_run_sweeps_relief_decay_and_returns_model_series(processes):
    if batch_run_rng_keyword():  # Mesa >= 3.4 (Python 3.12+): the call of the issue, verbatim
        rows = mesa.batch_run(RelationshipModel, parameters={"relief_decay": [0.5, 2.0]},
                              rng=[1, 2], max_steps=30, number_processes=processes,
                              display_progress=False)  # fmt: skip
    else:
        # Mesa 3.3.1 (what Python 3.11 installs) has no rng= keyword: it passes every entry of
        # `parameters` to the model, so the two seeds go there and give the same four runs.
        rows = mesa.batch_run(RelationshipModel,
                              parameters={"relief_decay": [0.5, 2.0], "rng": [1, 2]},
                              max_steps=30, number_processes=processes,
                              display_progress=False)  # fmt: skip
    model_rows = {(row["relief_decay"], row["RunId"]): row for row in rows}
    assert len(model_rows) == 4
    assert {decay for decay, _ in model_rows} == {0.5, 2.0}
    for row in rows:
        assert row["Step"] == 30
        for series in MODEL_SERIES:
            assert series in row
        assert 0.0 <= row["Mean security"] <= 1.0
