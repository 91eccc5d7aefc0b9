"""Chapter ``med_theory`` (Gu et al., "Beyond Progress Measures": Lemma 3.4, Thm 3.12, Remark 3.9 / Lemma B.1,
App. C, App. E): the paper's theory statements checked numerically, with :mod:`li2core.theory.med` and
:mod:`li2core.theory.coverage`.

* Lemma 3.4 on random matrices (:func:`random_norms`) and along training (:func:`norm_frame`: every weight matrix
  of the MED transformer at the snapshot epochs).
* Thm 3.12: a Monte Carlo of full coverage of the torus by a random training set (:func:`coverage_frame`) and where
  it crosses 1/2 (:func:`half_points`).
* Remark 3.9 / Lemma B.1: the toy problem on three constraint sets (:func:`toy_cases`, :func:`toy_frame`).
* App. C: the three-scalar flow from random starts, with and without weight decay (:func:`ode_frame`).
* App. E: the MED transformer trained from its usual ``W_E`` and from the authors' Toeplitz ``W_E``
  (:func:`embedding_configs`, :func:`train_with_inits`: the library's own batch and family, with ``W_E`` replaced
  before the first step; :func:`grok_frame`, :func:`pair_frame`).

One figure function per figure (``*_data`` gives its numbers).
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter
import numpy as np
import pandas as pd
import torch

from ..config import _task
from ..figures import EPOCH_LABEL, theme
from ..measures import consecutive_gap_cv, med
from ..models.transformer import BLOCK_PARAMS, vocab_size
from ..theory.coverage import ball_size, full_coverage_bound, thm312_threshold
from ..theory.med import (
    balanced_equilibrium,
    expected_uncovered,
    field_jacobian,
    fit_pair_sum,
    frequency_spectrum,
    gap_cv_open,
    manifold_limit,
    operator_frobenius,
    pair_sum_residual,
    rk4,
    single_class_minimum,
    toeplitz_embedding,
    uncovered_counts,
)
from ..train import METRIC_SETS, METRICS, Results, TrainConfig, _Batch, med_config, resolve_device

#: A run has grokked at its first evaluation with ``test_acc >= GROK_THRESHOLD`` (the book's rule, as the other MED
#: chapters; fixed before looking).
GROK_THRESHOLD = 0.95
#: The metrics of the chapter's training runs (accuracy and loss always come with them).
RUN_METRICS = ("med", "emb_norm", "weight_norm")
#: The Toeplitz vector ``v`` of seed ``s`` is drawn from ``torch.Generator().manual_seed(TOEPLITZ_SEED + s)``
#: (the authors' ``np.random.rand`` is unseeded).
TOEPLITZ_SEED = 10_000
#: App. C: a trajectory has fitted when ``|xwu - P_inf| <= FIT_TOL`` (``P_inf`` = 1, or ``s*^3`` with weight
#: decay), balanced when its imbalance ``max - min of (x^2, w^2, u^2)`` is at most ``BAL_TOL`` times its start
#: value, and has collapsed when every coordinate is below ``ZERO_TOL`` at the end (fixed before looking).
FIT_TOL, BAL_TOL, ZERO_TOL = 0.01, 0.01, 1e-3
INIT_COLORS = {"random": "#d55e00", "toeplitz": "#0173b2"}
P_COLORS = ("#0173b2", "#de8f05", "#029e73", "#cc78bc")
CASE_COLORS = {"one class": "#029e73", "integer sum": "#0173b2", "sum mod p": "#d55e00"}


def first_epoch_at(epochs: Sequence[float] | np.ndarray, values: Sequence[float] | np.ndarray,
                   level: float) -> float:
    """The first of ``epochs`` whose value is ``>= level``; NaN when none is."""
    ep, v = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    if ep.shape != v.shape:
        raise ValueError(f"epochs, values: need the same shape; got {ep.shape} and {v.shape}")
    hit = np.flatnonzero(v >= level)
    return float(ep[hit[0]]) if hit.size else math.nan


# ------------------------------------------------------------------ Lemma 3.4
def random_norms(shapes: Sequence[tuple[int, int]], per_shape: int, seed: int = 0) -> pd.DataFrame:
    """Lemma 3.4 on random matrices: per shape ``(m, n)``, ``per_shape`` Gaussian matrices, one rank-one matrix
    ``a b^T`` and one with orthonormal rows or columns (from a QR); columns ``kind, m, n, op, fro, upper`` and
    ``ratio = fro / op``, ``bound = sqrt(min(m, n))``."""
    g = torch.Generator().manual_seed(int(seed))
    rows = []
    for m, n in shapes:
        mats = {"gaussian": torch.randn(per_shape, m, n, generator=g, dtype=torch.float64),
                "rank one": (torch.randn(m, 1, generator=g, dtype=torch.float64)
                             @ torch.randn(1, n, generator=g, dtype=torch.float64))[None]}
        q, _ = torch.linalg.qr(torch.randn(max(m, n), min(m, n), generator=g, dtype=torch.float64))
        mats["orthonormal"] = (3.0 * (q if m >= n else q.T))[None]
        for kind, M in mats.items():
            op, fro, up = operator_frobenius(M)
            rows += [dict(kind=kind, m=m, n=n, op=float(a), fro=float(b), upper=float(c), ratio=float(b / a),
                          bound=math.sqrt(min(m, n))) for a, b, c in zip(op, fro, up)]
    return pd.DataFrame(rows)


def matrix_names(n_layers: int) -> list[str]:
    """The names of the transformer's parameters in :func:`li2core.models.transformer.init_transformer` order."""
    blocks = [f"{nm}{'' if n_layers == 1 else f' ({i + 1})'}" for i in range(n_layers) for nm in BLOCK_PARAMS]
    return ["W_E", "W_pos", *blocks, "W_U"]


