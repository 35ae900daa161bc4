"""The Python API names what is wrong and what is allowed (issue 14, item 16)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import Setup


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"partner_a": "anxious"}, TypeError, "partner_a must be a mapping"),
        ({"dynamics": [1, 2]}, TypeError, "dynamics must be a mapping"),
        ({"couples": 5, "dynamics": {"relief_decay": np.ones(3)}}, ValueError,
         "dynamics.relief_decay has 3 values; it needs one per couple (5)"),
        ({"couples": 5, "partner_b": {"style": "secure", "avoidance": np.full(3, 0.5)}},
         ValueError, "partner_b.avoidance has 3 values; it needs one per couple (5)"),
        ({"relationship": "engaged"}, ValueError, "relationship must be one of dating, married"),
        ({"culture": "reservd"}, ValueError, "did you mean 'reserved'"),
        ({"interventions": [{"kind": "therapy", "dose": 40}]}, ValueError,
         "dose must be a number from 0 to 14"),
    ],
)  # fmt: skip
def test_bad_setups_say_what_is_wrong(kwargs, error, words):
    with pytest.raises(error, match=None) as caught:
        Setup(**kwargs)
    assert words in str(caught.value)


def test_numpy_numbers_are_numbers():
    setup = Setup(couples=np.int64(4), days=np.int32(3), seed=np.uint8(1),
                  dynamics={"relief_decay": np.float64(2.0)},
                  partner_a={"style": "anxious", "anxiety": np.float32(0.5)},
                  interventions=[{"kind": "therapy", "day": np.int64(1)}])  # fmt: skip
    assert (setup.couples, setup.days, setup.seed) == (4, 3, 1)
    assert setup.dynamics["relief_decay"] == 2.0
    assert setup.interventions[0].day == 1
