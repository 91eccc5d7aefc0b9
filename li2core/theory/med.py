"""The MED paper's theory checks (Gu et al., paper-med §§3-4, App. B, C, E): tensors in, tensors (or floats) out;
chapter ``med_theory``. Thm 3.12's threshold, bound and ball size are :mod:`.coverage`'s; this module adds what the
checks of that chapter need besides.

* **Lemma 3.4** (:func:`operator_frobenius`): ``||M||_2 <= ||M||_F <= sqrt(min(m, n)) ||M||_2`` for ``M (m, n)``,
  batched.
* **Thm 3.12** (:func:`uncovered_counts`, :func:`expected_uncovered`): a Monte Carlo of the union-bound argument on
  the torus ``Z_p^2``, the neighbourhood of a point being its L1 ball of radius ``D`` (``C = 2 D^2 + 2 D + 1``
  points; a *model* of the paper's ``C``, which the paper does not fix), and the exact mean number of uncovered
  points when the ``m`` training points are drawn without replacement.
* **Remark 3.9 / Lemma B.1** (:func:`single_class_minimum`, :func:`pair_sum_residual`, :func:`fit_pair_sum`,
  :func:`frequency_spectrum`, :func:`gap_cv_open`): the toy problem ``min sum_i ||x_i||^2 + ||L||_F^2`` subject to
  ``L x_i + L x_j = c_{r(i, j)}`` on a set of pairs, by a penalty method; the closed-form minimum for a single
  class; whether the constraint can hold at all (least squares in ``y_i = L x_i``); and the layout measures.
* **App. C** (:func:`xwu_field`, :func:`rk4`, :func:`manifold_limit`, :func:`balanced_equilibrium`,
  :func:`field_jacobian`): the three-scalar gradient flow ``x' = -(xwu - 1) wu`` (and cyclically), with weight decay
  ``-lambda (x, w, u)``; a fixed-step RK4 (scipy is not a dependency of this package); the point of the manifold
  ``xwu = 1`` a trajectory without weight decay reaches (the flow conserves ``x^2 - w^2`` and ``w^2 - u^2``); the
  balanced point weight decay selects (``s^4 - s + lambda = 0``).
* **App. E** (:func:`toeplitz_embedding`): the authors' commented-out Toeplitz initialisation of ``W_E``.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["operator_frobenius", "uncovered_counts", "expected_uncovered", "single_class_minimum",
           "pair_sum_residual", "fit_pair_sum", "frequency_spectrum", "gap_cv_open", "xwu_field", "rk4",
           "manifold_limit", "balanced_equilibrium", "field_jacobian", "toeplitz_embedding"]


# ------------------------------------------------------------------ Lemma 3.4
def operator_frobenius(M: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(||M||_2, ||M||_F, sqrt(min(m, n)) ||M||_2)`` of ``M (..., m, n)``, each ``(...)``: the operator
    (spectral) norm, the Frobenius norm and Lemma 3.4's upper bound on it. The lemma says
    ``out[0] <= out[1] <= out[2]``; the left equality holds exactly for rank one, the right one for ``M`` with all
    ``min(m, n)`` singular values equal (e.g. a multiple of a matrix with orthonormal rows or columns).

    Paper: MED Lemma 3.4. Chapter: ``med_theory``.
    """
    if M.ndim < 2:
        raise ValueError(f"M: expected shape (..., m, n); got {tuple(M.shape)}")
    op = torch.linalg.matrix_norm(M, ord=2)
    fro = torch.linalg.matrix_norm(M, ord="fro")
    return op, fro, math.sqrt(min(M.shape[-2], M.shape[-1])) * op


# ------------------------------------------------------------------ Thm 3.12
def uncovered_counts(p: int, D: int, m: int, trials: int, generator: torch.Generator) -> torch.Tensor:
    """Per trial, the number of points of the torus ``Z_p^2`` with no training point in their L1 ball of radius
    ``D`` (centre included, ``C = 2 D^2 + 2 D + 1`` points), for ``m`` training points drawn uniformly without
    replacement (``generator``). Returns ``(trials,)`` int64; full coverage is a count of 0. Needs ``p >= 2 D + 1``
    (so that every ball has ``C`` distinct points).

    Paper: MED Thm 3.12. Chapter: ``med_theory``.
    """
    N = p * p
    if D < 0 or p < 2 * D + 1:
        raise ValueError(f"p, D: need D >= 0 and p >= 2 D + 1; got p = {p!r}, D = {D!r}")
    if not 0 <= m <= N or trials < 1:
        raise ValueError(f"m, trials: need 0 <= m <= p^2 = {N} and trials >= 1; got m = {m!r}, trials = {trials!r}")
    mask = torch.zeros(trials, N, dtype=torch.bool)
    if m:
        pick = torch.stack([torch.randperm(N, generator=generator)[:m] for _ in range(trials)])
        mask.scatter_(1, pick, True)
    cov = mask.view(trials, p, p)
    for _ in range(D):  # D dilations by the L1 unit cross give the L1 ball of radius D
        cov = (cov | torch.roll(cov, 1, 1) | torch.roll(cov, -1, 1) | torch.roll(cov, 1, 2) | torch.roll(cov, -1, 2))
    return (~cov).flatten(1).sum(1)