def as_matrix(name: str, W: torch.Tensor) -> torch.Tensor | None:
    """A parameter as the linear map it applies (``W_Q, W_K, W_V (H, dh, dm)`` -> ``(H dh, dm)``); None for the
    biases (vectors, where the two norms agree)."""
    if name.startswith("b_"):
        return None
    return W.reshape(-1, W.shape[-1]) if W.ndim == 3 else W


def norm_frame(res: Results, inits: Sequence[str]) -> pd.DataFrame:
    """Lemma 3.4 along training: per run, snapshot epoch and weight matrix: ``m, n, op, fro, upper``,
    ``ratio = fro / op`` and ``position = (ratio - 1) / (sqrt(min(m, n)) - 1)`` (0: rank one, 1: a flat
    spectrum)."""
    rows = []
    for i, cfg in enumerate(res.configs):
        names = matrix_names(cfg.n_layers)
        for ep in sorted(res.snapshots[i]):
            for name, W in zip(names, res.weights_at(i, ep)):
                M = as_matrix(name, W.double())
                if M is None:
                    continue
                op, fro, up = (float(t) for t in operator_frobenius(M))
                b = math.sqrt(min(M.shape))
                rows.append(dict(run=i, seed=cfg.seed, init=inits[i], epoch=int(ep), matrix=name, m=M.shape[0],
                                 n=M.shape[1], op=op, fro=fro, upper=up, ratio=fro / op,
                                 position=(fro / op - 1) / (b - 1) if b > 1 else math.nan))
    return pd.DataFrame(rows)


def norm_sums(norms: pd.DataFrame) -> pd.DataFrame:
    """Per run and epoch, the weight-decay term of the matrices ``sum ||M||_F^2`` beside Lemma 3.4's bounds
    ``sum ||M||_2^2`` (below) and ``sum min(m, n) ||M||_2^2`` (above)."""
    d = norms.assign(fro2=norms["fro"] ** 2, op2=norms["op"] ** 2, up2=norms["upper"] ** 2)
    return d.groupby(["run", "seed", "init", "epoch"], as_index=False)[["op2", "fro2", "up2"]].sum()


# ------------------------------------------------------------------ Thm 3.12
def coverage_frame(ps: Sequence[int], Ds: Sequence[int], multiples: Sequence[float], trials: int,
                   seed: int = 0) -> pd.DataFrame:
    """Thm 3.12 by Monte Carlo on the torus: per ``p``, radius ``D`` (``C = 2D^2 + 2D + 1``) and training fraction
    ``alpha = multiple * theta`` (``theta = 2 ln p / C``, the paper's threshold), ``trials`` random training sets of
    ``m = round(alpha p^2)`` points. Columns: ``P_full`` (share with every point covered) and its standard error
    ``se`` (floored at ``1 / (2 trials)``), the mean uncovered count ``mean_unc`` and its ``se_unc``, the exact
    mean ``expected`` (without replacement), the bounds ``bound_exact = 1 - expected`` and the paper's
    ``bound_paper = 1 - N (1 - C/N)^m``, and ``alpha_exact = 1 - exp(-theta)`` (where ``N (1 - alpha)^C = 1``,
    the without-replacement version of the paper's threshold)."""
    g = torch.Generator().manual_seed(int(seed))
    rows = []
    for p in ps:
        N = p * p
        for D in Ds:
            C = ball_size(int(D))
            th = thm312_threshold(int(p), C)
            for f in multiples:
                a = float(f) * th
                m = int(round(a * N))
                if not 1 <= m < N:
                    continue
                cnt = uncovered_counts(int(p), int(D), m, int(trials), g).double()
                P = float((cnt == 0).double().mean())
                E = expected_uncovered(N, C, m)
                rows.append(dict(p=int(p), D=int(D), C=C, theta=th, multiple=float(f), alpha=a, m=m, trials=trials,
                                 P_full=P, se=math.sqrt(max(P * (1 - P), 0.25 / trials) / trials),
                                 mean_unc=float(cnt.mean()), se_unc=float(cnt.std(correction=1)) / math.sqrt(trials),
                                 expected=E, bound_exact=1.0 - E, bound_paper=full_coverage_bound(N, C, m),
                                 alpha_exact=1.0 - math.exp(-th)))
    return pd.DataFrame(rows)


