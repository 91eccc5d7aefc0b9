"""Group-arithmetic datasets and their train/test splits (paper-li2 §1.2, §4.5; paper-med §§1, 5).

The full dataset of a group ``H`` of order ``M`` holds all ``N = M^2`` pairs
``(h1, h2)``; pair ``i`` is ``(i // M, i % M)`` and its label is ``h1 h2``.
The input ``x_i = (e_{h1}, e_{h2})`` is never materialised: the model looks up rows
``h1`` and ``M + h2`` of ``W`` (see :mod:`li2core.models`).

Splits follow the author's code: ``n_test = ceil((1 - p) N)`` and ``n_train = N - n_test``
(sklearn's ``train_test_split`` sizes; e.g. ``M = 71, p = 0.4`` gives ``n_train = 2016``),
drawn by a seeded permutation, so a split is a pure function of (group, p, seed).

The MED paper's tasks (paper-med §1.1) are prime-field operations ``r = f(a, b) mod p`` on the same pairs
(:data:`OPS`, :func:`op_labels`, ``make_task("Z97", op="x2xyy2")``); labels come from the operand *values*, never
from token ids (the authors' code labels the offset token id, paper-med §1.3). Its splits (:data:`SPLITS`,
:func:`split_pairs`) reproduce the authors' ``gen_train_test``: ``"shuffle"`` (``base.py``), ``"square"``
(``rec.py``) and ``"strip"`` (``str.py``), with Python's ``random`` seeded by the split seed.
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Callable, Sequence

import numpy as np
import torch

from .groups import Group, make

__all__ = ["Task", "Split", "make_task", "onehot_inputs", "split", "n_train_for", "critical_train_frac", "CRITICAL_C",
           "OPS", "op_labels", "class_sizes", "SPLITS", "split_pairs", "dugout_mask", "n_train_of", "trivial_share",
           "SHAPE_SIDES", "ShapeImages", "shape_images", "shape_label_counts", "shape_task", "quadrant_radius",
           "polygon_layer"]

#: The multiplier of the author's critical-ratio rule ``p = (c - delta) ln M / M`` (paper-li2 §4.5).
CRITICAL_C = 2.7482


@dataclass(frozen=True)
class Task:
    """All ``M^2`` pairs of a group with their labels.

    Attributes
    ----------
    group: the group.
    a, b: ``(N,)`` int64 tensors, the two operands of each pair.
    y: ``(N,)`` int64 tensor, the label ``a b`` (or ``f(a, b) mod p`` for a prime-field operation).
    op: the operation's name in :data:`OPS` for a MED task, ``None`` for the group law.
    """

    group: Group
    a: torch.Tensor
    b: torch.Tensor
    y: torch.Tensor
    op: str | None = None

    @property
    def M(self) -> int:
        return self.group.order

    @property
    def N(self) -> int:
        return self.M * self.M

    def onehot_X(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The literal ``(N, 2M)`` input matrix ``X`` (for tests and theory code): :func:`onehot_inputs`."""
        return onehot_inputs(self.a, self.b, self.M, dtype)


@dataclass(frozen=True)
class Split:
    """Indices into the full dataset; ``train`` and ``test`` are sorted and disjoint."""

    train: torch.Tensor
    test: torch.Tensor

    @property
    def n_train(self) -> int:
        return int(self.train.numel())


