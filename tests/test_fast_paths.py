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


# ----------------------------------------------------------------------------------------------------------------
# Issue 13's CPU speed work: the chunked step with buffers, the mse_class gradient without the loss value, the chunked
# evaluation and the Adam scratch buffers give the numbers of the code they replaced (tests/oracles_fast.py, a verbatim
# copy of it), bit for bit.
# ----------------------------------------------------------------------------------------------------------------
import itertools  # noqa: E402

from oracles_fast import legacy  # noqa: E402

import li2core.models.two_layer as _two_layer  # noqa: E402


def _runs(**kw) -> list[TrainConfig]:
    # three runs with different training sets (different n_train: padding rows) and per-run lr / weight decay
    # width 13: a run's (n, K) and (n, M) matrices are not 64-byte multiples, so chunks start at other alignments
    base = dict(group="Z11", width=13, epochs=50, eval_every=5, dtype="float32")
    base.update(kw)
    return [TrainConfig(seed=s, train_frac=p, lr=lr, weight_decay=wd, **base)
            for s, p, lr, wd in [(0, 0.4, 1e-2, 2e-4), (1, 0.6, 3e-3, 0.0), (2, 0.5, 1e-2, 1e-3)]]


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.frame(), b.frame(), check_exact=True)
    for i in range(len(a.configs)):
        for x, y in zip(a.final_weights(i), b.final_weights(i)):
            assert torch.equal(x, y)


_COMBOS = list(itertools.product(["mse_class", "mse_sample", "nll"], ["sqr", "relu", "silu", "relusqr"],
                                 ["adam", "adamw", "sgd", "muon"]))


@pytest.mark.parametrize(("loss", "act", "opt"), _COMBOS)
def test_fast_step_equals_the_replaced_code_bit_for_bit(monkeypatch: pytest.MonkeyPatch, loss, act, opt) -> None:
    # chunks of 1 or 2 runs (then the last one partial) over 50 epochs, for every loss x activation x optimizer
    cfgs = _runs(loss=loss, activation=act, optimizer=opt)
    n = max(c.n_train for c in cfgs)
    runs = 1 + (len(loss) + len(act)) % 2  # 1 or 2 runs per chunk (CHUNK_BYTES is per thread)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    monkeypatch.setattr(_two_layer, "CHUNK_BYTES", runs * n * 13 * 4)
    new = train(cfgs, device="cpu", progress=False, metrics="basic")
    with legacy():
        old = train(cfgs, device="cpu", progress=False, metrics="basic")
    _same(new, old)
    assert len(new.frame()) == 3 * 11
    assert np.isfinite(new.frame().train_loss).all()


@pytest.mark.parametrize("chunk", [1, 3])
def test_fast_paths_with_every_metric_equal_the_replaced_code(monkeypatch: pytest.MonkeyPatch, chunk) -> None:
    # metrics="all" takes the Gram path of the evaluation (one chunk) and the cosine distances of the step's weights
    cfgs = _runs(epochs=20)
    n = max(c.n_train for c in cfgs)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    monkeypatch.setattr(_two_layer, "CHUNK_BYTES", chunk * n * 13 * 4)
    new = train(cfgs, device="cpu", progress=False, snapshots=[7])
    with legacy():
        old = train(cfgs, device="cpu", progress=False, snapshots=[7])
    _same(new, old)
    for i in range(3):
        assert all(torch.equal(x, y) for x, y in zip(new.weights_at(i, 7), old.weights_at(i, 7)))


@pytest.mark.parametrize("threads", [1, 2])
def test_fast_paths_at_the_benchmark_shapes_equal_the_replaced_code(threads) -> None:
    # the cpu preset's M and K (Z41, K 512: MKL's blocked kernels, several chunks of one run), fewer runs and epochs
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        cfgs = [TrainConfig(group="Z41", train_frac=0.4, width=512, epochs=12, eval_every=4, seed=s, lr=1e-3,
                            weight_decay=2e-4) for s in range(3)]
        new = train(cfgs, device="cpu", progress=False, metrics="basic")
        with legacy():
            old = train(cfgs, device="cpu", progress=False, metrics="basic")
    finally:
        torch.set_num_threads(saved)
    _same(new, old)


def test_the_numbers_do_not_depend_on_the_thread_count() -> None:
    # what lets the parallel book build cap each kernel at cores // jobs threads (tools/build_book.py,
    # kernel_thread_env) without changing a page: fig3_grokking's ci shapes, every metric, 1 and 2 threads
    cfgs = [TrainConfig(group="Z41", train_frac=0.4, width=512, epochs=12, eval_every=4, seed=s, lr=1e-3,
                        weight_decay=w) for s in range(2) for w in (6e-4, 0.0)]
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = train(cfgs, device="cpu", progress=False)
        torch.set_num_threads(2)
        two = train(cfgs, device="cpu", progress=False)
    finally:
        torch.set_num_threads(saved)
    _same(one, two)


def test_the_chunks_fit_the_cache_and_mse_sample_is_not_chunked() -> None:
    from li2core.models import BatchData  # noqa: F401  (the seam's data type, built by the trainer)

    def model(cfgs):
        return _train_module._Batch(cfgs, make_task(cfgs[0].group), torch.device("cpu"), METRIC_SETS["basic"]).model

    cfgs = [TrainConfig(group="Z41", train_frac=0.4, width=512, epochs=1, seed=s) for s in range(8)]
    saved = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        m = model(cfgs)
        torch.set_num_threads(2)
        m2 = model(cfgs)
    finally:
        torch.set_num_threads(saved)
    assert m.chunk == 1 and m.chunk_eval == 1  # one run's (672, 512) float32 tensor is 1.4 MB > CHUNK_BYTES / 2
    assert [ch["s"] for ch in m._chunks] == [slice(r, r + 1) for r in range(8)]
    assert m2.chunk == 2 and m2.chunk_eval == 2  # a run per thread (the grid of one run is 3.4 MB)
    assert [ch["s"] for ch in m2._chunks] == [slice(r, r + 2) for r in range(0, 8, 2)]
    small = model([TrainConfig(group="Z7", width=8, epochs=1, seed=s) for s in range(5)])
    assert small.chunk == small.chunk_eval == 5
    for kw in [dict(loss="mse_sample"), dict(loss="nll"), dict(activation="silu"), dict(activation="relusqr")]:
        m = model([TrainConfig(group="Z41", width=512, epochs=1, seed=s, **kw) for s in range(3)])
        assert m.chunk == 3 and m.chunk_eval == (3 if "activation" in kw else 1), kw
    assert model([TrainConfig(group="Z41", width=512, epochs=1, seed=s, activation="relu")
                  for s in range(3)]).chunk == 1
