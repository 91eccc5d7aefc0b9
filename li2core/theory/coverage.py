"""The MED paper's dataset-driven accuracy ceiling: Thm 3.10 (a correct test answer needs a same-class training pair
*nearby* in Manhattan distance) and Thm 3.12 (the training fraction a random split needs for full coverage)
(paper-med §3.4); chapter ``med_splits``. Tensors in, tensors (or floats) out.

* :func:`nearest_same_class_distance`: per pair, the L1 distance to the nearest *other* training pair of its
  class, on the grid or on the torus ``Z_p^2``.
* :func:`coverage_ceiling`: ``UB_D``, the share of test points with such a pair within ``D``: a *model* of Thm 3.10's
  "nearby" (the paper fixes no neighbourhood), not a number of the paper.
* :func:`ball_size`, :func:`thm312_threshold`, :func:`full_coverage_bound`: the neighbourhood size ``C`` of an L1
  ball, the threshold ``alpha > 2 ln p / C`` and the union bound ``1 - N (1 - C/N)^m``.
"""
from __future__ import annotations

import math

import torch

#: Elements per block of :func:`nearest_same_class_distance` (bounds its memory whatever the class sizes).
_CHUNK = 1 << 22

__all__ = ["nearest_same_class_distance", "coverage_ceiling", "ball_size", "thm312_threshold", "full_coverage_bound"]


def nearest_same_class_distance(a: torch.Tensor, b: torch.Tensor, y: torch.Tensor, train_mask: torch.Tensor, p: int,
                                torus: bool = False) -> torch.Tensor:
    """For every pair ``(a_i, b_i)``, the smallest Manhattan distance ``|a_i - a_j| + |b_i - b_j|`` to a *different*
    training pair ``j`` (``train_mask[j]``, ``j != i``) of the same label ``y_j = y_i``; ``inf`` if there is none.

    ``a, b, y (N,)`` integer tensors (operand values ``0 .. p-1``, e.g. :class:`li2core.tasks.Task`'s), ``train_mask
    (N,)`` bool. With ``torus=True`` each coordinate difference is ``min(|d|, p - |d|)`` (distance on ``Z_p^2``).
    Returns a float64 ``(N,)`` tensor; every pair is compared with the training pairs of its own class only (padded
    per class, in blocks of bounded memory): about 0.1 s at ``p = 97`` on 2 CPU cores.

    Paper: MED Thm 3.10. Chapter: ``med_splits``.
    """
    a, b, y = (torch.as_tensor(t).long().flatten() for t in (a, b, y))
    train_mask = torch.as_tensor(train_mask, dtype=torch.bool).flatten()
    N = a.numel()
    if not (b.numel() == y.numel() == train_mask.numel() == N):
        raise ValueError(f"a, b, y, train_mask: need equal lengths; got {a.numel()}, {b.numel()}, {y.numel()}, "
                         f"{train_mask.numel()}")
    out = torch.full((N,), math.inf, dtype=torch.float64)
    tr = torch.nonzero(train_mask).flatten()
    if N == 0 or tr.numel() == 0:
        return out
    _, cls = torch.unique(y, return_inverse=True)  # class id 0 .. C-1 of every pair
    C = int(cls.max()) + 1
    # the training pairs of each class, padded with -1: TM (C, Tmax)
    tcls = cls[tr]
    o = torch.argsort(tcls, stable=True)
    tr, tcls = tr[o], tcls[o]
    tcount = torch.bincount(tcls, minlength=C)
    start = torch.cumsum(tcount, 0) - tcount
    rank = torch.arange(tr.numel()) - start[tcls]
    TM = torch.full((C, int(tcount.max())), -1, dtype=torch.int64)
    TM[tcls, rank] = tr
    big = 4 * (int(p) + int(a.abs().max()) + int(b.abs().max())) + 1  # above every distance
    step = max(1, _CHUNK // TM.shape[1])
    for i0 in range(0, N, step):  # all pairs against their class's training pairs, in row blocks of bounded size
        i = torch.arange(i0, min(N, i0 + step))
        J = TM[cls[i]]
        valid = (J >= 0) & (J != i[:, None])  # a training pair does not count for itself
        Jc = J.clamp_min(0)
        da = (a[i, None] - a[Jc]).abs()
        db = (b[i, None] - b[Jc]).abs()
        if torus:
            da = torch.minimum(da, p - da)
            db = torch.minimum(db, p - db)
        d = torch.where(valid, da + db, big).amin(dim=1)
        out[i] = torch.where(d < big, d.double(), math.inf)
    return out


def coverage_ceiling(dist: torch.Tensor, test_mask: torch.Tensor, D: float) -> float:
    """``UB_D`` of paper-med §3.4: the share of test points (``test_mask (N,)``) whose nearest same-class training
    pair (``dist (N,)`` from :func:`nearest_same_class_distance`) lies within ``D`` (``dist <= D``). A model of Thm
    3.10's "nearby" as a fixed L1 ball, not the paper's number; NaN for an empty test set.

    Paper: MED Thm 3.10. Chapter: ``med_splits``.
    """
    dist = torch.as_tensor(dist).flatten()
    test_mask = torch.as_tensor(test_mask, dtype=torch.bool).flatten()
    if dist.numel() != test_mask.numel():
        raise ValueError(f"dist, test_mask: need equal lengths; got {dist.numel()}, {test_mask.numel()}")
    n = int(test_mask.sum())
    if n == 0:
        return float("nan")
    return float((dist[test_mask] <= D).sum()) / n


def ball_size(D: int) -> int:
    """The number of lattice points in a 2-D L1 ball of radius ``D`` (centre included): ``2 D^2 + 2 D + 1``; one
    reading of Thm 3.12's ``C`` ("the points one training point covers", paper-med §3.4).

    Paper: MED Thm 3.12. Chapter: ``med_splits``.
    """
    if isinstance(D, bool) or int(D) != D or D < 0:
        raise ValueError(f"D: must be a non-negative integer; got {D!r}")
    D = int(D)
    return 2 * D * D + 2 * D + 1


def thm312_threshold(p: int, C: float) -> float:
    """Thm 3.12's training fraction for full coverage, ``alpha > ln N / C = 2 ln p / C`` (``N = p^2``; from
    ``N (1 - C/N)^m < 1`` and ``ln(1 - x) ~ -x``). E.g. ``p = 97``: ``C = 25`` gives 0.366, ``C = 41`` 0.223.

    Paper: MED Thm 3.12. Chapter: ``med_splits``.
    """
    if p < 2 or C <= 0:
        raise ValueError(f"p, C: need p >= 2 and C > 0; got p = {p!r}, C = {C!r}")
    return 2.0 * math.log(p) / C


def full_coverage_bound(N: int, C: float, m: int) -> float:
    """Thm 3.12's union bound on the probability that ``m`` random training points, each covering ``C`` of the ``N``
    points, cover all of them: ``1 - N (1 - C/N)^m`` (it can be negative, i.e. vacuous).

    Paper: MED Thm 3.12. Chapter: ``med_splits``.
    """
    if N < 1 or not 0 < C <= N or m < 0:
        raise ValueError(f"N, C, m: need N >= 1, 0 < C <= N, m >= 0; got N = {N!r}, C = {C!r}, m = {m!r}")
    return 1.0 - N * (1.0 - C / N) ** m