def expected_uncovered(N: int, C: int, m: int) -> float:
    """The exact mean number of uncovered points when ``m`` of ``N`` points are drawn without replacement and each
    point has a neighbourhood of ``C`` points: ``N C(N - C, m) / C(N, m) = N prod_{k<C} (N - m - k) / (N - k)``.
    It is at most Thm 3.12's ``N (1 - C/N)^m`` (drawing with replacement), and ``P(full) >= 1 - this``.

    Paper: MED Thm 3.12. Chapter: ``med_theory``.
    """
    if N < 1 or not 0 < C <= N or not 0 <= m <= N:
        raise ValueError(f"N, C, m: need N >= 1, 0 < C <= N, 0 <= m <= N; got N = {N!r}, C = {C!r}, m = {m!r}")
    if m > N - C:
        return 0.0
    k = np.arange(C, dtype=np.float64)
    return float(N * np.exp(np.log1p(-m / (N - k)).sum()))


# ------------------------------------------------------------------ Remark 3.9 / Lemma B.1
def single_class_minimum(n_tokens: int, c: torch.Tensor) -> float:
    """The minimum of ``sum_i ||x_i||^2 + ||L||_F^2`` subject to ``L x_i + L x_j = c`` over the pairs of one class
    of addition mod ``p`` (``j = r - i``: every token in one pair, or paired with itself), ``n_tokens`` tokens:
    ``sqrt(n_tokens) ||c||``. Derivation: for each pair ``||x_i||^2 + ||x_j||^2 >= ||x_i + x_j||^2 / 2`` with
    ``x_i + x_j`` at least ``L^+ c`` long, so all ``x_i = L^+ c / 2``; then ``n ||c||^2 / (4 s^2) + s^2`` over
    the top singular value ``s`` of ``L`` (rank one is best) is least at ``s^2 = sqrt(n) ||c|| / 2``. Every
    embedding sits at one point: the gaps ``||x_{i+1} - x_i||`` are all 0.

    Paper: MED Lemma B.1. Chapter: ``med_theory``.
    """
    if n_tokens < 1:
        raise ValueError(f"n_tokens: must be >= 1; got {n_tokens!r}")
    return math.sqrt(n_tokens) * float(torch.as_tensor(c, dtype=torch.float64).norm())


def _incidence(a: torch.Tensor, b: torch.Tensor, n_tokens: int) -> torch.Tensor:
    A = torch.zeros(a.numel(), n_tokens, dtype=torch.float64)
    rows = torch.arange(a.numel())
    A.index_put_((rows, a.long()), torch.ones(a.numel(), dtype=torch.float64), accumulate=True)
    A.index_put_((rows, b.long()), torch.ones(a.numel(), dtype=torch.float64), accumulate=True)
    return A


def pair_sum_residual(a: torch.Tensor, b: torch.Tensor, y: torch.Tensor, c: torch.Tensor, n_tokens: int) -> float:
    """How far the constraint ``y_i + y_j = c_{y}`` (``y_i = L x_i``) can hold on the pairs ``(a_k, b_k)`` with
    labels ``y_k`` and class vectors ``c (n_classes, k)``: the least-squares residual over free ``y_i``, relative,
    ``min_Y sum_k ||Y_{a_k} + Y_{b_k} - c_{y_k}||^2 / sum_k ||c_{y_k}||^2`` (0: some embedding and linear ``L``
    satisfy every constraint, when ``L`` can reach those ``y_i``). For addition mod ``p`` on all pairs the best
    ``Y`` is constant (the normal equations give ``p Y_i + sum_j Y_j = sum_j c_{i+j}``, the same for every ``i``).

    Paper: MED Remark 3.9. Chapter: ``med_theory``.
    """
    A = _incidence(a, b, n_tokens)
    T = torch.as_tensor(c, dtype=torch.float64)[torch.as_tensor(y).long()]
    Y = torch.linalg.lstsq(A, T, driver="gelsd").solution
    return float((A @ Y - T).pow(2).sum() / T.pow(2).sum())


