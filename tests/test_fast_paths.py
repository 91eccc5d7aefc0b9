"""The trainer's fast paths equal the reference implementations they replace."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from li2core.losses import loss_and_grad, row_losses
from li2core.measures import fft_dist_ideal, fft_offdiag_ratio, fft_ratios
from li2core.models import preact, preact_all, preact_grid
from li2core.tasks import make_task
from li2core.train import METRIC_SETS, METRICS, TrainConfig, train


@pytest.mark.parametrize("name", ["mse_class", "nll"])
def test_row_losses_average_to_the_loss(name: str) -> None:
    g = torch.Generator().manual_seed(0)
    O = torch.randn(3, 10, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 5, (10,), generator=g)
    mask = (torch.rand(3, 10, generator=g) > 0.4).to(torch.float64)
    rl = row_losses(name, O, y)
    ref, _ = loss_and_grad(name, O, y, mask, need_grad=False)
    assert torch.allclose((rl * mask).sum(1) / mask.sum(1), ref, rtol=1e-12)


def test_row_losses_none_for_sample_centred_loss() -> None:
    assert row_losses("mse_sample", torch.zeros(1, 2, 3), torch.zeros(2, dtype=torch.long)) is None


def test_fft_ratios_equal_the_separate_measures() -> None:
    g = torch.Generator().manual_seed(1)
    F = torch.randn(2, 12, 7, generator=g, dtype=torch.float64) ** 2
    mask = torch.ones(2, 12, dtype=torch.float64)
    mask[1, 9:] = 0
    r, d = fft_ratios(F, mask)
    assert torch.allclose(r, fft_offdiag_ratio(F, mask), rtol=1e-10)
    assert torch.allclose(d, fft_dist_ideal(F, mask), rtol=1e-10)


def test_preact_grid_and_embedding_lookup_equal_index_select() -> None:
    task = make_task("Z6")
    W = torch.randn(3, 12, 4, dtype=torch.float64)
    assert torch.equal(preact_grid(W), preact_all(W, task.a, task.b))
    a = torch.randint(0, 6, (3, 5))
    b = torch.randint(0, 6, (3, 5))
    ref = torch.stack([W[r, a[r]] + W[r, 6 + b[r]] for r in range(3)])
    assert torch.allclose(preact(W, a, b), ref, rtol=0, atol=1e-15)


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
