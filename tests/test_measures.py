"""Progress measures (li2core.measures): the shared-product fast paths equal the separate measures; slopes and rank correlations against independent computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from li2core import measures
from li2core.measures import fft_dist_ideal, fft_offdiag_ratio, fft_ratios


def test_fft_ratios_equal_the_separate_measures() -> None:
    g = torch.Generator().manual_seed(1)
    F = torch.randn(2, 12, 7, generator=g, dtype=torch.float64) ** 2
    mask = torch.ones(2, 12, dtype=torch.float64)
    mask[1, 9:] = 0
    r, d = fft_ratios(F, mask)
    assert torch.allclose(r, fft_offdiag_ratio(F, mask), rtol=1e-10)
    assert torch.allclose(d, fft_dist_ideal(F, mask), rtol=1e-10)


def test_ols_slope_and_spearman_match_independent_computations():
    rng = np.random.default_rng(3)
    x = rng.normal(size=20)
    y = 2.0 * x + rng.normal(size=20)
    b, se = measures.ols_slope(x, y)
    assert b == pytest.approx(np.polyfit(x, y, 1)[0])
    resid = y - np.polyval(np.polyfit(x, y, 1), x)
    assert se == pytest.approx(math.sqrt((resid**2).sum() / 18 / ((x - x.mean()) ** 2).sum()))
    # Spearman = Pearson of ranks (no ties here)
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    assert measures.spearman(x, y) == pytest.approx(np.corrcoef(rx, ry)[0, 1])
    assert measures.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)


def test_feature_diversity_counts_distinct_planted_frequencies() -> None:
    """Nodes planted at known frequencies of Z_11 (plus noise nodes and a zero node): the measure recovers them."""
    from li2core.fourier import fourier_basis

    M = 11
    Fb, freq = fourier_basis(M)
    g = torch.Generator().manual_seed(3)
    cols = []
    for j in (1, 1, 3, 5):  # three distinct frequencies, one twice
        u = Fb[:, freq == j] @ np.array([0.6, 0.8])
        cols.append(np.concatenate([u, np.roll(u[::-1], 1)]))  # [u; P u]: the same frequency in both halves
    W = np.stack(cols, axis=1)
    noise = 0.05 * torch.randn(2 * M, 4, generator=g, dtype=torch.float64).numpy()
    W = W + noise
    W = np.concatenate([W, np.zeros((2 * M, 1))], axis=1)
    comp, frac = measures.node_components(W, "Z11")
    assert list(comp[:4]) == [1, 1, 3, 5] and comp[4] == -1 and math.isnan(frac[4])
    assert np.all(frac[:4] > 0.9)
    assert measures.covered_components(W, "Z11") == [1, 3, 5]
    assert measures.feature_diversity(torch.from_numpy(W), "Z11") == 3
    # an independent computation of node 2's purity: its power at frequency 3 over its total power
    w = W[:, 2]
    sel = np.flatnonzero(freq == 3)
    share = ((w[:M] @ Fb[:, sel]) ** 2).sum() + ((w[M:] @ Fb[:, sel]) ** 2).sum()
    assert frac[2] == pytest.approx(share / (w @ w), rel=1e-12)
    # a purity bar above every node's purity counts nothing
    assert measures.feature_diversity(W, "Z11", min_purity=1.0) == 0
    with pytest.raises(ValueError, match="W: expected shape"):
        measures.node_components(W.T, "Z11")


def test_mean_purity_is_the_mean_dominant_share_of_fourier_purity():
    from li2core.fourier import purity
    from li2core.groups import make

    g = make("Z7")
    W = torch.randn(2, 14, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    W[1, :, 2] = 0.0  # a zero node is skipped
    basis = measures.purity_basis(g)
    got = measures.mean_purity(W, basis)
    for r in range(2):
        want = np.nanmean(purity(W[r].numpy().T, g).max(axis=-1))
        assert got[r].item() == pytest.approx(want, rel=1e-12)
        _, frac = measures.node_components(W[r], g)
        assert got[r].item() == pytest.approx(np.nanmean(frac), rel=1e-12)
    Wc = torch.complex(W, torch.zeros_like(W))
    torch.testing.assert_close(measures.mean_purity(Wc, basis), got, rtol=1e-12, atol=0)
    # complex: real and imaginary parts' powers add (here a pure frequency-1 node in both parts -> purity 1)
    Q, comp = g.real_isotypic_basis()
    node = torch.tensor(Q[:, comp == 1][:, 0])
    w = torch.cat([node, node])[None, :, None]
    assert measures.mean_purity(torch.complex(w, 2 * w), basis).item() == pytest.approx(1.0, abs=1e-12)


# --- the G_F spectrum (Thm 7) -----------------------------------------------------------------------------------


def test_gf_spectrum_of_the_loss_gradient_equals_an_fft_by_loops():
    """G_F from autograd of the paper's loss 1/2 ||P_1^perp (Y - F V)||^2; its spectrum by class means in a loop and
    numpy's FFT: ||Pi_c a||^2 = (|a^(c)|^2 + |a^(M - c)|^2) / M for c = 1 .. M // 2 (c = M / 2 once)."""
    M, n, K = 10, 40, 3
    gen = torch.Generator().manual_seed(11)
    y = torch.randint(0, M, (n,), generator=gen)
    Y = torch.nn.functional.one_hot(y, M).double()
    F = torch.randn(n, K, generator=gen, dtype=torch.float64).requires_grad_(True)
    V = torch.randn(K, M, generator=gen, dtype=torch.float64)
    R = Y - F @ V
    loss = 0.5 * (R - R.mean(0, keepdim=True)).pow(2).sum()
    (dF,) = torch.autograd.grad(loss, F)
    G = -dF
    p = measures.gf_spectrum(G, y, f"Z{M}")
    a = np.zeros((K, M))
    for h in range(M):
        sel = (y == h).numpy()
        if sel.any():
            a[:, h] = G.numpy()[sel].mean(0)
    A2 = np.abs(np.fft.fft(a, axis=1)) ** 2 / M
    ref = [A2[:, 0].sum()] + [(A2[:, c] + (A2[:, M - c] if c != M - c else 0)).sum() for c in range(1, M // 2 + 1)]
    assert p.shape == (M // 2 + 1,) and np.allclose(p, ref, rtol=1e-10, atol=1e-12)
    assert p.sum() == pytest.approx((a ** 2).sum(), rel=1e-12)  # Parseval
    batched = measures.gf_spectrum(torch.stack([G, 2 * G]), y, f"Z{M}")  # (..., n, K)
    assert np.allclose(batched, [p, 4 * p], rtol=1e-12)


def test_gf_spectrum_sees_only_the_target_and_rejects_bad_input():
    M = 7
    g = torch.Generator().manual_seed(2)
    y = torch.arange(M).repeat(3)
    h = y.double()
    col = torch.cos(2 * torch.pi * 2 * h / M)  # a function of the target at frequency 2
    noise = torch.randn(len(y), generator=g, dtype=torch.float64)
    noise = noise - noise.reshape(3, M).mean(0).repeat(3)  # zero mean within every class: no function of y
    p = measures.gf_spectrum(torch.stack([col + noise, 3 * col], 1), y, "Z7")
    assert p.argmax() == 2 and p[2] == pytest.approx(10 * M / 2, rel=1e-12) and p.sum() - p[2] < 1e-20
    with pytest.raises(ValueError, match="labels"):
        measures.gf_spectrum(torch.zeros(5, 2), torch.zeros(4, dtype=torch.long), "Z7")
    with pytest.raises(ValueError, match="labels"):
        measures.gf_spectrum(torch.zeros(2, 2), torch.tensor([0, 7]), "Z7")
    with pytest.raises(ValueError, match="G_F"):
        measures.gf_spectrum(torch.zeros(5), torch.zeros(5, dtype=torch.long), "Z7")


def test_loglog_slope_takes_read_only_arrays_and_tensors_without_a_warning():
    """pandas hands out read-only arrays (``df[col].to_numpy()``); torch warns when it wraps one."""
    import warnings

    x = np.array([1.0, 2.0, 4.0, 8.0])
    y = 5.0 * x ** -0.5
    x.setflags(write=False)
    y.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert measures.loglog_slope(x, y) == pytest.approx(-0.5, abs=1e-12)
        assert measures.loglog_slope(torch.as_tensor(x.copy()), list(y)) == pytest.approx(-0.5, abs=1e-12)


# --- the MED paper's embedding measures ---------------------------------------------------------------------------


def _circle(p: int, r: float, dim: int = 2, seed: int = 0) -> torch.Tensor:
    """``p`` points equally spaced on a circle of radius ``r``, rotated into ``R^dim`` by a random orthogonal map."""
    t = 2 * math.pi * torch.arange(p, dtype=torch.float64) / p
    E = torch.zeros(p, dim, dtype=torch.float64)
    E[:, 0], E[:, 1] = r * torch.cos(t), r * torch.sin(t)
    Q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return E @ Q


def test_med_equals_a_loop_and_batches():
    g = torch.Generator().manual_seed(4)
    E = torch.randn(3, 2, 13, 5, generator=g, dtype=torch.float64)
    got = measures.med(E)
    assert got.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            e = E[i, j]
            want = sum(math.dist(e[(k + 1) % 13].tolist(), e[k].tolist()) for k in range(13)) / 13
            assert got[i, j].item() == pytest.approx(want, rel=1e-12)
    assert measures.med(E[0, 0]).shape == ()


@pytest.mark.parametrize("p,r", [(7, 1.0), (47, 0.3), (97, 2.5)])
def test_med_of_equally_spaced_circle_points_is_the_chord(p, r):
    E = _circle(p, r, dim=6, seed=p)
    assert measures.med(E).item() == pytest.approx(2 * r * math.sin(math.pi / p), rel=1e-12)
    assert measures.consecutive_gap_cv(E).item() == pytest.approx(0.0, abs=1e-12)
    # a permuted order is no longer equally spaced, and its MED is larger
    perm = torch.randperm(p, generator=torch.Generator().manual_seed(1))
    assert measures.consecutive_gap_cv(E[perm]).item() > 0.1 and measures.med(E[perm]) > measures.med(E)


def test_consecutive_gap_cv_on_a_hand_case():
    E = torch.tensor([[0.0], [1.0], [3.0]], dtype=torch.float64)  # cyclic gaps 1, 2, 3: mean 2, std sqrt(2/3)
    assert measures.consecutive_gap_cv(E).item() == pytest.approx(math.sqrt(2 / 3) / 2, rel=1e-12)
    with pytest.raises(ValueError, match="E: expected shape"):
        measures.consecutive_gap_cv(torch.zeros(1, 3))


def _calculate_embedding_diff(embed_matrix, a, b, c, d, variant="base"):
    """The authors' calculate_embedding_diff (transformer/base.py; rec.py and str.py rescale), ported literally."""
    t = torch
    if a >= b or c >= d:
        raise ValueError("Start index must be less than end index.")
    if b > embed_matrix.shape[1] or d > embed_matrix.shape[1]:
        raise ValueError("Index range exceeds embedding matrix dimension.")
    diffs1 = t.norm(embed_matrix[:, a + 1:b] - embed_matrix[:, a:b - 1], dim=0)
    diffs2 = t.norm(embed_matrix[:, c + 1:d] - embed_matrix[:, c:d - 1], dim=0)
    if variant == "rec":
        return (b - a) * diffs1.mean().item() + (d - c) * diffs2.mean().item()
    if variant == "str":
        return diffs1.mean().item() + diffs2.mean().item()
    return 0.5 * (diffs1.mean().item() + diffs2.mean().item())


@pytest.mark.parametrize("p,d,vocab", [(97, 0, 98), (97, 60, 170), (11, 3, 15)])
def test_med_code_is_the_authors_calculate_embedding_diff(p, d, vocab):
    g = torch.Generator().manual_seed(p + d)
    W_E = torch.randn(2, 128, vocab, generator=g, dtype=torch.float64) / math.sqrt(128)  # (runs, d_model, d_vocab)
    got = measures.med_code(W_E.transpose(-1, -2), p, d)
    assert got.shape == (2,)
    for r in range(2):
        want = _calculate_embedding_diff(W_E[r], 0, p - 1, d, d + p - 1)
        assert got[r].item() == pytest.approx(want, rel=1e-12)
        # the rescalings of the other scripts (paper-med §3.2): str.py 2x, rec.py 2 (p - 1)x
        assert _calculate_embedding_diff(W_E[r], 0, p - 1, d, d + p - 1, "str") == pytest.approx(2 * want, rel=1e-12)
        assert _calculate_embedding_diff(W_E[r], 0, p - 1, d, d + p - 1, "rec") == pytest.approx(
            2 * (p - 1) * want, rel=1e-12)
    # the code's version misses the last step and the wrap, so it differs from Def. 4.2 on the same rows
    E = W_E[0].T[:p]
    gaps = (torch.roll(E, -1, 0) - E).norm(dim=-1)
    if d == 0:
        assert got[0].item() == pytest.approx(gaps[: p - 2].mean().item(), rel=1e-12)
        assert measures.med(E).item() == pytest.approx(gaps.mean().item(), rel=1e-12)


def test_med_code_validation():
    E = torch.zeros(98, 4)
    with pytest.raises(ValueError, match="E: 98 token rows"):
        measures.med_code(E, 97, d=60)
    with pytest.raises(ValueError, match="p: "):
        measures.med_code(E, 2)
    with pytest.raises(ValueError, match="d: "):
        measures.med_code(E, 97, d=-1)
    assert measures.med_code(E, 97, d=1).item() == 0.0  # rows 1..96 fit in 98 tokens


def _spread_loop(S, y, n_classes):
    """Thm 3.5's quantity by plain loops over classes and pairs."""
    cents, radii = [], []
    for r in range(n_classes):
        rows = [S[i] for i in range(len(y)) if y[i] == r]
        if not rows:
            continue
        k = sum(rows) / len(rows)
        cents.append(k)
        radii.append(max(math.dist(s.tolist(), k.tolist()) for s in rows))
    seps = [math.dist(u.tolist(), v.tolist()) for i, u in enumerate(cents) for j, v in enumerate(cents) if i != j]
    return (sum(radii) / len(radii)) / (sum(seps) / len(seps))


def test_parallelogram_spread_equals_a_loop_and_batches():
    g = torch.Generator().manual_seed(8)
    S = torch.randn(2, 40, 3, generator=g, dtype=torch.float64)
    y = torch.randint(0, 6, (40,), generator=g)
    y[y == 4] = 5  # class 4 has no pair: skipped
    got = measures.parallelogram_spread(S, y, 7)
    assert got.shape == (2,)
    for r in range(2):
        assert got[r].item() == pytest.approx(_spread_loop(S[r], y.tolist(), 7), rel=1e-12)
    # invariant under a common translation and scaling of the sums
    assert torch.allclose(measures.parallelogram_spread(3.0 * S + 1.5, y, 7), got, rtol=1e-12)
    assert measures.parallelogram_spread(S[0, :3], torch.tensor([1, 1, 1]), 7).isnan()
    with pytest.raises(ValueError, match="y: labels"):
        measures.parallelogram_spread(S, y + 2, 7)


def test_parallelogram_spread_closed_cases():
    """Three closed cases. (1) The exact zero: phi(i) = i v with the labels a + b *without* the wrap (2p - 1 classes).
    (2) The degenerate case: on all p^2 pairs of a Latin-square task (a + b mod p), class r holds every a once, so its
    centroid of phi(a) + phi(r - a) is 2 mean(phi) for *every* phi: the centroids coincide and the ratio blows up.
    (3) Centroids c_r on a circle of radius 1 and each pair displaced by a vector of norm eps that averages to zero
    over the class: spread = eps / mean chord = eps (p - 1) / (2 cot(pi / 2p)) (sum_k sin(pi k / p) = cot(pi / 2p))."""
    p = 11
    v = torch.tensor([2.0, -1.0, 3.0], dtype=torch.float64)
    a, b = torch.arange(p * p) // p, torch.arange(p * p) % p
    y = (a + b) % p
    phi = torch.arange(p, dtype=torch.float64)[:, None] * v
    assert measures.parallelogram_spread(phi[a] + phi[b], a + b, 2 * p - 1).item() == 0.0
    rand = torch.randn(p, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert measures.parallelogram_spread(rand[a] + rand[b], y, p).item() > 1e12
    eps = 0.05
    t = 2 * math.pi * y.double() / p
    u = 2 * math.pi * a.double() / p
    H = torch.stack([torch.cos(t), torch.sin(t), eps * torch.cos(u), eps * torch.sin(u)], dim=1)
    want = eps * (p - 1) / (2 / math.tan(math.pi / (2 * p)))
    assert measures.parallelogram_spread(H, y, p).item() == pytest.approx(want, rel=1e-10)