def fit_pair_sum(a: torch.Tensor, b: torch.Tensor, y: torch.Tensor, c: torch.Tensor, n_tokens: int, dim: int,
                 iters: int, wd: float, generator: torch.Generator, init_scale: float = 0.5) -> dict[str, torch.Tensor]:
    """The toy problem of Remark 3.9 / Lemma B.1 by a penalty method: minimise
    ``J = mean_k ||L (x_{a_k} + x_{b_k}) - c_{y_k}||^2 + wd (sum_i ||x_i||^2 + ||L||_F^2)`` over ``X (n_tokens,
    dim)`` and ``L (k, dim)`` from ``X, L ~ init_scale N(0, 1)`` (``generator``). As ``wd -> 0`` the minimiser
    tends to the constrained minimum of the weight-decay term (where the constraint cannot hold, to the least-norm
    least-squares fit). Each of ``iters`` sweeps minimises ``J`` exactly in ``X`` given ``L`` (a ridge problem,
    diagonal in the eigenbases of ``A^T A`` and ``L^T L``, ``A`` the pairs' incidence matrix), then in ``L`` given
    ``X`` (ridge), then over the rescaling ``X t, L / t`` (which leaves the fit unchanged and balances
    ``||X||_F = ||L||_F``; without it the sweeps crawl along that direction, the slow mode of App. C). ``J`` never
    increases. Returns ``X``, ``L``, ``fit`` (the relative residual ``sum_k ||.||^2 / sum_k ||c_{y_k}||^2``),
    ``norm`` (``sum ||x_i||^2 + ||L||_F^2``) and the histories ``X_rec (iters + 1, n_tokens, dim)``, ``fit_rec``,
    ``norm_rec``, ``J_rec`` (index 0: the initial point).

    Paper: MED Remark 3.9, MED Lemma B.1. Chapter: ``med_theory``.
    """
    if iters < 1 or wd <= 0:
        raise ValueError(f"iters, wd: need iters >= 1 and wd > 0; got {iters!r}, {wd!r}")
    a, b, y = (torch.as_tensor(t).long() for t in (a, b, y))
    c = torch.as_tensor(c, dtype=torch.float64)
    A = _incidence(a, b, n_tokens)
    T = c[y]
    n, tn = a.numel(), T.pow(2).sum()
    lam, Q = torch.linalg.eigh(A.T @ A)
    eye = torch.eye(dim, dtype=torch.float64)
    X = init_scale * torch.randn(n_tokens, dim, generator=generator, dtype=torch.float64)
    L = init_scale * torch.randn(c.shape[1], dim, generator=generator, dtype=torch.float64)
    rec: dict[str, list] = {"X_rec": [], "fit_rec": [], "norm_rec": [], "J_rec": []}

    def record() -> None:
        r = (A @ X @ L.T - T).pow(2).sum()
        nrm = X.pow(2).sum() + L.pow(2).sum()
        rec["X_rec"].append(X.clone())
        rec["fit_rec"].append(r / tn)
        rec["norm_rec"].append(nrm)
        rec["J_rec"].append(r / n + wd * nrm)

    record()
    for _ in range(iters):
        mu, P = torch.linalg.eigh(L.T @ L)
        R = Q.T @ (A.T @ T @ L) @ P / n
        X = Q @ (R / (lam[:, None] * mu[None, :] / n + wd)) @ P.T
        S = A @ X
        L = torch.linalg.solve(S.T @ S / n + wd * eye, S.T @ T / n).T
        xn, ln = X.norm(), L.norm()
        if xn > 0 and ln > 0:
            t = (ln / xn).sqrt()
            X, L = X * t, L / t
        record()
    out = {k: torch.stack(v) for k, v in rec.items()}
    out.update(X=X, L=L, fit=out["fit_rec"][-1], norm=out["norm_rec"][-1])
    return out