def half_points(cov: pd.DataFrame) -> pd.DataFrame:
    """Per ``(p, D)``: ``alpha_half``, where the Monte-Carlo ``P_full`` first crosses 1/2 (linear interpolation
    between grid points; NaN if it is not bracketed), beside ``theta`` and ``alpha_exact``."""
    rows = []
    for (p, D), d in cov.groupby(["p", "D"]):
        d = d.sort_values("alpha")
        a, P = d["alpha"].to_numpy(), d["P_full"].to_numpy()
        k = np.flatnonzero(P >= 0.5)
        half = math.nan
        if k.size and k[0] > 0:
            j = k[0]
            half = float(a[j - 1] + (0.5 - P[j - 1]) * (a[j] - a[j - 1]) / (P[j] - P[j - 1]))
        th = float(d["theta"].iloc[0])
        rows.append(dict(p=int(p), D=int(D), C=int(d["C"].iloc[0]), theta=th, alpha_half=half,
                         alpha_exact=float(d["alpha_exact"].iloc[0]), half_over_theta=half / th))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ Remark 3.9 / Lemma B.1
def toy_cases(p: int, train_frac: float, k: int, seed: int = 0) -> dict[str, tuple]:
    """The toy's three constraint sets on ``Z_p``, each ``(a, b, y, c)`` (pairs, labels, class vectors in
    ``R^k``): ``one class``, the ``p`` pairs ``(i, -i mod p)`` of class 0 with ``c_0 = e_1`` (Lemma B.1's single
    constraint); on one random training set of ``round(train_frac p^2)`` pairs (``seed``): ``integer sum``, labels
    ``i + j`` in ``0 .. 2p - 2`` with ``c_s = (s - (p-1)) / (p-1) e_1`` (no wrap, linear targets), and ``sum mod
    p``, labels ``(i + j) mod p`` with ``c_r = (cos 2 pi r / p, sin 2 pi r / p, 0, ...)`` (targets on a circle)."""
    if k < 2:
        raise ValueError(f"k: the circle targets need k >= 2; got {k!r}")
    i = torch.arange(p)
    e1 = torch.zeros(k, dtype=torch.float64)
    e1[0] = 1.0
    g = torch.Generator().manual_seed(int(seed))
    sel = torch.randperm(p * p, generator=g)[: int(round(train_frac * p * p))]
    a, b = sel // p, sel % p
    s = torch.arange(2 * p - 1, dtype=torch.float64)
    r = torch.arange(p, dtype=torch.float64)
    circle = torch.zeros(p, k, dtype=torch.float64)
    circle[:, 0], circle[:, 1] = torch.cos(2 * math.pi * r / p), torch.sin(2 * math.pi * r / p)
    return {"one class": (i, (-i) % p, torch.zeros(p, dtype=torch.long), e1[None]),
            "integer sum": (a, b, a + b, ((s - (p - 1)) / (p - 1))[:, None] * e1),
            "sum mod p": (a, b, (a + b) % p, circle)}


def toy_frame(cases: dict[str, tuple], p: int, dim: int, iters: int, wd: float,
              seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, torch.Tensor]]:
    """The penalty method (:func:`li2core.theory.med.fit_pair_sum`) on each case from the same random start
    (``seed``). Returns a summary (one row per case: pairs, least-squares residual ``ls``, ``fit``, the weight-decay
    term ``norm`` beside the closed form ``closed`` of the one-class case, MED at the start and the end, the
    cyclic and open gap CVs, the top frequency's share and index, the spread ``max ||x_i - mean|| / mean ||x_i||``,
    ``J_monotone``), the per-sweep history (``case, sweep, med, norm, fit``) and the final embeddings."""
    rows, hist, final = [], [], {}
    for name, (a, b, y, c) in cases.items():
        out = fit_pair_sum(a, b, y, c, p, dim, iters, wd, torch.Generator().manual_seed(int(seed)))
        X = out["X"]
        meds = med(out["X_rec"])
        spec = frequency_spectrum(X)
        J = out["J_rec"]
        rows.append(dict(case=name, pairs=int(a.numel()), ls=pair_sum_residual(a, b, y, c, p), fit=float(out["fit"]),
                         norm=float(out["norm"]),
                         closed=single_class_minimum(p, c[0]) if name == "one class" else math.nan,
                         med_start=float(meds[0]), med_end=float(meds[-1]), gap_cv=float(consecutive_gap_cv(X)),
                         open_cv=float(gap_cv_open(X)), top_share=float(spec.max()), top_freq=int(spec.argmax()) + 1,
                         spread=float((X - X.mean(0)).norm(dim=1).max() / X.norm(dim=1).mean()),
                         J_monotone=bool((J[1:] <= J[:-1] * (1 + 1e-12) + 1e-15).all())))
        hist.append(pd.DataFrame(dict(case=name, sweep=np.arange(len(meds)), med=meds.numpy(),
                                      norm=out["norm_rec"].numpy(), fit=out["fit_rec"].numpy())))
        final[name] = X
    return pd.DataFrame(rows), pd.concat(hist, ignore_index=True), final


def pca2(X: torch.Tensor) -> np.ndarray:
    """The centred rows of ``X`` on their two leading principal directions, ``(p, 2)``."""
    Xc = X - X.mean(0)
    _, _, Vh = torch.linalg.svd(Xc, full_matrices=False)
    return (Xc @ Vh[:2].T).numpy()


