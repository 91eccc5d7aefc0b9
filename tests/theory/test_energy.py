"""li2core.theory.energy (Thm 1, Eqs. 6-7): the energy, its gradient and Hessian against the explicit one-hot X
(numpy), autograd and finite differences; the loss gradient against autograd and the trainer; the complex energy.

(Moved from tests/test_theory.py, tests/test_thm1_energy_lib.py, tests/test_thm2_maxima_lib.py, tests/test_thm3_reconstruction_lib.py.)"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from oracles import S3, cyclic_table, np_design, np_energy_grad

import li2core
from li2core import TrainConfig, fourier
from li2core import theory as th
from li2core.activations import THEORY_ACTIVATIONS
from li2core.groups import make
from li2core.tasks import make_task, split
from li2core.theory.pairs import _unit

n, K, M = 9, 4, 5


DT = torch.float64


def _rand_w(B, M, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, 2 * M, generator=g, dtype=DT)


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=DT)


def _autograd_loss(W, V, group, rows, act, loss):
    task = make_task(group)
    idx = torch.as_tensor(rows) if rows is not None else torch.arange(task.N)
    a, b, y = task.a[idx], task.b[idx], task.y[idx]
    Wr = W.clone().requires_grad_(True)
    sig, _ = li2core.models.activation(act)
    F = sig(Wr[a] + Wr[task.M + b])
    F.retain_grad()
    O = F @ V
    M = task.M
    Y = torch.nn.functional.one_hot(y, M).to(DT)
    if loss == "mse_class":
        L = ((O - O.mean(1, keepdim=True)) - (Y - 1.0 / M)).pow(2).sum(1).mean()
    elif loss == "mse_sample":
        E = (Y - O) - (Y - O).mean(0, keepdim=True)
        L = 0.5 * E.pow(2).sum()
    else:
        L = torch.nn.functional.cross_entropy(O, y)
    L.backward()
    return -Wr.grad, -F.grad, float(L.detach())


@pytest.mark.parametrize("act", THEORY_ACTIVATIONS)
@pytest.mark.parametrize("grp", ["Z7", "S3"])
def test_energy_and_grad_equal_the_explicit_X_formulas(act, grp):
    group = S3 if grp == "S3" else make("Z7")
    table = np.asarray(group.table)
    M = table.shape[0]
    W = _rand_w(3, M, seed=10)
    gen = np.random.default_rng(0)
    rows = gen.choice(M * M, size=M * M // 2, replace=False).tolist() + [5, 5]  # a duplicated row
    weights = gen.uniform(0.5, 2.0, size=len(rows))
    for kw in ({}, {"rows": rows}, {"rows": rows, "weights": weights}, {"weights": np.full(M * M, 1.7)}):
        E = th.energy(W, group, act, **kw)
        E2, G = th.energy_and_grad(W, group, act, **kw)
        assert E.shape == (3,) and G.shape == W.shape
        torch.testing.assert_close(E, E2, rtol=1e-13, atol=1e-13)
        for b in range(3):
            En, Gn = np_energy_grad(W[b].numpy(), table, act, kw.get("rows"), kw.get("weights"))
            assert abs(E[b].item() - En) <= 1e-11 * max(1.0, abs(En))
            np.testing.assert_allclose(G[b].numpy(), Gn, rtol=1e-10, atol=1e-11)
        # unbatched call
        torch.testing.assert_close(th.energy(W[0], group, act, **kw), E[0])
        torch.testing.assert_close(th.energy_grad(W[0], group, act, **kw), G[0])


@pytest.mark.parametrize("act", ["sqr", "silu", "relusqr", "relu", "linear"])
def test_energy_grad_equals_autograd_and_finite_differences(act):
    group = S3
    w = _rand_w(1, 6, seed=11)[0]
    rows = list(range(0, 36, 2))
    wr = w.clone().requires_grad_(True)
    th.energy(wr, group, act, rows=rows).backward()
    G = th.energy_grad(w, group, act, rows=rows)
    torch.testing.assert_close(G, wr.grad, rtol=1e-12, atol=1e-12)
    # central differences
    h = 1e-6
    fd = torch.stack(
        [
            (th.energy(w + h * e, group, act, rows=rows) - th.energy(w - h * e, group, act, rows=rows)) / (2 * h)
            for e in torch.eye(12, dtype=DT)
        ]
    )
    torch.testing.assert_close(G, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("act", THEORY_ACTIVATIONS)
def test_energy_hessian_equals_autograd(act):
    group = make("Z5")
    w = _rand_w(2, 5, seed=12)
    weights = torch.linspace(0.5, 1.5, 13, dtype=DT)
    rows = list(range(0, 25, 2))
    for kw in ({}, {"rows": rows, "weights": weights}):
        H = th.energy_hessian(w, group, act, **kw)
        assert H.shape == (2, 10, 10)
        for b in range(2):
            Ha = torch.autograd.functional.hessian(lambda x: th.energy(x, group, act, **kw), w[b])
            torch.testing.assert_close(H[b], Ha, rtol=1e-10, atol=1e-10)
            torch.testing.assert_close(H[b], H[b].T)


def test_energy_hessian_of_a_quartic_by_finite_differences_of_the_gradient():
    group = S3
    w = _rand_w(1, 6, seed=13)[0]
    H = th.energy_hessian(w, group, "sqr")
    h = 1e-6
    fd = torch.stack(
        [(th.energy_grad(w + h * e, group) - th.energy_grad(w - h * e, group)) / (2 * h) for e in torch.eye(12, dtype=DT)]
    )
    torch.testing.assert_close(H, fd, rtol=1e-6, atol=1e-6)


def test_sqr_energy_is_homogeneous_of_degree_4_and_euler_holds():
    w = _rand_w(4, 7, seed=14)
    g = make("Z7")
    E, G = th.energy_and_grad(w, g)
    torch.testing.assert_close(th.energy(1.7 * w, g), 1.7**4 * E, rtol=1e-12, atol=0)
    torch.testing.assert_close((w * G).sum(-1), 4 * E, rtol=1e-12, atol=0)


@pytest.mark.parametrize("group", [make("Z7"), make("Z2xZ4"), S3])
def test_linear_energy_vanishes_on_full_group_data(group):
    # LDA remark: every row a of the Cayley table holds each label once, so Y~^T X = 0 on all pairs.
    w = _rand_w(3, group.order, seed=15)
    assert th.energy(w, group, "linear").abs().max().item() < 1e-24
    assert th.energy(w, group, "linear", rows=list(range(0, group.order**2, 3))).min().item() > 1e-3


def test_energy_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        th.energy(torch.zeros(14, dtype=DT), "Z7", "tanh")
    with pytest.raises(ValueError, match="2M"):
        th.energy(torch.zeros(13, dtype=DT), "Z7")
    with pytest.raises(ValueError, match="weights"):
        th.energy(torch.zeros(14, dtype=DT), "Z7", rows=[1, 2], weights=[1.0])
    with pytest.raises(ValueError, match="rows"):
        th.energy(torch.zeros(14, dtype=DT), "Z7", rows=[49])
    with pytest.raises(ValueError, match="rows"):
        th.energy_hessian(torch.zeros(14, dtype=DT), "Z7", rows=[-1])


@pytest.mark.parametrize("act", ["sqr", "silu"])
def test_tangent_gradient_and_hessian_match_finite_differences_along_geodesics(act):
    group = S3
    w = _unit(_rand_w(1, 6, seed=16)[0])
    Ht, P = th.tangent_hessian_matrix(w, group, act)
    assert Ht.shape == (11, 11) and P.shape == (12, 11)
    torch.testing.assert_close(P.T @ P, torch.eye(11, dtype=DT), rtol=0, atol=1e-13)
    assert (P.T @ w).abs().max().item() < 1e-13
    gt = th.tangent_grad(w, group, act)
    assert abs((gt @ w).item()) < 1e-12
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        x = torch.randn(11, generator=gen, dtype=DT)
        x = x / x.norm()
        d = P @ x

        def E(t):
            return th.energy(math.cos(t) * w + math.sin(t) * d, group, act).item()

        h = 1e-5
        d1 = (E(h) - E(-h)) / (2 * h)
        assert abs(d1 - (gt @ d).item()) <= 1e-7 * max(1.0, abs(d1))
        h = 1e-4
        d2 = (E(h) - 2 * E(0.0) + E(-h)) / h**2
        assert abs(d2 - (x @ Ht @ x).item()) <= 1e-5 * max(1.0, abs(d2))
    ev = th.tangent_hessian(w, group, act)
    torch.testing.assert_close(ev, torch.linalg.eigvalsh(Ht))


@pytest.mark.parametrize("act", ["sqr", "silu", "relusqr"])
def test_energy_grad_fd_matches_autograd(act):
    g = make("S3")
    rows = list(range(0, 36, 2))
    w = _randn(3, 12, seed=1)
    fd = th.energy_grad_fd(w, g, act, rows, h=1e-6)
    assert fd.shape == w.shape
    wr = w.clone().requires_grad_(True)
    th.energy(wr, g, act, rows).sum().backward()
    torch.testing.assert_close(fd, wr.grad, rtol=1e-6, atol=1e-8)
    # single node
    torch.testing.assert_close(th.energy_grad_fd(w[0], g, act, rows), fd[0])
    with pytest.raises(ValueError, match="h"):
        th.energy_grad_fd(w, g, act, rows, h=0.0)


@pytest.mark.parametrize("act", ["sqr", "silu", "relu", "linear"])
@pytest.mark.parametrize("grp,rows", [("Z7", None), ("Z7", [0, 3, 8, 9, 17, 30, 48]), ("S3", list(range(1, 36, 3)))])
def test_eq6_rhs_equals_grad_E_and_a_per_row_loop(act, grp, rows):
    g = make(grp)
    M = g.order
    W = _randn(2 * M, 5, seed=2)  # paper layout: one node per column
    R = th.eq6_rhs(W, g, act, rows)
    assert R.shape == W.shape
    torch.testing.assert_close(R, th.energy_grad(W.T, g, act, rows).T, rtol=1e-11, atol=1e-12)
    # an independent loop over the rows for node 0: sum_i x_i sigma'(x_i.w) (Y~ Y~^T sigma(X w))_i
    idx = range(M * M) if rows is None else rows
    pairs = [(r // M, r % M) for r in idx]
    labels = [int(g.table[a, b]) for a, b in pairs]
    n = len(pairs)
    s, ds = {"sqr": (lambda x: x * x, lambda x: 2 * x), "silu": (lambda x: x / (1 + math.exp(-x)),
             lambda x: (1 / (1 + math.exp(-x))) * (1 + x * (1 - 1 / (1 + math.exp(-x))))),
             "relu": (lambda x: max(x, 0.0), lambda x: float(x > 0)), "linear": (lambda x: x, lambda x: 1.0)}[act]
    w = W[:, 0].tolist()
    pre = [w[a] + w[M + b] for a, b in pairs]
    f = [s(x) for x in pre]
    counts = [labels.count(h) for h in range(M)]
    z = [sum(fi for fi, y in zip(f, labels) if y == h) - counts[h] / n * sum(f) for h in range(M)]  # Y~^T f
    Ytz = [z[y] - sum(c * zz for c, zz in zip(counts, z)) / n for y in labels]  # Y~ z
    out = [0.0] * (2 * M)
    for (a, b), x, q in zip(pairs, pre, Ytz):
        out[a] += ds(x) * q
        out[M + b] += ds(x) * q
    np.testing.assert_allclose(R[:, 0].numpy(), out, rtol=1e-10, atol=1e-11)
    # a single node
    torch.testing.assert_close(th.eq6_rhs(W[:, 0], g, act, rows), R[:, 0])


def test_eq6_rhs_rejects_a_wrong_shape():
    with pytest.raises(ValueError, match="2M"):
        th.eq6_rhs(torch.zeros(13, 2, dtype=DT), "Z7")


def test_rel_err():
    a = torch.tensor([[1.0, 2.0, 3.5], [0.0, 0.0, 1.0]], dtype=DT)
    b = torch.tensor([[1.0, 2.0, 4.0], [0.0, 0.0, 2.0]], dtype=DT)
    torch.testing.assert_close(th.rel_err(a, b), torch.tensor([0.125, 0.5], dtype=DT))


@pytest.mark.parametrize("loss", ["mse_class", "mse_sample", "nll"])
@pytest.mark.parametrize("act", ["sqr", "relu", "silu"])
def test_loss_grad_equals_autograd(loss, act):
    M, K = 7, 6
    W, V = _randn(2 * M, K, seed=3), _randn(K, M, seed=4)
    rows = [1, 5, 8, 13, 21, 22, 30, 41, 48]
    lg = th.loss_grad(W, V, "Z7", rows, act, loss)
    gW, gF, L = _autograd_loss(W, V, "Z7", rows, act, loss)
    torch.testing.assert_close(lg.W, gW, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(lg.F, gF, rtol=1e-10, atol=1e-12)
    assert abs(lg.loss - L) <= 1e-10 * max(1.0, abs(L))


def test_loss_grad_F_is_eq2_for_the_papers_loss():
    M, K = 5, 4
    W, V = _randn(2 * M, K, seed=5), _randn(K, M, seed=6)
    lg = th.loss_grad(W, V, "Z5", None, "sqr", "mse_sample")
    X, Y = th.design("Z5")
    F = (X @ W) ** 2
    torch.testing.assert_close(lg.F, th.G_F(F, V, Y), rtol=1e-11, atol=1e-12)


def test_loss_grad_is_the_trainers_gradient():
    """One plain SGD step (no weight decay; momentum has no effect on the first step) moves W by -lr dL/dW."""
    lr = 0.05
    cfg = TrainConfig(group="Z7", train_frac=0.6, width=8, optimizer="sgd", lr=lr, weight_decay=0.0, epochs=1,
                      seed=3, dtype="float64", eval_every=1)
    res = li2core.train([cfg], progress=False, snapshots=[0, 1], device="cpu")
    (W0, V0), (W1, _) = res.weights_at(0, 0), res.weights_at(0, 1)
    rows = split(make_task("Z7"), 0.6, 3).train
    lg = th.loss_grad(W0, V0, "Z7", rows, "sqr", "mse_class")
    torch.testing.assert_close(W1 - W0, lr * lg.W, rtol=1e-10, atol=1e-14)


def test_loss_grad_rejects_bad_shapes():
    with pytest.raises(ValueError, match="W"):
        th.loss_grad(torch.zeros(13, 3, dtype=DT), torch.zeros(3, 7, dtype=DT), "Z7")
    with pytest.raises(ValueError, match="V"):
        th.loss_grad(torch.zeros(14, 3, dtype=DT), torch.zeros(4, 7, dtype=DT), "Z7")


def test_median_abs_offdiag_cos():
    G = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]], dtype=DT)  # cosines: 0, 1/sqrt2, 1/sqrt2
    assert abs(th.median_abs_offdiag_cos(G) - 1 / math.sqrt(2)) < 1e-12
    G = _randn(30, 9, seed=7)
    U = G / G.norm(dim=0)
    C = (U.T @ U).abs().numpy()
    ref = float(np.median([C[i, j] for i in range(9) for j in range(i + 1, 9)]))
    assert abs(th.median_abs_offdiag_cos(G) - ref) < 1e-12
    assert abs(th.median_abs_offdiag_cos(torch.ones(4, 3, dtype=DT)) - 1.0) < 1e-12


def test_tangent_hessian_batch_equals_per_node():
    g = make("S3")
    w = th.random_starts(4, 6, seed=3)
    ev = th.tangent_hessian_batch(w, g, "sqr")
    assert ev.shape == (4, 11)
    for b in range(4):
        torch.testing.assert_close(ev[b], th.tangent_hessian(w[b], g, "sqr"), rtol=1e-10, atol=1e-10)
    rows = list(range(0, 36, 3))
    torch.testing.assert_close(th.tangent_hessian_batch(w, g, "silu", rows)[1], th.tangent_hessian(w[1], g, "silu", rows))
    with pytest.raises(ValueError, match="batch"):
        th.tangent_hessian_batch(w[0], g)


def test_class_signal():
    for g, act, rows in (("Z7", "silu", [1, 5, 9, 20, 33]), ("S3", "sqr", None)):
        w = th.random_starts(3, make(g).order, seed=5)
        z = th.class_signal(w, g, act, rows)
        torch.testing.assert_close(0.5 * z.pow(2).sum(-1), th.energy(w, g, act, rows), rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(th.class_signal(w[0], g, act, rows), z[0])


def test_energy_cross_term_factor_four():
    for g in ("Z7", "Z6", "S3", "Z2xZ3"):
        M = make(g).order
        w = th.random_starts(6, M, seed=6)
        E = th.energy(w, g)
        torch.testing.assert_close(th.energy_cross_term(w, g, 2.0), E, rtol=1e-12, atol=1e-14)
        torch.testing.assert_close(th.energy_cross_term(w, g, 1.0), E / 4, rtol=1e-12, atol=1e-14)
    # the paper's constant M/16 is E_cross(coef = 1) at a unit Fourier node
    w = fourier.fourier_node(11, 3, 0.4, -1)
    assert abs(th.energy_cross_term(w, "Z11", 1.0).item() - 11 / 16) < 1e-12
    # on a subset of rows the square terms no longer cancel
    rows = [0, 1, 2, 12, 30, 40]
    w = th.random_starts(1, 7, seed=7)[0]
    assert abs(th.energy_cross_term(w, "Z7", 2.0, rows).item() - th.energy(w, "Z7", rows=rows).item()) > 1e-6


def test_energy_complex_matches_autograd_explicit_X_and_the_real_energy():
    M = 6
    g = make(f"Z{M}")
    w = th.random_complex_starts(3, M, seed=1).requires_grad_(True)
    E, G = th.energy_complex(w, g)
    E.sum().backward()
    torch.testing.assert_close(G, w.grad, rtol=1e-12, atol=1e-13)  # PyTorch: dE/dRe + i dE/dIm
    X, Y = np_design(cyclic_table(M))
    Xc, Yt = torch.from_numpy(X).to(torch.complex128), torch.from_numpy(Y - Y.mean(0)).to(torch.complex128)
    z = Yt.T @ (Xc @ w.detach().T) ** 2  # (M, B)
    torch.testing.assert_close(E.detach(), 0.5 * z.abs().pow(2).sum(0), rtol=1e-12, atol=1e-14)
    wr = th.random_starts(2, M, seed=4)
    Ec, Gc = th.energy_complex(wr.to(torch.complex128), g)
    torch.testing.assert_close(Ec, th.energy(wr, g, "sqr"), rtol=1e-12, atol=0)
    torch.testing.assert_close(Gc.real, th.energy_grad(wr, g, "sqr"), rtol=1e-12, atol=1e-13)
