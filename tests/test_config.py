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
    (dict(extra_layers=-1), "extra_layers", None),
    (dict(extra_layers=1.0), "extra_layers", None),
    (dict(extra_layers=True), "extra_layers", None),
    (dict(complex_weights=1), "complex_weights", None),
    (dict(complex_weights=True, activation="relu"), "complex_weights", ["sqr", "silu"]),
    (dict(complex_weights=True, activation="relusqr"), "complex_weights", ["sqr", "silu"]),
    (dict(ridge_V=0.0), "ridge_V", None),
    (dict(ridge_V=-1e-3), "ridge_V", None),
    (dict(ridge_V=float("nan")), "ridge_V", None),
    (dict(ridge_V=float("inf")), "ridge_V", None),
    (dict(ridge_V="1e-3"), "ridge_V", None),
    (dict(ridge_V=1e-3, loss="nll"), "ridge_V", ["mse_class", "mse_sample"]),
    (dict(output_scale=float("nan")), "output_scale", None),
    (dict(output_scale=float("inf")), "output_scale", None),
    (dict(output_scale=0.0), "output_scale", None),
    (dict(output_scale=-2.0), "output_scale", None),
    (dict(family="nope"), "family", ["two_layer", "deep"]),
    (dict(family=3), "family", None),
    (dict(family="two_layer", extra_layers=1), "family", ["deep"]),
    (dict(family="two_layer", output_scale=2.0), "family", ["deep"]),
    (dict(optimizer="muon", extra_layers=1), "optimizer", ["two-layer"]),
    (dict(optimizer="muon", family="deep"), "optimizer", ["two-layer"]),
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
    for act in ("sqr", "silu"):
        TrainConfig(**SMALL, activation=act, complex_weights=True, extra_layers=2, ridge_V=1e-3, output_scale=0.5)
    TrainConfig(**SMALL, family="deep", activation="relu", extra_layers=3)
    TrainConfig(**SMALL, family="two_layer")


def test_family_is_chosen_from_the_variants():
    assert TrainConfig(**SMALL).model_family == "two_layer" and not TrainConfig(**SMALL).has_variant
    for v in (dict(extra_layers=1), dict(complex_weights=True), dict(ridge_V=0.1), dict(output_scale=2.0)):
        c = TrainConfig(**SMALL, **v)
        assert c.has_variant and c.model_family == "deep"
    assert TrainConfig(**SMALL, family="deep").model_family == "deep"
    assert TrainConfig(**SMALL, output_scale=1).model_family == "two_layer"  # 1 == 1.0: the default


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
    same += [c.replace(family="deep").replace(output_scale=2.0), c.replace(ridge_V=0.1).replace(ridge_V=0.3)]
    assert same[-2].batch_key() == c.replace(family="deep").batch_key()
    assert same[-1].batch_key() == c.replace(ridge_V=0.1).batch_key()
    same = same[:-2]
    diff = [c.replace(width=9), c.replace(group="Z5"), c.replace(loss="nll"), c.replace(activation="relu"),
            c.replace(optimizer="sgd"), c.replace(epochs=4), c.replace(eval_every=2), c.replace(dtype="float64"),
            c.replace(family="deep"), c.replace(extra_layers=1), c.replace(complex_weights=True),
            c.replace(ridge_V=0.1)]
    assert all(x.batch_key() != c.batch_key() for x in diff)


def test_complex_imag_init_needs_complex_weights():
    with pytest.raises(ValueError, match="^complex_imag_init:"):
        TrainConfig(**SMALL, complex_imag_init=0.5)
    with pytest.raises(ValueError, match="^complex_imag_init:"):
        TrainConfig(**SMALL, complex_weights=True, complex_imag_init=float("nan"))
    assert TrainConfig(**SMALL, complex_weights=True, complex_imag_init=0.5).model_family == "deep"