def frequency_spectrum(X: torch.Tensor) -> torch.Tensor:
    """The share of the (centred) embedding's power at each frequency ``k = 1 .. p // 2`` of ``Z_p``, over all
    dimensions: ``P_k = sum_d (|X^_d(k)|^2 + |X^_d(p - k)|^2)`` (once for ``k = p / 2``) normalised to sum 1, for
    ``X (..., p, dim)`` (one row per token). An embedding on a circle at one frequency, ``x_i = (cos 2 pi k i / p,
    sin 2 pi k i / p)``, puts all its power at ``k``; returns ``(..., p // 2)`` (NaN for a constant embedding).

    Paper: MED Remark 3.9. Chapter: ``med_theory``.
    """
    p = X.shape[-2]
    if X.ndim < 2 or p < 2:
        raise ValueError(f"X: expected shape (..., p, dim) with p >= 2; got {tuple(X.shape)}")
    F = torch.fft.fft(X.to(torch.float64) - X.to(torch.float64).mean(-2, keepdim=True), dim=-2).abs().pow(2).sum(-1)
    k = torch.arange(1, p // 2 + 1)
    P = F[..., k] + torch.where(k == p - k, 0.0, F[..., (p - k) % p])
    return P / P.sum(-1, keepdim=True)


def gap_cv_open(X: torch.Tensor) -> torch.Tensor:
    """The coefficient of variation (population std / mean) of the *open* chain of gaps ``||x_{i+1} - x_i||``,
    ``i = 0 .. p - 2`` (no wrap from the last token to the first), for ``X (..., p, dim)``: 0 for points evenly
    spaced along a line or any curve in token order. (:func:`li2core.measures.consecutive_gap_cv` is the cyclic
    one.)

    Paper: MED Remark 3.9. Chapter: ``med_theory``.
    """
    if X.ndim < 2 or X.shape[-2] < 3:
        raise ValueError(f"X: expected shape (..., p, dim) with p >= 3; got {tuple(X.shape)}")
    g = (X[..., 1:, :] - X[..., :-1, :]).norm(dim=-1)
    return g.std(dim=-1, correction=0) / g.mean(-1)


# ------------------------------------------------------------------ App. C
def xwu_field(z: torch.Tensor, lam: torch.Tensor | float = 0.0) -> torch.Tensor:
    """App. C's gradient flow of ``1/2 (xwu - 1)^2`` with weight decay ``lam``: for ``z (..., 3) = (x, w, u)``,
    ``(-(xwu - 1) wu - lam x, -(xwu - 1) xu - lam w, -(xwu - 1) xw - lam u)``; ``lam`` a float or ``(...)``.
    Without weight decay every point of ``xwu = 1`` is an equilibrium; ``d/dt (x^2 - w^2) = -2 lam (x^2 - w^2)``
    exactly (and cyclically), so the imbalance is conserved without weight decay and decays as
    ``exp(-2 lam t)`` with it.

    Paper: MED App. C. Chapter: ``med_theory``.
    """
    x, w, u = z[..., 0], z[..., 1], z[..., 2]
    lam = torch.as_tensor(lam, dtype=z.dtype)
    e = x * w * u - 1.0
    return torch.stack([-e * w * u - lam * x, -e * x * u - lam * w, -e * x * w - lam * u], dim=-1)


def _field_np(z: np.ndarray, lam: np.ndarray) -> np.ndarray:
    x, w, u = z[..., 0], z[..., 1], z[..., 2]
    e = x * w * u - 1.0
    return np.stack([-e * w * u - lam * x, -e * x * u - lam * w, -e * x * w - lam * u], axis=-1)


def rk4(z0: torch.Tensor, lam: torch.Tensor | float, dt: float, steps: int, every: int = 1) -> torch.Tensor:
    """Fixed-step classical Runge-Kutta (order 4) for :func:`xwu_field` from ``z0 (..., 3)`` with weight decay
    ``lam`` (a float or ``(...)``): ``steps`` steps of ``dt``; returns the states at ``t = 0, every dt,
    2 every dt, ...`` (and the last), ``(n_out, ..., 3)`` float64 (computed in numpy: thousands of steps on a few
    hundred trajectories are dominated by per-operation overhead).

    Paper: MED App. C. Chapter: ``med_theory``.
    """
    if dt <= 0 or steps < 1 or every < 1:
        raise ValueError(f"dt, steps, every: need dt > 0, steps >= 1, every >= 1; got {dt!r}, {steps!r}, {every!r}")
    z = np.array(torch.as_tensor(z0, dtype=torch.float64).numpy(), dtype=np.float64)
    lam = np.broadcast_to(np.asarray(torch.as_tensor(lam, dtype=torch.float64).numpy()), z.shape[:-1])
    out = [z.copy()]
    for t in range(1, steps + 1):
        k1 = _field_np(z, lam)
        k2 = _field_np(z + 0.5 * dt * k1, lam)
        k3 = _field_np(z + 0.5 * dt * k2, lam)
        k4 = _field_np(z + dt * k3, lam)
        z = z + (dt / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)
        if t % every == 0 or t == steps:
            out.append(z.copy())
    return torch.from_numpy(np.stack(out))


def manifold_limit(z0: torch.Tensor, iters: int = 200) -> torch.Tensor:
    """The point of ``xwu = 1`` that the flow without weight decay reaches from ``z0 (..., 3)`` with positive
    entries: the one with the same invariants ``a = x^2 - w^2``, ``b = w^2 - u^2``. With ``t = u^2`` it solves
    ``(t + a + b)(t + b) t = 1``, increasing in ``t`` above ``max(0, -b, -a - b)`` (bisection, ``iters`` halvings);
    returns ``(sqrt(t + a + b), sqrt(t + b), sqrt(t))``, ``(..., 3)``. (That the flow keeps the entries positive and
    does reach ``xwu = 1`` is what the chapter checks numerically.)

    Paper: MED App. C. Chapter: ``med_theory``.
    """
    z0 = z0.to(torch.float64)
    if (z0 <= 0).any():
        raise ValueError("z0: manifold_limit needs positive entries")
    x2, w2, u2 = z0[..., 0] ** 2, z0[..., 1] ** 2, z0[..., 2] ** 2
    a, b = x2 - w2, w2 - u2
    lo = torch.clamp(torch.maximum(-b, -a - b), min=0.0)
    hi = lo + 2.0
    f = lambda t: (t + a + b) * (t + b) * t - 1.0  # noqa: E731
    while bool((f(hi) < 0).any()):
        hi = torch.where(f(hi) < 0, 2 * hi, hi)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        neg = f(mid) < 0
        lo, hi = torch.where(neg, mid, lo), torch.where(neg, hi, mid)
    t = 0.5 * (lo + hi)
    return torch.stack([torch.sqrt(t + a + b), torch.sqrt(t + b), torch.sqrt(t)], dim=-1)


def balanced_equilibrium(lam: float) -> float:
    """The balanced equilibrium ``x = w = u = s`` of :func:`xwu_field` with weight decay ``lam``: the largest real
    root of ``s^4 - s + lam = 0`` (from ``-(s^3 - 1) s^2 - lam s = 0``, ``s != 0``); ``s = 1`` at ``lam = 0``,
    ``s ~ 1 - lam / 3`` for small ``lam``; none (ValueError) above ``lam = 3 / 4^(4/3) ~ 0.472``, where only the
    origin is left.

    Paper: MED App. C. Chapter: ``med_theory``.
    """
    roots = np.roots([1.0, 0.0, 0.0, -1.0, float(lam)])
    real = roots[np.abs(roots.imag) < 1e-9].real
    real = real[real > 0]
    if not real.size:
        raise ValueError(f"lam: no balanced equilibrium with s > 0 for lam = {lam!r} (needs lam <= 3 / 4^(4/3))")
    return float(real.max())


def field_jacobian(z: torch.Tensor, lam: float = 0.0) -> torch.Tensor:
    """The Jacobian ``(3, 3)`` of :func:`xwu_field` at one point ``z (3,)`` (autograd). At ``(1, 1, 1)`` without
    weight decay it is ``-g g^T`` with ``g = (1, 1, 1)``: eigenvalues ``-3, 0, 0``, the two zeros along the manifold
    of equilibria (stable, not asymptotically); with weight decay, at the balanced equilibrium, all three are
    negative.

    Paper: MED App. C. Chapter: ``med_theory``.
    """
    return torch.autograd.functional.jacobian(lambda v: xwu_field(v, lam), z.to(torch.float64))


# ------------------------------------------------------------------ App. E
def toeplitz_embedding(d_model: int, d_vocab: int, generator: torch.Generator) -> torch.Tensor:
    """The authors' commented-out Toeplitz ``W_E`` (``transformer/rec.py``, paper-med §2.2): ``v`` uniform on
    ``[0, 1)`` of length ``d_model`` (``generator``), ``W_E = toeplitz(v, v)[:, :d_vocab] / sqrt(d_model)``, i.e.
    ``W_E[i, j] = v[|i - j|] / sqrt(d_model)``; ``(d_model, d_vocab)`` float64. Symmetric Toeplitz, not circulant
    (the paper says "circulant"). Needs ``d_vocab <= d_model``.

    Paper: MED App. E. Chapter: ``med_theory``.
    """
    if not 1 <= d_vocab <= d_model:
        raise ValueError(f"d_vocab: the Toeplitz embedding needs 1 <= d_vocab <= d_model = {d_model}; got {d_vocab}")
    v = torch.rand(d_model, generator=generator, dtype=torch.float64)
    i = torch.arange(d_model)
    return v[(i[:, None] - i[None, :]).abs()][:, :d_vocab] / math.sqrt(d_model)
