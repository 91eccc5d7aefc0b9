"""TrainConfig validation and derived properties (li2core.train.TrainConfig)."""
from __future__ import annotations

import dataclasses
import math

import pytest

from li2core.groups import NAME_HELP
from li2core.losses import LOSSES
from li2core.models import ACTIVATIONS
from li2core.optim import OPTIMIZERS
from li2core.tasks import n_train_for
from li2core.train import TrainConfig

SMALL = dict(group="Z7", width=8, epochs=3)

# (overrides, field, accepted values the message must list, or None)
BAD = [
    (dict(group="Q7"), "group", ["Z<m>"]),
    (dict(group="Z1"), "group", ["Z<m>"]),
    (dict(group=7), "group", ["Z<m>"]),
    (dict(activation="tanh"), "activation", list(ACTIVATIONS)),
    (dict(loss="mse"), "loss", list(LOSSES)),
    (dict(optimizer="lion"), "optimizer", list(OPTIMIZERS)),
    (dict(train_frac=0), "train_frac", ["(0, 1]"]),
    (dict(train_frac=0.0), "train_frac", ["(0, 1]"]),
    (dict(train_frac=-0.1), "train_frac", ["(0, 1]"]),
    (dict(train_frac=1.5), "train_frac", ["(0, 1]"]),
    (dict(train_frac=float("nan")), "train_frac", ["(0, 1]"]),
    (dict(train_frac=None), "train_frac", ["(0, 1]"]),
    (dict(train_frac="0.4"), "train_frac", ["(0, 1]"]),
    (dict(train_frac=True), "train_frac", ["(0, 1]"]),
    (dict(train_frac=0.01), "train_frac", None),  # Z7: 49 - ceil(48.51) = 0 training pairs
    (dict(width=0), "width", None),
    (dict(width=-3), "width", None),
    (dict(width=16.0), "width", None),
    (dict(epochs=0), "epochs", None),
    (dict(epochs=-1), "epochs", None),
    (dict(lr=-1e-3), "lr", None),
    (dict(lr=float("nan")), "lr", None),
    (dict(lr=float("inf")), "lr", None),
    (dict(weight_decay=-2e-4), "weight_decay", None),
    (dict(weight_decay=float("inf")), "weight_decay", None),
    (dict(seed=-1), "seed", None),
    (dict(seed=1.5), "seed", None),
    (dict(eval_every=0), "eval_every", None),
    (dict(top_layer_init_multiplier=float("nan")), "top_layer_init_multiplier", None),
    (dict(dtype="float16"), "dtype", ["float32", "float64"]),
    (dict(train_frac=0.4, critical_delta=0.0), "train_frac", ["critical_delta"]),
    (dict(train_frac=None, critical_delta=float("nan")), "critical_delta", None),
    (dict(train_frac=None, critical_delta=3.0), "critical_delta", None),  # p <= 0
]


@pytest.mark.parametrize("overrides,field,accepted", BAD, ids=[f"{f}={o}" for o, f, _ in BAD])
def test_invalid_config_raises_naming_the_field(overrides, field, accepted):
    with pytest.raises(ValueError) as ei:
        TrainConfig(**{**SMALL, **overrides})
    msg = str(ei.value)
    assert msg.startswith(f"{field}:"), msg
    assert "\n" not in msg
    for a in accepted or []:
        assert a in msg, (a, msg)


def test_group_message_lists_the_accepted_forms():
    with pytest.raises(ValueError) as ei:
        TrainConfig(**{**SMALL, "group": "S5"})
    assert NAME_HELP in str(ei.value) and "'S5'" in str(ei.value)


def test_valid_configs_construct():
    TrainConfig()  # the defaults (paper Fig. 3 setting)
    for act in ACTIVATIONS:
        for loss in LOSSES:
            for opt in OPTIMIZERS:
                TrainConfig(**SMALL, activation=act, loss=loss, optimizer=opt)
    TrainConfig(group="Z4xZ7", train_frac=1.0, width=1, epochs=1, lr=0.0, weight_decay=0.0, seed=0,
                top_layer_init_multiplier=0.0, dtype="float64")
    TrainConfig(group="Z71", train_frac=None, critical_delta=0.0)
    TrainConfig(group="Z71", train_frac=None, critical_delta=-0.5)


def test_p_n_train_and_M_properties():
    c = TrainConfig(group="Z71", train_frac=0.4)
    assert c.M == 71 and c.p == 0.4 and c.n_train == 2016
    c = TrainConfig(group="Z4xZ7", train_frac=0.5)
    assert c.M == 28 and c.n_train == 784 - math.ceil(0.5 * 784)
    c = TrainConfig(group="Z71", train_frac=None, critical_delta=0.0)
    p = 2.7482 * math.log(71) / 71
    assert c.p == pytest.approx(p, rel=1e-14)
    assert c.n_train == n_train_for(5041, p) == 831
    c = TrainConfig(group="Z23", train_frac=None, critical_delta=0.5)
    assert c.p == pytest.approx((2.7482 - 0.5) * math.log(23) / 23, rel=1e-14)
    # clipped to 1 for tiny groups
    assert TrainConfig(group="Z3", train_frac=None, critical_delta=0.0).p == 1.0


def test_config_is_frozen_and_replace_revalidates():
    c = TrainConfig(**SMALL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.width = 3  # type: ignore[misc]
    assert c.replace(width=3).width == 3
    with pytest.raises(ValueError, match="^width:"):
        c.replace(width=0)


def test_batch_key_ignores_per_run_fields():
    c = TrainConfig(**SMALL)
    same = [c.replace(seed=4), c.replace(lr=0.1), c.replace(weight_decay=0.0), c.replace(train_frac=0.9),
            c.replace(top_layer_init_multiplier=0.0)]
    assert all(x.batch_key() == c.batch_key() for x in same)
    diff = [c.replace(width=9), c.replace(group="Z5"), c.replace(loss="nll"), c.replace(activation="relu"),
            c.replace(optimizer="sgd"), c.replace(epochs=4), c.replace(eval_every=2), c.replace(dtype="float64")]
    assert all(x.batch_key() != c.batch_key() for x in diff)
