"""Progress measures computed during training (paper-li2 §3 Fig. 3, §4.4, Stage III).

The Gram and distance measures are batched over runs (leading axis ``R``) and honour a row mask ``(R, n)``.
:func:`feature_diversity` and :func:`covered_components` read a trained ``W (2M, K)`` through the Fourier / irrep
purity of :mod:`li2core.fourier`: how many distinct frequencies (irreps) the hidden nodes cover (Thm 6's
repulsion and Thm 8's Muon both predict more of them).

The MED paper's embedding measures (paper-med §§3.1-3.2) take an embedding with one row per token, batched over
leading axes: :func:`med` (Def. 4.2), :func:`med_code` (the authors' ``calculate_embedding_diff``),
:func:`consecutive_gap_cv` (uniform spacing) and :func:`parallelogram_spread` (Thm 3.5's class radii).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch

from .fourier import as_group, component_power, purity
from .groups import Group
from .losses import center

__all__ = [
    "ftf_offdiag_ratio",
    "fft_dist_ideal",
    "fft_offdiag_ratio",
    "fft_ratios",
    "cos_dist",
    "purity_basis",
    "mean_purity",
    "node_components",
    "covered_components",
    "feature_diversity",
    "first_epoch_reaching",
    "mean_curve",
    "peak_epoch",
    "ols_slope",
    "loglog_slope",
    "spearman",
    "gf_spectrum",
    "med",
    "med_code",
    "parallelogram_spread",
    "consecutive_gap_cv",
]


def _offdiag_ratio(G: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """mean |off-diagonal| / mean |diagonal| of square ``G (R, d, d)`` over ``valid (R, d)`` indices."""
    A = G.abs()
    diag = torch.diagonal(A, dim1=-2, dim2=-1)
    d = valid.sum(-1)
    s_diag = (diag * valid).sum(-1)
    s_all = torch.einsum("ri,rij,rj->r", valid, A, valid)
    return ((s_all - s_diag) / (d * (d - 1)).clamp_min(1.0)) / (s_diag / d.clamp_min(1.0))


def ftf_offdiag_ratio(F: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """mean |off-diag| / mean |diag| of ``F~^T F~`` (``K x K``), ``F~ = P_1^perp F``.

    The author's ``~F^t~F_off_diag_avg / ~F^t~F_diag_avg``; the paper's "diagonal up to 8%"
    statement for Fig. 3 refers to this ratio (paper-li2 §3, Fig. 3 row).
    """
    Ft = center(F, mask)
    G = torch.bmm(Ft.transpose(-1, -2), Ft)
    return _offdiag_ratio(G, torch.ones(G.shape[:-1], dtype=G.dtype, device=G.device))


def fft_offdiag_ratio(F: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """mean |off-diag| / mean |diag| of ``P_1^perp F F^T`` (``n x n``, the run's rows only)."""
    Ft = center(F, mask)
    G = torch.bmm(Ft, (F * mask[..., None].to(F.dtype)).transpose(-1, -2))
    return _offdiag_ratio(G, mask.to(F.dtype))


def fft_dist_ideal(F: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``||F F^T - ((d - o) I + o 1 1^T)||_F / ||F F^T||_F`` on the raw kernel (Lemma 1's form).

    ``d`` and ``o`` are the mean diagonal and mean off-diagonal entries of ``F F^T`` over the
    run's rows (the author's ``FF^t_dist_from_ideal``). Computed without forming the ideal matrix.
    """
    Fm = F * mask[..., None].to(F.dtype)
    return _dist_from_ideal(torch.bmm(Fm, Fm.transpose(-1, -2)), mask.to(F.dtype).sum(-1))


def _dist_from_ideal(G: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """``||G - ((d - o) I + o 1 1^T)||_F / ||G||_F`` for a kernel ``G`` over ``n`` rows (padding rows zero)."""
    tr = torch.diagonal(G, dim1=-2, dim2=-1).sum(-1)
    tot = G.sum(dim=(-2, -1))
    g2 = G.pow(2).sum(dim=(-2, -1))
    d = tr / n
    o = (tot - tr) / (n * (n - 1)).clamp_min(1.0)
    inner = (d - o) * tr + o * tot
    ideal2 = n * d * d + n * (n - 1) * o * o
    return (g2 - 2 * inner + ideal2).clamp_min(0.0).sqrt() / g2.sqrt()


def fft_ratios(F: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(fft_offdiag_ratio, fft_dist_ideal)`` sharing one ``n x n`` product.

    ``G = F F^T`` is recovered from ``G_c = F~ F^T`` as ``G_c + m (F mu)^T`` (``mu`` = mean row),
    which avoids the cancellation of forming ``F~^T F~`` from ``F^T F``.
    """
    m = mask.to(F.dtype)
    Fm = F * m[..., None]
    n = m.sum(-1)
    mu = Fm.sum(1) / n.clamp_min(1.0)[:, None]
    Gc = torch.bmm(Fm - m[..., None] * mu[:, None, :], Fm.transpose(-1, -2))
    ratio = _offdiag_ratio(Gc, m)
    G = Gc.add_(m[..., None] * torch.bmm(Fm, mu[..., None]).transpose(-1, -2))
    return ratio, _dist_from_ideal(G, n)


def cos_dist(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Per-run cosine distance ``1 - <A, B> / (||A|| ||B||)`` of flattened ``(R, ...)`` tensors.

    Computed as ``||A/|A| - B/|B|||^2 / 2``, which is exact and keeps precision when the
    distance is tiny (consecutive optimizer steps move weights by ~1e-7 in cosine).
    """
    a, b = A.reshape(A.shape[0], -1), B.reshape(B.shape[0], -1)
    a = a / a.norm(dim=-1, keepdim=True)
    b = b / b.norm(dim=-1, keepdim=True)
    return 0.5 * (a - b).pow(2).sum(-1)


def purity_basis(group: Group | str, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Q (M, M), C (M, n_components))`` for :func:`mean_purity`: the group's real isotypic basis
    (:meth:`li2core.groups.Group.real_isotypic_basis`) and the one-hot map from its columns to the components."""
    Q, comp = as_group(group).real_isotypic_basis()
    C = torch.nn.functional.one_hot(torch.as_tensor(comp), int(comp.max()) + 1)
    return torch.as_tensor(Q, dtype=dtype, device=device), C.to(device=device, dtype=dtype)


def mean_purity(W: torch.Tensor, basis: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Fourier purity of a hidden layer, batched: per run, the mean over nodes of the share of a node's power in its
    dominant real isotypic component (:func:`li2core.fourier.purity`, as :func:`node_components`; zero nodes
    skipped). ``W (R, 2M, K)``, real or complex (complex: the power of the real and imaginary parts together);
    ``basis`` from :func:`purity_basis`. Returns ``(R,)`` (NaN for a run whose nodes are all zero)."""
    Q, C = basis
    M = Q.shape[0]
    coef = torch.einsum("rmk,mj->rjk", W[:, :M], Q.to(W.dtype)).abs() ** 2
    coef = coef + torch.einsum("rmk,mj->rjk", W[:, M:], Q.to(W.dtype)).abs() ** 2
    P = torch.einsum("rjk,jc->rck", coef, C.to(coef.dtype))
    total = P.sum(1)
    share = P.max(dim=1).values / torch.where(total > 0, total, 1.0)
    return torch.where(total > 0, share, torch.nan).nanmean(dim=1)


# --- Frame-level summaries (tidy frames of li2core.Results.frame) -------------------------


def node_components(W: Any, group: Group | str) -> tuple[np.ndarray, np.ndarray]:
    """Each hidden node's dominant real isotypic component and the share of its power there.

    ``W`` is the paper's ``(2M, K)`` hidden layer (column ``j`` = node ``j``; a :class:`torch.Tensor` or an array).
    Returns ``(component (K,), purity (K,))`` with components indexed as :func:`li2core.fourier.component_labels`
    (``Z_M``: the frequency ``0 .. M // 2``; 0 is the trivial component) and purity
    ``(||Pi_c u||^2 + ||Pi_c v||^2) / ||w||^2`` of that component (:func:`li2core.fourier.purity`; a zero node gets
    component -1 and purity NaN).
    """
    g = as_group(group)
    Wn = W.detach().cpu().double().numpy() if hasattr(W, "detach") else np.asarray(W, dtype=float)
    if Wn.ndim != 2 or Wn.shape[0] != 2 * g.order:
        raise ValueError(f"W: expected shape (2M, K) = ({2 * g.order}, K) for {g.name}; got {Wn.shape}")
    P = purity(Wn.T, g)  # (K, n_components)
    bad = np.isnan(P).any(axis=-1)
    comp = np.argmax(np.nan_to_num(P, nan=-1.0), axis=-1)
    frac = np.take_along_axis(P, comp[:, None], axis=-1)[:, 0]
    comp = np.where(bad, -1, comp)
    return comp.astype(np.int64), np.where(bad, np.nan, frac)


def covered_components(W: Any, group: Group | str, min_purity: float = 0.5) -> list[int]:
    """The sorted distinct non-trivial components that some node of ``W (2M, K)`` is dominated by, counting only
    nodes with at least ``min_purity`` of their power in that component (:func:`node_components`)."""
    if not 0.0 <= float(min_purity) <= 1.0:
        raise ValueError(f"min_purity: must be in [0, 1]; got {min_purity!r}")
    comp, frac = node_components(W, group)
    keep = (comp > 0) & (np.nan_to_num(frac, nan=-1.0) >= float(min_purity))
    return sorted({int(c) for c in comp[keep]})


def feature_diversity(W: Any, group: Group | str, min_purity: float = 0.5) -> int:
    """Feature diversity: how many distinct non-trivial frequencies (irreps) the hidden nodes of ``W (2M, K)``
    cover, a node counting for its dominant component when at least ``min_purity`` of its power lies there
    (``len(covered_components(...))``; at most the number of non-trivial real components, ``M // 2`` for
    ``Z_M``)."""
    return len(covered_components(W, group, min_purity))


def first_epoch_reaching(frame: pd.DataFrame, metric: str, threshold: float, by: Sequence[str] = ("run",)) -> pd.Series:
    """Per group of ``by``: the first epoch at which ``metric >= threshold`` (NaN if never).

    With ``by=("run",)`` this is each run's grokking epoch for ``metric="test_acc"``.
    """
    def first(d: pd.DataFrame) -> float:
        hit = d.loc[d[metric] >= threshold, "epoch"]
        return float(hit.min()) if len(hit) else float("nan")

    return frame.groupby(list(by))[["epoch", metric]].apply(first).rename(f"first_epoch_{metric}>={threshold:g}")


def mean_curve(frame: pd.DataFrame, metric: str, by: Sequence[str] = ()) -> pd.DataFrame | pd.Series:
    """Mean of ``metric`` over runs per epoch (and per ``by``), ignoring diverged runs and NaNs."""
    ok = frame[~frame["diverged"]] if "diverged" in frame else frame
    return ok.groupby([*by, "epoch"])[metric].mean()


def peak_epoch(frame: pd.DataFrame, metric: str, by: Sequence[str] = (), min_epoch: int = 1) -> float | pd.Series:
    """Epoch at which the seed-mean curve of ``metric`` peaks (epochs >= ``min_epoch``)."""
    curve = mean_curve(frame[frame["epoch"] >= min_epoch], metric, by)
    if not by:
        return float(curve.idxmax())
    return curve.groupby(level=list(range(len(by)))).apply(lambda s: s.droplevel(list(range(len(by)))).idxmax())


# --- Slopes and rank correlations -------------------------------------------------------------


def ols_slope(x: Any, y: Any) -> tuple[float, float]:
    """Slope ``b`` and its standard error of the ordinary least-squares fit ``y = a + b x`` (the error is NaN with
    fewer than 3 points; both are NaN with fewer than 2 or constant ``x``)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = len(x)
    if n < 2:
        return float("nan"), float("nan")
    xm = x - x.mean()
    sxx = float((xm**2).sum())
    if sxx == 0:
        return float("nan"), float("nan")
    b = float((xm * (y - y.mean())).sum() / sxx)
    if n < 3:
        return b, float("nan")
    resid = y - y.mean() - b * xm
    return b, float(np.sqrt((resid**2).sum() / (n - 2) / sxx))


def loglog_slope(x: Sequence[float] | torch.Tensor, y: Sequence[float] | torch.Tensor) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (all values must be > 0, at least 2 points):
    :func:`ols_slope` on the logarithms."""
    def as_f64(v: Any) -> torch.Tensor:  # a copy: read-only arrays (pandas hands them out) are fine
        if isinstance(v, torch.Tensor):
            return v.detach().to("cpu", torch.float64).reshape(-1)
        return torch.from_numpy(np.array(v, dtype=np.float64)).reshape(-1)

    xs, ys = as_f64(x), as_f64(y)
    if xs.numel() != ys.numel() or xs.numel() < 2:
        raise ValueError("x, y: need at least two points of equal count")
    if bool((xs <= 0).any() or (ys <= 0).any()):
        raise ValueError("x, y: log-log slope needs positive values")
    return ols_slope(np.log(xs.numpy()), np.log(ys.numpy()))[0]


def spearman(x: Any, y: Any) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` (Pearson correlation of the average ranks; NaN pairs
    dropped)."""
    d = pd.DataFrame({"x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float)}).dropna()
    if len(d) < 2:
        return float("nan")
    return float(d["x"].rank().corr(d["y"].rank()))


# --- The top-down signal (Stage III, Thm 7) ----------------------------------------------------


def gf_spectrum(G_F: Any, labels: Any, group: Group | str) -> np.ndarray:
    """The spectrum of the backpropagated gradient ``G_F`` over the real isotypic components of the *target*.

    ``G_F (n, K)`` (or ``(..., n, K)``): one column per hidden node, one row per sample (e.g. Eq. 2,
    :func:`li2core.theory.stage1.G_F`, on a run's training rows); ``labels (n,)``: each row's target ``y_i``.
    Column ``j`` is reduced to the function on the group ``a_j(h) = mean_{i: y_i = h} G_F[i, j]`` (0 for a class
    without rows): the orthogonal projection of the column on the functions of the target,
    ``Y (Y^T Y)^{-1} Y^T g_j = Y a_j``. Returned: ``p_c = sum_j ||Pi_c a_j||^2`` for every real isotypic component
    ``c`` (:func:`li2core.fourier.component_power`; ``Z_M``: frequency ``c``), shape ``(..., n_components)``; the
    share of component ``c`` is ``p_c / sum(p)``. For a centred ``G_F`` on balanced classes ``p_0 = 0``.

    Why this reduction: Theorem 7 says ``G_F ∝ (Phi_S (x) 1_M)(Phi_S (x) 1_M)^* F``, i.e. every column of ``G_F``
    is a function of the target lying in the irreps *not* yet learned; ``a_j`` is exactly that function, so
    ``p_c`` is the top-down signal per irrep (what the theorem predicts to vanish on learned ``c``). The gradient
    the hidden layer receives, ``X^T (sigma'(X W) o G_F)``, mixes in each node's own spectrum through
    ``sigma'``, and ``X^T G_F`` vanishes identically on all ``M^2`` pairs for any ``G_F`` that is a centred
    function of the target (every operand meets every target once): neither isolates the signal. The part of
    ``G_F`` that is no function of the target (e.g. memorisation) is not seen here; its size is
    ``||G_F||^2 - sum_h c_h ||a(h)||^2`` with ``c_h`` the class counts.
    """
    g = as_group(group)
    M = g.order
    G = G_F.detach().cpu().double().numpy() if hasattr(G_F, "detach") else np.asarray(G_F, dtype=float)
    y = labels.detach().cpu().numpy() if hasattr(labels, "detach") else np.asarray(labels)
    if G.ndim < 2:
        raise ValueError(f"G_F: expected shape (n, K) or (..., n, K); got {G.shape}")
    if y.ndim != 1 or y.shape[0] != G.shape[-2]:
        raise ValueError(f"labels: expected shape (n,) = ({G.shape[-2]},) to match G_F; got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() >= M)):
        raise ValueError(f"labels: must be integers in 0..{M - 1} for {g.name}")
    Y = np.zeros((y.shape[0], M))
    Y[np.arange(y.shape[0]), y] = 1.0
    counts = Y.sum(0)
    means = np.einsum("nh,...nk->...kh", Y, G) / np.where(counts > 0, counts, 1.0)  # (..., K, M): a_j(h)
    return component_power(means, g).sum(axis=-2)


# --- The MED paper's embedding measures (paper-med §§3.1-3.2, Thm 3.5) ------------------------------------------


def _gaps(E: torch.Tensor) -> torch.Tensor:
    """The cyclic consecutive gaps ``||E[(i + 1) % p] - E[i]||_2`` of ``E (..., p, dim)``: ``(..., p)``."""
    if E.ndim < 2 or E.shape[-2] < 2:
        raise ValueError(f"E: expected shape (..., p, dim) with p >= 2; got {tuple(E.shape)}")
    return (torch.roll(E, -1, dims=-2) - E).norm(dim=-1)


def med(E: torch.Tensor) -> torch.Tensor:
    """MED as the MED paper defines it (Def. 4.2): ``(1/p) sum_{i=0}^{p-1} ||E[(i+1) % p] - E[i]||_2``, cyclic
    (``phi(p) := phi(0)``).

    ``E (..., p, dim)`` holds one row per token value ``0 .. p-1`` (the authors' ``W_E`` is ``(dim, vocab)``: pass
    ``W_E[:, :p].T``), batched over leading axes; returns ``(...)`` (a 0-d tensor for one matrix). The paper's Fig. 5
    (and Figs. 12-19) plot ``p`` times this, the plain sum. For what the authors' code logs see :func:`med_code`.
    """
    return _gaps(E).mean(-1)


def med_code(E: torch.Tensor, p: int, d: int = 0) -> torch.Tensor:
    """What the authors' ``calculate_embedding_diff(W_E, 0, p-1, d, d+p-1)`` returns as MED in ``transformer/base.py``
    and ``MLP/*`` (paper-med §3.2): ``0.5 (D1 + D2)`` with ``D1 = mean_{t=0}^{p-3} ||E[t+1] - E[t]||`` and ``D2`` the
    same over the rows ``d .. d+p-2`` (``p - 2`` differences each: no wrap, and token ``p - 1`` never enters).

    ``E (..., n_tokens, dim)`` has one row per token id (the authors' ``W_E`` transposed), batched over leading axes;
    returns ``(...)``. With ``d = 0``, ``D1 = D2`` and this is ``D1``. The other scripts rescale it:
    ``transformer/str.py`` returns ``D1 + D2`` (2x this) and ``transformer/rec.py`` ``(p-1) D1 + (p-1) D2``
    (``2 (p-1)`` x this); the curves' shapes are the same.
    """
    if E.ndim < 2:
        raise ValueError(f"E: expected shape (..., n_tokens, dim); got {tuple(E.shape)}")
    if isinstance(p, bool) or int(p) != p or p < 3:
        raise ValueError(f"p: must be an integer >= 3 (p - 2 differences); got {p!r}")
    if isinstance(d, bool) or int(d) != d or d < 0:
        raise ValueError(f"d: must be a non-negative integer; got {d!r}")
    p, d = int(p), int(d)
    n = E.shape[-2]
    if p - 1 > n or d + p - 1 > n:
        raise ValueError(f"E: {n} token rows; med_code needs rows 0..{p - 2} and {d}..{d + p - 2}")

    def block(s: int) -> torch.Tensor:
        rows = E[..., s:s + p - 1, :]
        return (rows[..., 1:, :] - rows[..., :-1, :]).norm(dim=-1).mean(-1)

    return 0.5 * (block(0) + block(d))


def consecutive_gap_cv(E: torch.Tensor) -> torch.Tensor:
    """The coefficient of variation (population std / mean) of the cyclic consecutive gaps
    ``||E[(i+1) % p] - E[i]||_2`` of ``E (..., p, dim)`` (one row per token value): 0 exactly when the points are
    equally spaced along the closed curve, paper-med §3.1's proxy for uniformity. Returns ``(...)``; NaN when all
    gaps are 0."""
    g = _gaps(E)
    return g.std(dim=-1, correction=0) / g.mean(-1)


def parallelogram_spread(S: torch.Tensor, y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Thm 3.5's class radii relative to the class separation, on sums ``S (..., n, dim)`` (e.g.
    ``phi(a_i) + phi(b_i)`` over the pairs) with labels ``y (n,)`` in ``0 .. n_classes-1``.

    Per class ``r`` (among those with at least one pair): the centroid ``k_r`` (mean of its ``S_i``) and the radius
    ``delta_r = max_i ||S_i - k_r||``. Returns ``mean_r delta_r / mean_{r != s} ||k_r - k_s||`` (over ordered pairs
    of distinct present classes), shape ``(...)``; 0 exactly when every class's sums coincide (Liu et al.'s
    parallelogram condition holding exactly). NaN with fewer than two present classes.

    Degenerate on raw embedding sums over all pairs of a Latin-square task (``a + b`` or ``a - b`` mod ``p`` on the
    full grid): class ``r`` then holds every ``a`` once, so every centroid is ``2 mean(phi)`` whatever ``phi`` and the
    ratio is infinite (or float noise over zero). Thm 3.5's sums are taken after the model's maps (``l'(phi(i)) +
    l''(phi(j))`` through a truncation, paper-med §2.1): apply it to such a representation (e.g. the residual at the
    cls position), or to a subset of pairs.
    """
    y = torch.as_tensor(y, device=S.device).long()
    if S.ndim < 2 or y.ndim != 1 or y.shape[0] != S.shape[-2]:
        raise ValueError(f"S, y: expected S (..., n, dim) and y (n,); got {tuple(S.shape)} and {tuple(y.shape)}")
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(f"y: labels must lie in 0..{n_classes - 1}")
    counts = torch.bincount(y, minlength=n_classes)
    present = torch.nonzero(counts > 0).flatten()
    C = int(present.numel())
    if C < 2:
        return torch.full(S.shape[:-2], float("nan"), dtype=S.dtype, device=S.device)
    onehot = torch.nn.functional.one_hot(y, n_classes).to(S.dtype)  # (n, n_classes)
    K = torch.einsum("nc,...nd->...cd", onehot, S) / counts.clamp_min(1).to(S.dtype)[:, None]
    dist = (S - K[..., y, :]).norm(dim=-1)  # (..., n)
    lead = dist.shape[:-1]
    radius = torch.zeros(*lead, n_classes, dtype=S.dtype, device=S.device)
    radius = radius.scatter_reduce(-1, y.expand(*lead, -1), dist, reduce="amax", include_self=True)  # dist >= 0
    Kp = K[..., present, :]
    sep = (Kp[..., :, None, :] - Kp[..., None, :, :]).norm(dim=-1).sum((-2, -1)) / (C * (C - 1))
    return radius[..., present].mean(-1) / sep