def onehot_inputs(a: torch.Tensor, b: torch.Tensor, M: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The one-hot inputs ``X (n, 2M)`` of the pairs ``(a_i, b_i)``: ``x_i = (e_{a_i}, e_{b_i})`` (paper-li2 §1.2).

    The trainer never builds ``X`` (it looks rows of ``W`` up); this is for tests and the literal theory checks.
    """
    n = int(a.numel())
    X = torch.zeros(n, 2 * M, dtype=dtype)
    X[torch.arange(n), a] = 1.0
    X[torch.arange(n), M + b] = 1.0
    return X


def make_task(group: str | Group, op: str | None = None) -> Task:
    """The full dataset of ``group`` (a name such as ``"Z71"`` or a :class:`Group`).

    With ``op`` (a key of :data:`OPS`) the labels are ``f(a, b) mod p`` (:func:`op_labels`) instead of the group law;
    the group must then be the cyclic ``Z<p>`` with ``p`` prime (paper-med §1.1). Pair ``i`` is ``(i // M, i % M)``
    either way.
    """
    g = make(group) if isinstance(group, str) else group
    M = g.order
    idx = torch.arange(M * M)
    a, b = idx // M, idx % M
    if op is None:
        y = torch.from_numpy(g.table)[a, b]
    else:
        if not (re.fullmatch(r"Z[0-9]+", g.name) and _is_prime(M)):
            raise ValueError(f"op: {op!r} needs a cyclic group Z<p> with p prime; got {g.name}")
        y = op_labels(op, M)
    return Task(group=g, a=a, b=b, y=y, op=op)


def critical_train_frac(M: int, delta: float = 0.0, c: float = CRITICAL_C, c_corr: float = 1.0) -> float:
    """The author's critical-ratio rule, ``p = clip(c_corr (c - delta) ln M / M, 0, 1)`` (paper-li2 §4.5).

    ``c_corr`` is 1 for cyclic and product groups; the author uses ``d_max / 2`` for
    non-Abelian collections.
    """
    if M < 2:
        raise ValueError(f"M: the group order must be >= 2; got {M}")
    return float(min(1.0, max(0.0, c_corr * (c - delta) * math.log(M) / M)))


def n_train_for(N: int, train_frac: float) -> int:
    """Training-set size for a fraction ``p``: ``N - ceil((1 - p) N)`` (sklearn's sizes).

    A 1e-9 guard absorbs float error in ``(1 - p) N`` (e.g. ``p = 0.3``).
    """
    if not 0.0 < train_frac <= 1.0:
        raise ValueError(f"train_frac: must be in (0, 1]; got {train_frac}")
    n_test = math.ceil((1.0 - train_frac) * N - 1e-9)
    return max(0, N - n_test)


def split(task: Task, train_frac: float, seed: int) -> Split:
    """Seeded random split of all pairs; ``n_train = n_train_for(N, train_frac)``.

    The permutation is ``numpy.random.default_rng(seed)``'s, independent of the torch
    stream that initialises the weights. Raises ``ValueError`` when no pair is left
    for training.
    """
    n = n_train_for(task.N, train_frac)
    if n < 1:
        raise ValueError(f"train_frac: {train_frac} leaves no training pair for {task.group.name} (N = {task.N})")
    perm = np.random.default_rng(seed).permutation(task.N)
    train = torch.from_numpy(np.sort(perm[:n]))
    test = torch.from_numpy(np.sort(perm[n:]))
    return Split(train=train, test=test)


# --------------------------------------------------------------------------- MED: prime-field operations

#: The MED paper's operations (paper-med §1.1): name -> formula; labels are ``f(x, y) mod p``. ``"xpy2"`` is the
#: control ``(x + y)^2``: what the authors' ``transformer/rec.py`` calls ``'xy'`` (their other scripts' ``'xy'`` is
#: ``x^2 + xy + y^2``, here ``"x2xyy2"``); it is a function of ``x + y`` with 49 classes at ``p = 97``.
OPS: dict[str, str] = {
    "add": "x+y",
    "sub": "x-y",
    "mul": "xy",
    "x2y2": "x^2+y^2",
    "x2xyy2": "x^2+xy+y^2",
    "x3y3": "x^3+y^3",
    "x3xyy3": "x^3+xy+y^3",
    "xpy2": "(x+y)^2",
}


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    return all(n % q for q in range(2, math.isqrt(n) + 1))


def _op_fn(op: str) -> Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]:
    """``f(x, y) mod p`` on int64 tensors of residues, every product reduced (exact while ``p^2 < 2^63``)."""
    def sq(x, p):
        return x * x % p

    def cube(x, p):
        return sq(x, p) * x % p

    fns = {
        "add": lambda x, y, p: (x + y) % p,
        "sub": lambda x, y, p: (x - y) % p,
        "mul": lambda x, y, p: x * y % p,
        "x2y2": lambda x, y, p: (sq(x, p) + sq(y, p)) % p,
        "x2xyy2": lambda x, y, p: (sq(x, p) + x * y % p + sq(y, p)) % p,
        "x3y3": lambda x, y, p: (cube(x, p) + cube(y, p)) % p,
        "x3xyy3": lambda x, y, p: (cube(x, p) + x * y % p + cube(y, p)) % p,
        "xpy2": lambda x, y, p: sq((x + y) % p, p),
    }
    if op not in fns:
        raise ValueError(f"op: unknown operation {op!r}; known: {', '.join(OPS)}")
    return fns[op]


def _check_prime(p: object) -> int:
    if isinstance(p, bool) or not isinstance(p, Integral) or not _is_prime(int(p)):
        raise ValueError(f"p: must be a prime; got {p!r}")
    return int(p)


def op_labels(op: str, p: int) -> torch.Tensor:
    """The labels ``f(a, b) mod p`` of the ``p^2`` pairs, pair ``i = a p + b`` (the order of :func:`make_task`):
    an int64 ``(p * p,)`` tensor, by exact integer arithmetic. ``op`` is a key of :data:`OPS`; ``p`` must be prime."""
    fn = _op_fn(op)
    p = _check_prime(p)
    idx = torch.arange(p * p, dtype=torch.int64)
    return fn(idx // p, idx % p, p)


def class_sizes(op: str, p: int) -> np.ndarray:
    """How many of the ``p^2`` pairs have each label ``r = 0 .. p-1`` (paper-med §1.1's table): an int64 ``(p,)``
    array (a label never taken counts 0, e.g. the odd residues' non-squares for ``"xpy2"``)."""
    return np.bincount(op_labels(op, p).numpy(), minlength=_check_prime(p)).astype(np.int64)


# --------------------------------------------------------------------------- MED: the authors' splits

#: The split kinds of :func:`split_pairs`.
SPLITS = ("random", "shuffle", "square", "strip")
_DUGOUT = ("square", "strip")


def _check_kind(kind: object, dugout: object, M: int) -> int | None:
    if kind not in SPLITS:
        raise ValueError(f"kind: unknown split {kind!r}; known: {', '.join(SPLITS)}")
    if kind not in _DUGOUT:
        if dugout is not None:
            raise ValueError(f"dugout: must be None for a {kind!r} split; got {dugout!r}")
        return None
    if isinstance(dugout, bool) or not isinstance(dugout, Integral) or not 0 <= int(dugout) <= M - 1:
        raise ValueError(f"dugout: a {kind!r} split needs an integer in 0..{M - 1}; got {dugout!r}")
    return int(dugout)


def _check_frac(train_frac: object) -> float:
    if isinstance(train_frac, bool) or not isinstance(train_frac, Real) or not 0.0 < float(train_frac) <= 1.0:
        raise ValueError(f"train_frac: must be in (0, 1]; got {train_frac!r}")
    return float(train_frac)


def _floor_size(N: int, train_frac: float) -> int:
    """The authors' ``int(frac * N)``, with a 1e-9 guard against float error just below an integer."""
    return min(N, math.floor(train_frac * N + 1e-9))


def _region(a: torch.Tensor, b: torch.Tensor, kind: str, dugout: int | None) -> torch.Tensor:
    if kind == "square":
        return (a <= dugout) & (b <= dugout)
    if kind == "strip":
        return a <= dugout
    return torch.zeros(a.shape, dtype=torch.bool)


def dugout_mask(task: Task, kind: str, dugout: int | None = None) -> torch.Tensor:
    """The region a split forces into the test set, as a bool ``(N,)`` mask over the pairs (paper-med §1.4, on the
    operand values): ``"square"`` ``a <= k and b <= k`` (``(k + 1)^2`` pairs), ``"strip"`` ``a <= t`` (all ``b``,
    ``(t + 1) p`` pairs); all False for ``"random"`` and ``"shuffle"`` (``dugout`` must be None there)."""
    d = _check_kind(kind, dugout, task.M)
    return _region(task.a, task.b, kind, d)


def n_train_of(p: int, kind: str, train_frac: float, dugout: int | None = None) -> int:
    """The training-set size :func:`split_pairs` gives on the ``N = p^2`` pairs of a group of order ``p``, without
    building the split: ``"random"`` :func:`n_train_for`; ``"shuffle"`` ``m = int(frac N)``; ``"square"`` /
    ``"strip"`` ``min(m, N - |region|)`` (``m`` from the full ``N``, paper-med §1.4: e.g. ``p = 97``, frac 0.3 gives
    2822, and 2813 for the strip ``t = 67``). Validates the arguments as :func:`split_pairs` does."""
    if isinstance(p, bool) or not isinstance(p, Integral) or p < 1:
        raise ValueError(f"p: must be a positive integer; got {p!r}")
    p = int(p)
    N = p * p
    d = _check_kind(kind, dugout, p)
    f = _check_frac(train_frac)
    if kind == "random":
        return n_train_for(N, f)
    m = _floor_size(N, f)
    if kind == "shuffle":
        return m
    region = (d + 1) ** 2 if kind == "square" else (d + 1) * p
    return min(m, N - region)


def split_pairs(task: Task, kind: str, train_frac: float, seed: int, dugout: int | None = None) -> Split:
    """A split of all pairs of ``task`` as a pure function of ``(kind, train_frac, seed, dugout)`` (paper-med §1.4).

    - ``"random"``: :func:`split` (numpy's seeded permutation, sklearn's sizes).
    - ``"shuffle"``: the authors' ``base.py``: the pairs in row-major order (``a`` outer, ``b`` inner), shuffled by
      Python's ``random`` seeded with ``seed``; the first ``m = int(train_frac N)`` are train, the rest test.
    - ``"square"`` (``rec.py``, ``dugout = k``) and ``"strip"`` (``str.py``, ``dugout = t``): the region of
      :func:`dugout_mask` goes to test; the remaining pairs, in row-major order, are shuffled the same way, and the
      first ``m`` of them (``m`` from the full ``N``; all of them when fewer remain) are train, the rest test.

    ``m`` is computed with a 1e-9 guard against float error (the authors' ``int(frac * N)`` differs only when
    ``frac N`` lies within 1e-9 below an integer, e.g. ``0.29 * 100``). The region is on operand values (the
    authors' code is, too: their offset ``d`` is added after the range). ``dugout`` is required (``0 .. M-1``) for
    square/strip and must be None otherwise. Raises ``ValueError`` naming the argument, or when no pair is left for
    training.
    """
    d = _check_kind(kind, dugout, task.M)
    f = _check_frac(train_frac)
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed: must be a non-negative integer; got {seed!r}")
    if kind == "random":
        return split(task, f, int(seed))
    N = task.N
    region = _region(task.a, task.b, kind, d)
    rest = torch.nonzero(~region).flatten().tolist()  # row-major order, as the authors' list comprehension
    random.Random(int(seed)).shuffle(rest)  # = random.seed(seed); random.shuffle(...): the order depends on len only
    m = _floor_size(N, f)
    if min(m, len(rest)) < 1:
        raise ValueError(f"train_frac: {kind!r} split with train_frac {f} and dugout {d} leaves no training pair "
                         f"for {task.group.name} (N = {N})")
    train = torch.tensor(sorted(rest[:m]), dtype=torch.int64)
    test_mask = torch.ones(N, dtype=torch.bool)
    test_mask[train] = False
    return Split(train=train, test=torch.nonzero(test_mask).flatten())


def trivial_share(task: Task, split: Split, kind: str, dugout: int | None = None) -> float:
    """The share of ``split``'s test points that lie *outside* the dug-out region (paper-med §5 "Reference shares"):
    the test accuracy of a model that is right on the random part and wrong on the whole region (1.0 for
    random/shuffle splits; NaN for an empty test set). E.g. ``p = 97``, add, frac 0.3, seed 0: square ``k = 30``
    0.854, strip ``t = 40`` 0.396."""
    inside = dugout_mask(task, kind, dugout)[split.test]
    n = int(split.test.numel())
    return float("nan") if n == 0 else float((~inside).sum().item()) / n


# --------------------------------------------------------------------------- MED: the ResNet-18 shape images

#: The MED authors' dictionary (``data_gen.py``'s ``valid_shapes``, paper-med §2.4): 0 = a blank quadrant, else the
#: number of sides of a regular polygon.
SHAPE_SIDES = (0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
#: The polygon radius at the authors' 224 px (``draw_polygon``'s default; their top-left quadrant draws it): scaled by
#: ``size / 224`` at other sizes.
SHAPE_RADIUS_224 = 46


def _check_shapes(shapes: object) -> tuple[int, ...]:
    ok = isinstance(shapes, (tuple, list)) and len(shapes) >= 1
    vals = tuple(int(s) for s in shapes) if ok and all(_is_int_like(s) for s in shapes) else ()
    if not vals or len(set(vals)) != len(vals) or any(s != 0 and not 3 <= s <= 12 for s in vals):
        raise ValueError(f"shapes: need distinct side counts, each 0 (blank) or 3..12; got {shapes!r}")
    return vals


def _is_int_like(x: object) -> bool:
    return isinstance(x, Integral) and not isinstance(x, bool)


def quadrant_radius(q: int, size: int = 224, quirk: bool = True) -> float:
    """The radius ``draw_polygon`` uses in quadrant ``q`` (row-major) of a ``size`` px image (paper-med §2.4).

    The authors clamp ``r = min(r0, cx, cy, Q - cx, Q - cy)`` with the quadrant size ``Q = size / 2`` and the
    *image* coordinates of the quadrant centre ``(cx, cy)``: only the top-left quadrant keeps ``r0`` (46 at 224 px);
    the other three get ``-Q / 2`` (-56), a polygon of radius ``Q / 2`` turned by 180 degrees. ``quirk=False``: ``r0``
    in every quadrant (what the clamp was presumably meant to do)."""
    if not 0 <= q <= 3:
        raise ValueError(f"q: a quadrant index 0..3; got {q!r}")
    Q = size / 2
    r0 = SHAPE_RADIUS_224 * size / 224
    cx, cy = Q / 2 + Q * (q % 2), Q / 2 + Q * (q // 2)
    return float(min(r0, cx, cy, Q - cx, Q - cy)) if quirk else float(r0)


def polygon_layer(sides: int, q: int, size: int = 224, quirk: bool = True) -> np.ndarray:
    """A white ``(size, size)`` uint8 canvas with the authors' shape ``sides`` in quadrant ``q``: a regular polygon
    (vertex ``k`` at angle ``2 pi k / sides`` from the centre, radius :func:`quadrant_radius`), black outline, white
    fill, and spokes from the centre to every vertex; ``sides = 0``: blank (drawn with PIL's ``ImageDraw``)."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (size, size), 255)
    if sides:
        Q = size / 2
        cx, cy = Q / 2 + Q * (q % 2), Q / 2 + Q * (q // 2)
        r = quadrant_radius(q, size, quirk)
        ang = 2 * math.pi * np.arange(sides) / sides
        pts = [(cx + r * math.cos(t), cy + r * math.sin(t)) for t in ang]
        draw = ImageDraw.Draw(img)
        draw.polygon(pts, outline=0, fill=255)
        for v in pts:
            draw.line([(cx, cy), v], fill=0)
    return np.asarray(img, dtype=np.uint8)


@dataclass(frozen=True)
class ShapeImages:
    """The authors' ResNet dataset (``data_gen.py``, paper-med §2.4) in memory: every ordered 4-tuple of ``shapes``.

    ``images (N, S, S)`` uint8 grey levels (the authors' RGB images have three equal channels), ``sides (N, 4)`` the
    side counts of the quadrants (row-major: top-left, top-right, bottom-left, bottom-right), ``y (N,)`` the label
    = their sum. Image ``i`` is the ``i``-th tuple of ``itertools.product(shapes, repeat=4)``; with ``k = len(shapes)``
    it is the pair ``(a, b) = (i // k^2, i % k^2)`` of :func:`make_task`'s order on ``Z_{k^2}``.
    """

    images: np.ndarray
    sides: np.ndarray
    y: np.ndarray
    shapes: tuple[int, ...]
    size: int
    quirk: bool

    @property
    def N(self) -> int:
        return int(self.y.size)


def shape_images(size: int = 224, shapes: Sequence[int] = SHAPE_SIDES, quirk: bool = True) -> ShapeImages:
    """The authors' dataset generator as a pure function (no files, no random draws): see :class:`ShapeImages`.

    Each image is the pixelwise minimum of its four quadrants' layers (:func:`polygon_layer`), which is what drawing
    the four shapes one after another on one white canvas gives (each drawing only adds black on white). No JPEG
    compression (the authors save ``.jpg`` files)."""
    if not _is_int_like(size) or size < 8 or size % 2:
        raise ValueError(f"size: an even image size >= 8 (px); got {size!r}")
    vals = _check_shapes(shapes)
    k = len(vals)
    layers = np.stack([np.stack([polygon_layer(s, q, int(size), bool(quirk)) for s in vals]) for q in range(4)])
    idx = np.stack(np.meshgrid(*[np.arange(k)] * 4, indexing="ij"), -1).reshape(-1, 4)  # product order
    img = layers[0][idx[:, 0]]
    for q in range(1, 4):
        img = np.minimum(img, layers[q][idx[:, q]])
    sides = np.asarray(vals, dtype=np.int64)[idx]
    return ShapeImages(images=img, sides=sides, y=sides.sum(1), shapes=vals, size=int(size), quirk=bool(quirk))


def shape_label_counts(shapes: Sequence[int] = SHAPE_SIDES) -> np.ndarray:
    """How many of the ``k^4`` images have each label ``0 .. 4 max(shapes)``, by convolution of the per-quadrant
    value counts (independent of :func:`shape_images`): an int64 array."""
    vals = _check_shapes(shapes)
    one = np.bincount(np.asarray(vals), minlength=max(vals) + 1).astype(np.int64)
    out = np.array([1], dtype=np.int64)
    for _ in range(4):
        out = np.convolve(out, one)
    return out


def shape_task(shapes: Sequence[int] = SHAPE_SIDES) -> Task:
    """The shape images' labels as a :class:`Task` on ``Z_{k^2}`` (``k = len(shapes)``): pair ``(a, b)`` is image
    ``a k^2 + b`` (:class:`ShapeImages`), its label the sum of the four side counts; the group is only the index set
    (its law is not the label). What the trainer splits and scores for the ``resnet`` family."""
    vals = _check_shapes(shapes)
    k = len(vals)
    M = k * k
    idx = torch.arange(M * M)
    digits = torch.stack([(idx // k ** (3 - j)) % k for j in range(4)], -1)
    y = torch.as_tensor(vals, dtype=torch.int64)[digits].sum(1)
    return Task(group=make(f"Z{M}"), a=idx // M, b=idx % M, y=y, op=None)
