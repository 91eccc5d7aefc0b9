"""The trainer's fast paths give the numbers of the full computation they replace.

The model-specific fast paths moved with their code: pre-activation lookups to
``tests/models/test_two_layer.py``, per-row losses to ``tests/test_losses.py``, the shared n x n
product of the Gram ratios to ``tests/test_measures.py``.
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import torch

from li2core.models import TwoLayer
from li2core.tasks import make_task
from li2core.train import METRIC_SETS, METRICS, TrainConfig, train

_train_module = sys.modules["li2core.train"]  # `li2core.train` the attribute is the function


def test_basic_metric_set_gives_the_same_numbers_and_fewer_columns() -> None:
    cfgs = [TrainConfig(group="Z7", train_frac=0.5, width=16, epochs=8, eval_every=2, seed=s, lr=1e-2,
                        dtype="float64") for s in range(2)]
    full = train(cfgs, device="cpu", progress=False).frame()
    basic = train(cfgs, device="cpu", progress=False, metrics="basic").frame()
    for m in METRIC_SETS["basic"]:
        np.testing.assert_allclose(basic[m], full[m], rtol=1e-12)
    assert not set(METRICS[4:]) & set(basic.columns)
    with pytest.raises(ValueError, match="^metrics:"):
        train(cfgs, device="cpu", progress=False, metrics="fast")
    with pytest.raises(ValueError, match="^metrics:"):
        train(cfgs, device="cpu", progress=False, metrics=["test_acc", "nope"])


def test_evaluation_in_chunks_of_runs_gives_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # 3 runs in one batch, evaluated 2 runs at a time (as when a batch's evaluation does not fit in memory)
    cfgs = [TrainConfig(group="Z7", train_frac=p, width=8, epochs=6, eval_every=2, seed=s, lr=1e-2, dtype="float64")
            for s, p in [(0, 0.4), (1, 0.7), (2, 1.0)]]
    whole = train(cfgs, device="cpu", progress=False, snapshots=[3])
    monkeypatch.setattr(_train_module, "_memory_budget", lambda dev: 2 * 10**9 + 1)
    monkeypatch.setattr(TwoLayer, "per_run_bytes", staticmethod(lambda cfg, itemsize: (1, 10**9)))
    assert _train_module._Batch(cfgs, make_task("Z7"), torch.device("cpu")).eval_chunk == 2
    chunked = train(cfgs, device="cpu", progress=False, snapshots=[3])
    assert chunked.batches == whole.batches == [[0, 1, 2]]
    pd.testing.assert_frame_equal(chunked.frame(), whole.frame(), check_exact=True)
    for i in range(3):
        assert all(torch.equal(x, y) for x, y in zip(chunked.final_weights(i), whole.final_weights(i)))
        assert all(torch.equal(x, y) for x, y in zip(chunked.weights_at(i, 3), whole.weights_at(i, 3)))