# ------------------------------------------------------------------ App. C
def ode_frame(n_starts: int, lams: Sequence[float], dt: float, t_max: float, every: int,
              seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """App. C's flow from ``n_starts`` points uniform in ``(0, 1)^3`` (``seed``), once per weight decay in
    ``lams`` (0: none), RK4 with step ``dt`` up to ``t_max``, recorded every ``every`` steps. Returns one row per
    trajectory (``lam, start, x0, w0, u0``, the end point, ``xwu_end``, ``spread_end`` (max - min coordinate),
    ``collapsed``, ``manifold_err`` (no decay: distance to :func:`li2core.theory.med.manifold_limit`), ``s_star``
    and ``balanced_err`` (with decay), ``t_fit``, ``t_bal`` (log-linear interpolation between records) and
    ``t_bal_pred = ln(1 / BAL_TOL) / (2 lam)``) and the recorded curves (``lam, start, t, xwu, imbalance``)."""
    g = torch.Generator().manual_seed(int(seed))
    z0 = torch.rand(n_starts, 3, generator=g, dtype=torch.float64)
    lams = [float(x) for x in lams]
    Z0 = z0.repeat(len(lams), 1)
    lam = torch.tensor(lams, dtype=torch.float64).repeat_interleave(n_starts)
    steps = int(round(t_max / dt))
    traj = rk4(Z0, lam, dt, steps, every)  # (n_out, n_traj, 3)
    t = np.minimum(np.arange(traj.shape[0]) * every * dt, steps * dt)
    prod = traj.prod(-1).numpy()
    sq = (traj ** 2).numpy()
    imb = sq.max(-1) - sq.min(-1)
    end = traj[-1]
    lim = manifold_limit(z0)
    rows, curves = [], []
    for j in range(Z0.shape[0]):
        lj, sj = lams[j // n_starts], j % n_starts
        e = end[j]
        collapsed = bool(e.abs().max() < ZERO_TOL)
        s = balanced_equilibrium(lj) if lj > 0 else 1.0
        target = s ** 3
        off = np.abs(prod[:, j] - target) > FIT_TOL
        t_fit = math.nan if collapsed or off[-1] else float(t[np.flatnonzero(off)[-1] + 1] if off.any() else 0.0)
        r = imb[:, j] / imb[0, j]
        t_bal = math.nan
        k = np.flatnonzero(r <= BAL_TOL)
        if k.size and k[0] > 0:
            k0 = k[0]
            la, lb = math.log(r[k0 - 1]), math.log(r[k0])
            t_bal = float(t[k0 - 1] + (math.log(BAL_TOL) - la) * (t[k0] - t[k0 - 1]) / (lb - la))
        rows.append(dict(lam=lj, start=sj, x0=float(z0[sj, 0]), w0=float(z0[sj, 1]), u0=float(z0[sj, 2]),
                         x=float(e[0]), w=float(e[1]), u=float(e[2]), xwu_end=float(prod[-1, j]),
                         spread_end=float(e.max() - e.min()), collapsed=collapsed,
                         manifold_err=float((e - lim[sj]).abs().max()) if lj == 0 else math.nan,
                         s_star=s, balanced_err=float((e - s).abs().max()) if lj > 0 else math.nan,
                         t_fit=t_fit, t_bal=t_bal,
                         t_bal_pred=math.log(1 / BAL_TOL) / (2 * lj) if lj > 0 else math.nan))
        curves.append(pd.DataFrame(dict(lam=lj, start=sj, t=t, xwu=prod[:, j], imbalance=imb[:, j])))
    return pd.DataFrame(rows), pd.concat(curves, ignore_index=True)


def jacobian_frame(lams: Sequence[float]) -> pd.DataFrame:
    """Per weight decay: the eigenvalues of the flow's Jacobian at the balanced equilibrium (``(1, 1, 1)`` without
    decay), sorted, and ``max_eig``."""
    rows = []
    for lj in lams:
        s = balanced_equilibrium(float(lj)) if lj > 0 else 1.0
        ev = np.sort(torch.linalg.eigvals(field_jacobian(torch.full((3,), s), float(lj))).real.numpy())
        rows.append(dict(lam=float(lj), s_star=s, eig1=ev[0], eig2=ev[1], eig3=ev[2], max_eig=ev[-1]))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ App. E
def embedding_configs(p: int, train_fracs: Sequence[float], seeds: int, epochs: int, lr: float, weight_decay: float,
                      d_model: int, width: int, n_heads: int, eval_every: int) -> tuple[list[TrainConfig], list[str]]:
    """Per training fraction and seed, the MED transformer twice (``inits``: ``"random"``, the library's
    ``randn / sqrt(d_model)``; ``"toeplitz"``, the authors' Toeplitz ``W_E``): the same split and every other
    weight the same. The authors' random split (``"shuffle"``); Fig. 20's "k = 0" square moves only (0, 0)."""
    if vocab_size(p) > d_model:
        raise ValueError(f"d_model: the Toeplitz W_E needs d_vocab = p + 1 = {vocab_size(p)} <= d_model; "
                         f"got {d_model}")
    cfgs, inits = [], []
    for f in train_fracs:
        for s in range(int(seeds)):
            for init in ("random", "toeplitz"):
                cfgs.append(med_config(p=p, train_frac=float(f), lr=float(lr), weight_decay=float(weight_decay),
                                       d_model=int(d_model), width=int(width), n_heads=int(n_heads),
                                       epochs=int(epochs), eval_every=int(eval_every), seed=s))
                inits.append(init)
    return cfgs, inits


def train_with_inits(cfgs: Sequence[TrainConfig], inits: Sequence[str], device: str = "auto",
                     metrics: Sequence[str] = RUN_METRICS, snapshots: Sequence[int] = ()) -> Results:
    """Train ``cfgs`` as :func:`li2core.train.train` does (one batch: the library's ``_Batch`` and family), with
    ``W_E`` of every ``"toeplitz"`` run replaced by :func:`li2core.theory.med.toeplitz_embedding` (``v`` from
    ``TOEPLITZ_SEED + seed``) before the first step. A library option (``init_embedding``) would make this a
    config field; until then the chapter steps the batch itself."""
    cfgs = list(cfgs)
    if len(inits) != len(cfgs) or set(inits) - {"random", "toeplitz"}:
        raise ValueError(f"inits: one of 'random', 'toeplitz' per config; got {list(inits)!r}")
    if len({c.batch_key() for c in cfgs}) != 1:
        raise ValueError("cfgs: must form one batch (same p, shapes, epochs, eval_every)")
    dev = resolve_device(device)
    asked = set(metrics) | set(METRIC_SETS["basic"])
    wanted = tuple(m for m in METRICS if m in asked)
    t0 = time.perf_counter()
    batch = _Batch(cfgs, _task(cfgs[0].group, cfgs[0].op), dev, wanted)
    W_E = batch.model.params[0]
    with torch.no_grad():
        for r, (c, init) in enumerate(zip(cfgs, inits)):
            if init == "toeplitz":
                T = toeplitz_embedding(c.d_model, W_E.shape[-1], torch.Generator().manual_seed(TOEPLITZ_SEED + c.seed))
                W_E[r].copy_(T.to(W_E.dtype))
    ep, buf, snaps = batch.run(None, snapshots)
    n = len(cfgs)
    return Results(configs=cfgs, eval_epochs=[ep] * n,
                   metrics=[{m: buf[:, k, r].astype(np.float64) for k, m in enumerate(METRICS) if m in wanted}
                            for r in range(n)],
                   n_train=list(batch.n_train), weights=[batch.model.weights(r) for r in range(n)], device=str(dev),
                   wall_time=time.perf_counter() - t0, batches=[list(range(n))], snapshots=snaps,
                   metric_names=wanted)


def grok_frame(frame: pd.DataFrame, inits: Sequence[str]) -> pd.DataFrame:
    """One row per run: ``train_frac, seed, init``, ``grok_epoch`` (first evaluation with ``test_acc >=
    GROK_THRESHOLD``; NaN: never), ``grok_bound`` (the same, the last epoch for a run that never grokked),
    ``mean_test_acc`` (the area under the test-accuracy curve over its length), the final accuracies and MED at
    the start and the end."""
    rows = []
    for r, d in frame.groupby("run"):
        d = d.sort_values("epoch")
        ep, te = d["epoch"].to_numpy(float), d["test_acc"].to_numpy(float)
        ge = first_epoch_at(ep, te, GROK_THRESHOLD)
        area = float(((te[1:] + te[:-1]) / 2 * np.diff(ep)).sum() / (ep[-1] - ep[0]))
        rows.append(dict(run=int(r), train_frac=float(d["train_frac"].iloc[0]), seed=int(d["seed"].iloc[0]),
                         init=inits[int(r)], grok_epoch=ge, grok_bound=ge if ge == ge else float(ep[-1]),
                         mean_test_acc=area, final_train_acc=float(d["train_acc"].iloc[-1]),
                         final_test_acc=float(te[-1]), med_start=float(d["med"].iloc[0]),
                         med_end=float(d["med"].iloc[-1])))
    return pd.DataFrame(rows)


def pair_frame(grok: pd.DataFrame) -> pd.DataFrame:
    """Per training fraction and seed: the two grokking epochs, ``ratio = random / toeplitz`` (NaN unless both
    grokked), ``ratio_bound`` (with a run that never grokked counted at the last epoch), ``both`` and the
    difference of the mean test accuracies ``acc_gap = toeplitz - random``."""
    w = grok.pivot_table(index=["train_frac", "seed"], columns="init",
                         values=["grok_epoch", "grok_bound", "mean_test_acc"], dropna=False)
    out = pd.DataFrame({"random": w["grok_epoch"]["random"], "toeplitz": w["grok_epoch"]["toeplitz"]})
    out["ratio"] = out["random"] / out["toeplitz"]
    out["ratio_bound"] = w["grok_bound"]["random"] / w["grok_bound"]["toeplitz"]
    out["both"] = out["random"].notna() & out["toeplitz"].notna()
    out["acc_gap"] = w["mean_test_acc"]["toeplitz"] - w["mean_test_acc"]["random"]
    return out.reset_index()


# ------------------------------------------------------------------ figures
def _fig(nrows: int, ncols: int, h: float = 3.4) -> tuple[plt.Figure, np.ndarray]:
    """A figure 8 in wide with fixed spacing (no layout engine: constrained layout triples the cost of a draw, and
    the saved PNG is cropped to its content anyway)."""
    theme()
    fig, ax = plt.subplots(nrows, ncols, figsize=(8, h * nrows), squeeze=False)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.14 / nrows, top=1 - 0.1 / nrows,
                        wspace=0.32 if ncols == 2 else 0.45, hspace=0.42)
    return fig, ax


def _thin(d: pd.DataFrame, n: int = 300) -> pd.DataFrame:
    """Every k-th row of one curve's frame (at most about ``n``, the last one kept): the figures draw fewer points,
    the CSV keeps them all."""
    k = max(1, len(d) // n)
    return d.iloc[sorted(set(range(0, len(d), k)) | {len(d) - 1})]


def _tag(ax: plt.Axes, s: str) -> None:
    ax.set_title(s, loc="left", fontsize=11)


def norms_data(rand: pd.DataFrame, norms: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`norms_figure`: the random matrices (``panel = "random"``) and the training runs'
    matrices per epoch (``panel = "training"``)."""
    return pd.concat([rand.assign(panel="random"), norms.assign(panel="training")], ignore_index=True)


def norms_figure(rand: pd.DataFrame, norms: pd.DataFrame, run: int) -> plt.Figure:
    """(a) ``||M||_F / ||M||_2`` of the random matrices against ``sqrt(min(m, n))``, with Lemma 3.4's bounds; (b)
    where each weight matrix of run ``run`` sits between the bounds through training; (c) every run's
    ``sum ||M||_F^2`` between ``sum ||M||_2^2`` and ``sum min(m, n) ||M||_2^2``."""
    fig, ax = _fig(1, 3, 3.6)
    a = ax[0, 0]
    mk = {"gaussian": ("o", "#0173b2"), "rank one": ("v", "#d55e00"), "orthonormal": ("s", "#029e73")}
    for kind, d in rand.groupby("kind"):
        a.scatter(d["bound"], d["ratio"], s=14, marker=mk[kind][0], color=mk[kind][1], label=kind, alpha=0.7)
    x = np.linspace(1, rand["bound"].max() * 1.05, 50)
    a.plot(x, x, "k--", lw=1)
    a.plot(x, np.ones_like(x), "k:", lw=1)
    a.set(xlabel="sqrt(min(m, n))", ylabel="||M||_F / ||M||_2")
    a.legend(fontsize=9, loc="upper left")
    _tag(a, "(a) random matrices")
    b = ax[0, 1]
    d = norms[norms["run"] == run]
    for k, (name, dd) in enumerate(d.groupby("matrix", sort=False)):
        b.plot(dd["epoch"], dd["position"], lw=1.4, label=name, color=plt.cm.tab10(k % 10))
    b.set(xlabel=EPOCH_LABEL.split(" (")[0], ylabel="(ratio - 1) / (bound - 1)", ylim=(-0.03, 1.03))
    b.legend(fontsize=9, ncol=3, loc="upper center", columnspacing=0.8, handlelength=1.2)
    _tag(b, "(b) one run's matrices")
    c = ax[0, 2]
    s = norm_sums(norms)
    for (r, init), dd in s.groupby(["run", "init"]):
        col = INIT_COLORS[init]
        c.plot(dd["epoch"], dd["fro2"], color=col, lw=1.6)
        c.plot(dd["epoch"], dd["op2"], color=col, lw=1, ls=":")
        c.plot(dd["epoch"], dd["up2"], color=col, lw=1, ls="--")
    c.set(xlabel=EPOCH_LABEL.split(" (")[0], ylabel="sum over matrices", yscale="log",
          ylim=(float(s["op2"].min()) / 8, float(s["up2"].max()) * 1.5))
    c.plot([], [], "k--", label="sum min(m,n) ||M||_2^2")
    c.plot([], [], "k-", label="sum ||M||_F^2")
    c.plot([], [], "k:", label="sum ||M||_2^2")
    c.legend(fontsize=9, loc="lower right", handlelength=1.5)
    _tag(c, "(c) the weight-decay term")
    return fig


def coverage_data(cov: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`coverage_figure`: the rows of :func:`coverage_frame`."""
    return cov.copy()


def coverage_figure(cov: pd.DataFrame) -> plt.Figure:
    """One panel per radius ``D``: Monte-Carlo ``P_full`` (with 2 se bars) against ``alpha / theta``, one colour
    per ``p``; dashed: the exact union bound ``1 - E``; dotted: the paper's ``1 - N (1 - C/N)^m`` (both clipped at
    0); grey: the paper's threshold, ticks: ``alpha_exact / theta``."""
    Ds = sorted(cov["D"].unique())
    fig, ax = _fig(1, len(Ds), 3.6)
    for k, D in enumerate(Ds):
        a = ax[0, k]
        for j, (p, d) in enumerate(cov[cov["D"] == D].groupby("p")):
            col = P_COLORS[j % len(P_COLORS)]
            a.errorbar(d["multiple"], d["P_full"], yerr=2 * d["se"], color=col, marker="o", ms=4, lw=1.4,
                       capsize=2, label=f"p = {p}")
            a.plot(d["multiple"], d["bound_exact"].clip(lower=0), color=col, ls="--", lw=1)
            a.plot(d["multiple"], d["bound_paper"].clip(lower=0), color=col, ls=":", lw=1)
            a.axvline(float(d["alpha_exact"].iloc[0] / d["theta"].iloc[0]), color=col, lw=0.8, ymax=0.08)
        a.axvline(1.0, color="0.5", lw=1)
        a.set(xlabel="alpha / (2 ln p / C)", ylabel="P(full coverage)", ylim=(-0.04, 1.04))
        _tag(a, f"D = {D}, C = {ball_size(int(D))}")
        if k == 0:
            a.legend(fontsize=9, loc="upper left")
    return fig


def toy_data(hist: pd.DataFrame, final: dict[str, torch.Tensor]) -> pd.DataFrame:
    """The numbers behind :func:`toy_figure`: the sweep histories and the final embeddings' two principal
    coordinates (``pc1, pc2`` per token)."""
    parts = [hist.assign(kind="history")]
    for name in ("integer sum", "sum mod p"):
        P = pca2(final[name])
        parts.append(pd.DataFrame(dict(kind="embedding", case=name, token=np.arange(len(P)), pc1=P[:, 0],
                                       pc2=P[:, 1])))
    return pd.concat(parts, ignore_index=True)


def toy_figure(hist: pd.DataFrame, final: dict[str, torch.Tensor], closed: float) -> plt.Figure:
    """(a) MED of the toy's embeddings per sweep, (b) the weight-decay term (grey dashed: the one-class closed
    form), (c) the integer-sum case's final embedding on its first principal direction against the token, (d) the
    mod-p case's final embedding on its two principal directions, joined in token order (circled: token 0)."""
    fig, ax = _fig(2, 2, 3.3)
    for name, d in hist.groupby("case", sort=False):
        col = CASE_COLORS[name]
        ax[0, 0].plot(d["sweep"] + 1, d["med"], color=col, lw=1.6, label=name)
        ax[0, 1].plot(d["sweep"] + 1, d["norm"], color=col, lw=1.6, label=name)
    ax[0, 0].set(xscale="log", yscale="log", xlabel="sweep + 1", ylabel="MED of the embeddings")
    ax[0, 0].legend(fontsize=9)
    _tag(ax[0, 0], "(a) MED")
    ax[0, 1].axhline(closed, color="0.4", ls="--", lw=1)
    ax[0, 1].set(xscale="log", yscale="log", xlabel="sweep + 1", ylabel="sum ||x_i||^2 + ||L||_F^2")
    _tag(ax[0, 1], "(b) the weight-decay term")
    P = pca2(final["integer sum"])
    tok = np.arange(len(P))
    c = ax[1, 0]
    c.plot(tok, P[:, 0], "o-", color=CASE_COLORS["integer sum"], ms=4, lw=1)
    c.set(xlabel="token i", ylabel="principal coordinate 1")
    _tag(c, "(c) integer sum: final embedding")
    P = pca2(final["sum mod p"])
    d = ax[1, 1]
    d.plot(P[:, 0], P[:, 1], "-", color=CASE_COLORS["sum mod p"], lw=0.8)
    d.scatter(P[:, 0], P[:, 1], c=tok, cmap="viridis", s=22, zorder=3)
    d.scatter(P[:1, 0], P[:1, 1], s=90, facecolors="none", edgecolors="k", zorder=4)
    d.set(xlabel="principal coordinate 1", ylabel="principal coordinate 2")
    _tag(d, "(d) sum mod p: final embedding")
    return fig


def _ode_panels(curves: pd.DataFrame, traj: pd.DataFrame, show_lam: float, n_show: int) -> pd.DataFrame:
    """The curve points :func:`ode_figure` draws: panel ``a`` (``xwu`` of the first ``n_show`` starts without
    weight decay and with ``show_lam``, up to 4 times the median fit time) and panel ``b`` (the imbalance of the
    same starts at every weight decay), thinned."""
    t_fit = float(traj["t_fit"].median())
    horizon = 4 * t_fit if t_fit == t_fit else float(curves["t"].max())
    sub = curves[curves["start"] < n_show]
    a = sub[sub["lam"].isin([0.0, show_lam]) & (sub["t"] <= horizon)]
    b = sub[sub["lam"] > 0]
    parts = [_thin(d, 300).assign(panel="a") for _, d in a.groupby(["lam", "start"])]
    parts += [_thin(d, 150).assign(panel="b", rel_imbalance=d["imbalance"] / d["imbalance"].iloc[0])
              for _, d in b.groupby(["lam", "start"])]
    return pd.concat(parts, ignore_index=True)


def ode_data(curves: pd.DataFrame, traj: pd.DataFrame, show_lam: float, n_show: int = 8) -> pd.DataFrame:
    """The numbers behind :func:`ode_figure`: the drawn curve points (``kind = "curve"``, panels ``a, b``) and
    every trajectory's row with its fit and balance times (``kind = "times"``)."""
    return pd.concat([_ode_panels(curves, traj, show_lam, n_show).assign(kind="curve"), traj.assign(kind="times")],
                     ignore_index=True)


def ode_figure(curves: pd.DataFrame, traj: pd.DataFrame, show_lam: float, n_show: int = 8) -> plt.Figure:
    """(a) ``xwu`` against time (up to 4 times the median fit time) for ``n_show`` starts without weight decay
    (solid) and with ``show_lam`` (dashed); (b) the imbalance relative to its start against ``lambda t``, the same
    starts at every weight decay (grey: the identity ``exp(-2 lambda t)``); (c) the fit and balance times against
    ``1 / lambda`` (medians, with the range), and the prediction ``ln(1 / BAL_TOL) / (2 lambda)``."""
    fig, ax = _fig(1, 3, 3.6)
    pan = _ode_panels(curves, traj, show_lam, n_show)
    a = ax[0, 0]
    for (lj, s), dd in pan[pan["panel"] == "a"].groupby(["lam", "start"]):
        a.plot(dd["t"], dd["xwu"], ls="-" if lj == 0 else "--", lw=1, color=plt.cm.viridis(s / max(n_show - 1, 1)))
    a.plot([], [], "k-", label="no weight decay")
    a.plot([], [], "k--", label=f"lambda = {show_lam:g}")
    a.set(xlabel="t", ylabel="xwu")
    a.legend(fontsize=9, loc="lower right")
    _tag(a, "(a) fitting")
    b = ax[0, 1]
    pb = pan[pan["panel"] == "b"]
    lams = sorted(pb["lam"].unique())
    for k, lj in enumerate(lams):
        for s, dd in pb[pb["lam"] == lj].groupby("start"):
            b.plot(lj * dd["t"], dd["rel_imbalance"], color=P_COLORS[k % 4], lw=0.8, alpha=0.6,
                   label=f"lambda = {lj:g}" if s == 0 else None)
    x = np.linspace(0, min(float((pb["lam"] * pb["t"]).max()), 0.5 * math.log(1e12)), 50)
    b.plot(x, np.exp(-2 * x), color="k", lw=1, ls="--", label="exp(-2 lambda t)")
    b.set(yscale="log", xlabel="lambda t", ylabel="imbalance / start", ylim=(1e-12, 2), xlim=(0, x[-1]))
    b.legend(fontsize=9, loc="lower left")
    _tag(b, "(b) balancing")
    c = ax[0, 2]
    t = traj[traj["lam"] > 0]
    for col_, name, m in (("t_fit", "fit time", "o"), ("t_bal", "balance time", "s")):
        g = t.groupby("lam")[col_]
        med_, lo, hi = g.median(), g.min(), g.max()
        inv = 1 / med_.index.to_numpy()
        c.errorbar(inv, med_, yerr=[med_ - lo, hi - med_], marker=m, lw=1.4, capsize=2, label=name)
    inv = 1 / np.asarray(lams)
    c.plot(inv, np.log(1 / BAL_TOL) / 2 * inv, "k--", lw=1, label="ln(100) / (2 lambda)")
    c.set(xscale="log", yscale="log", xlabel="1 / lambda", ylabel="time",
          ylim=(float(t["t_fit"].min()) / 2, float(t["t_bal"].max()) * 12))
    c.xaxis.set_minor_formatter(NullFormatter())
    c.set_xticks(inv, [f"{v:g}" for v in inv])
    c.legend(fontsize=9, loc="upper left")
    _tag(c, "(c) the delay")
    return fig


def toeplitz_data(frame: pd.DataFrame, inits: Sequence[str]) -> pd.DataFrame:
    """The numbers behind :func:`toeplitz_figure`: per run and epoch the accuracies, MED and the init."""
    d = frame[["run", "epoch", "seed", "train_frac", "train_acc", "test_acc", "med", "emb_norm"]].copy()
    d["init"] = d["run"].map(dict(enumerate(inits)))
    return d


def toeplitz_figure(frame: pd.DataFrame, inits: Sequence[str]) -> plt.Figure:
    """(a) test (solid) and train (dotted) accuracy of every run, red: random ``W_E``, blue: Toeplitz ``W_E``
    (line style per seed is not distinguished; grey dashed: the grokking threshold); (b) MED of the same runs."""
    d = toeplitz_data(frame, inits)
    fig, ax = _fig(1, 2, 3.6)
    for (r, init), dd in d.groupby(["run", "init"]):
        col = INIT_COLORS[init]
        ax[0, 0].plot(dd["epoch"], dd["test_acc"], color=col, lw=1.5)
        ax[0, 0].plot(dd["epoch"], dd["train_acc"], color=col, lw=1, ls=":")
        ax[0, 1].plot(dd["epoch"], dd["med"], color=col, lw=1.5)
    ax[0, 0].axhline(GROK_THRESHOLD, color="0.5", ls="--", lw=0.8)
    for init, col in INIT_COLORS.items():
        ax[0, 0].plot([], [], color=col, label=f"{init} W_E")
    ax[0, 0].legend(fontsize=9, loc="lower right")
    ax[0, 0].set(xlabel=EPOCH_LABEL.split(" (")[0], ylabel="accuracy")
    _tag(ax[0, 0], "(a) accuracy")
    ax[0, 1].set(xlabel=EPOCH_LABEL.split(" (")[0], ylabel="MED (Def. 4.2)")
    _tag(ax[0, 1], "(b) MED")
    return fig
