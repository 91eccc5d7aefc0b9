"""Groups, datasets, split sizes and the critical-ratio rule (li2core.groups, li2core.tasks)."""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from li2core import groups
from li2core.tasks import CRITICAL_C, critical_train_frac, make_task, n_train_for, split

GROUPS = ["Z2", "Z5", "Z12", "Z4xZ7", "Z2xZ2xZ9", "Z3xZ3"]


def _check_group_axioms(T: np.ndarray, inv: np.ndarray) -> None:
    M = T.shape[0]
    e = np.arange(M)
    assert T.dtype == np.int64
    assert T.min() == 0 and T.max() == M - 1
    # associativity: (a b) c == a (b c) for all triples
    assert np.array_equal(T[T[:, :, None], e[None, None, :]], T[e[:, None, None], T[None, :, :]])
    # identity 0
    assert np.array_equal(T[0], e) and np.array_equal(T[:, 0], e)
    # inverses
    assert np.all(T[e, inv] == 0) and np.all(T[inv, e] == 0)
    # Latin square (every row and column a permutation)
    for h in range(M):
        assert sorted(T[h]) == list(range(M)) and sorted(T[:, h]) == list(range(M))


@pytest.mark.parametrize("name", GROUPS)
def test_group_axioms(name):
    g = groups.make(name)
    _check_group_axioms(g.table, g.inverse)
    assert np.array_equal(g.table, g.table.T)  # all these groups are Abelian
    assert g.is_abelian


@pytest.mark.parametrize("M", [2, 5, 7, 13])
def test_cyclic_table_is_addition_mod_M(M):
    g = groups.make(f"Z{M}")
    assert g.order == M and g.factors == (M,) and g.name == f"Z{M}"
    for a in range(M):
        for b in range(M):
            assert g.table[a, b] == (a + b) % M
        assert g.inverse[a] == (-a) % M


@pytest.mark.parametrize("factors", [(4, 7), (2, 2, 9), (3, 5, 2)])
def test_product_table_is_componentwise_addition_under_mixed_radix(factors):
    name = "x".join(f"Z{m}" for m in factors)
    g = groups.make(name)
    M = math.prod(factors)
    assert g.order == M and g.factors == factors

    def flat(digits):  # first factor most significant
        i = 0
        for d, m in zip(digits, factors):
            i = i * m + d
        return i

    elements = list(itertools.product(*(range(m) for m in factors)))
    assert [flat(x) for x in elements] == list(range(M))  # itertools order == mixed-radix order
    for x in elements:
        for y in elements:
            z = tuple((xi + yi) % m for xi, yi, m in zip(x, y, factors))
            assert g.table[flat(x), flat(y)] == flat(z)
        assert g.inverse[flat(x)] == flat(tuple((-xi) % m for xi, m in zip(x, factors)))


def test_product_differs_from_cyclic_of_same_order_but_Z4xZ7_is_cyclic():
    # Z4 x Z7 ~ Z28 (gcd 1) while Z2 x Z2 x Z9 has no element of order 36
    def orders(g):
        out = []
        for h in range(g.order):
            k, x = 1, h
            while x != 0:
                x, k = g.table[x, h], k + 1
            out.append(k)
        return out

    assert max(orders(groups.make("Z4xZ7"))) == 28
    assert max(orders(groups.make("Z2xZ2xZ9"))) == 18


def test_name_canonicalisation():
    assert groups.make("Z4×Z7").name == "Z4xZ7"
    assert groups.make(" Z4 x Z7 ").name == "Z4xZ7"


@pytest.mark.parametrize("bad", ["", "Z", "Z1", "Z0", "z5", "S5", "Z4x", "xZ4", "Z4xZ1", "Z-3", "Z4.5", "71", "Z4+Z7"])
def test_invalid_group_names_raise(bad):
    assert not groups.is_valid_name(bad)
    with pytest.raises(ValueError) as ei:
        groups.make(bad)
    assert str(ei.value).startswith("group")
    with pytest.raises(ValueError):
        make_task(bad)


@pytest.mark.parametrize("bad", [None, 71, 3.0])
def test_non_string_group_names_raise(bad):
    assert not groups.is_valid_name(bad)
    with pytest.raises(ValueError):
        groups.make(bad)


@pytest.mark.parametrize("name", ["Z5", "Z2xZ3"])
def test_make_task(name):
    task = make_task(name)
    g = groups.make(name)
    M = g.order
    assert task.M == M and task.N == M * M
    for i in range(task.N):
        h1, h2 = i // M, i % M
        assert task.a[i].item() == h1 and task.b[i].item() == h2
        assert task.y[i].item() == g.table[h1, h2]
    assert task.a.dtype == torch.int64 and task.y.dtype == torch.int64
    # balanced classes on the full data
    assert torch.equal(torch.bincount(task.y, minlength=M), torch.full((M,), M))
    # a Group object works as well as a name
    assert torch.equal(make_task(g).y, task.y)


# --------------------------------------------------------------------------- split sizes
def _exact_n_train(N: int, p: str) -> int:
    """N - ceil((1 - p) N) in exact rational arithmetic (p as a decimal string)."""
    q = Fraction(p)
    return N - math.ceil((1 - q) * N)


def test_n_train_reference_values_from_the_author_setup():
    # paper-li2 §4.5 (sklearn sizes with test_size = 1 - p)
    assert n_train_for(71 * 71, 0.4) == 2016
    assert n_train_for(127 * 127, 0.2) == 3225
    assert n_train_for(23 * 23, 0.8) == 423
    assert n_train_for(41 * 41, 0.8) == 1344
    assert n_train_for(89 * 89, 0.8) == 6336
    assert n_train_for(127 * 127, 0.8) == 12903


@pytest.mark.parametrize("N", [4, 25, 49, 100, 121, 169, 1000, 5041])
def test_n_train_equals_exact_ceil_formula(N):
    ps = ["0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.33", "0.35", "0.4", "0.45", "0.5", "0.55", "0.6",
          "0.65", "0.7", "0.75", "0.8", "0.85", "0.9", "0.95", "0.99", "1", "0.001", "0.123", "0.7777"]
    for p in ps:
        assert n_train_for(N, float(p)) == _exact_n_train(N, p), (N, p)
    assert n_train_for(N, 1.0) == N


def test_n_train_float_rounding_trap():
    # 1 - 0.7 = 0.30000000000000004 in floats, so a naive ceil((1 - p) N) holds out one pair too many;
    # the author passes test_size = 0.3 directly, and sklearn's ceil(0.3 * N) gives the exact sizes.
    assert math.ceil((1 - 0.7) * 10) == 4
    assert n_train_for(10, 0.7) == 7 == 10 - math.ceil(0.3 * 10)
    assert n_train_for(100, 0.7) == 70
    assert n_train_for(100, 0.3) == 30
    assert n_train_for(10, 0.3) == 3


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5, float("nan")])
def test_n_train_invalid_fraction(p):
    with pytest.raises(ValueError) as ei:
        n_train_for(100, p)
    assert str(ei.value).startswith("train_frac")


# --------------------------------------------------------------------------- splits
@pytest.mark.parametrize("p", [0.3, 0.5, 0.9])
def test_split_partition(p):
    task = make_task("Z7")
    s = split(task, p, seed=0)
    tr, te = s.train.numpy(), s.test.numpy()
    assert s.n_train == len(tr) == n_train_for(49, p)
    assert len(set(tr) & set(te)) == 0
    assert sorted(set(tr) | set(te)) == list(range(49))
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(te) > 0)
    assert s.train.dtype == torch.int64


def test_split_seeds():
    task = make_task("Z11")
    a = split(task, 0.4, seed=3)
    b = split(make_task("Z11"), 0.4, seed=3)  # a pure function of (group, p, seed)
    assert torch.equal(a.train, b.train) and torch.equal(a.test, b.test)
    sizes = set()
    trains = []
    for seed in range(6):
        s = split(task, 0.4, seed=seed)
        sizes.add(s.n_train)
        trains.append(tuple(s.train.tolist()))
    assert sizes == {n_train_for(121, 0.4)}
    assert len(set(trains)) == 6  # every seed gives a different split


def test_split_independent_of_torch_global_rng():
    task = make_task("Z7")
    torch.manual_seed(0)
    a = split(task, 0.5, seed=1)
    torch.manual_seed(99)
    np.random.seed(5)
    b = split(task, 0.5, seed=1)
    assert torch.equal(a.train, b.train)


def test_split_full_and_invalid():
    task = make_task("Z5")
    s = split(task, 1.0, seed=0)
    assert s.n_train == 25 and s.test.numel() == 0
    with pytest.raises(ValueError) as ei:
        split(task, 0.01, seed=0)  # 25 - ceil(24.75) = 0 pairs
    assert str(ei.value).startswith("train_frac")


# --------------------------------------------------------------------------- critical ratio
@pytest.mark.parametrize("M", [5, 11, 23, 41, 71, 97, 127])
@pytest.mark.parametrize("delta", [0.0, 0.5, -0.3, 1.7])
def test_critical_train_frac_formula(M, delta):
    expected = min(1.0, max(0.0, (2.7482 - delta) * math.log(M) / M))
    assert critical_train_frac(M, delta) == pytest.approx(expected, rel=1e-14, abs=1e-15)


def test_critical_constant_and_clipping():
    assert CRITICAL_C == 2.7482
    assert critical_train_frac(3) == 1.0  # 2.7482 ln 3 / 3 = 1.006 -> clipped
    assert critical_train_frac(2) == pytest.approx(2.7482 * math.log(2) / 2)
    assert critical_train_frac(71, delta=3.0) == 0.0  # negative -> clipped
    assert critical_train_frac(71, c_corr=2.0) == pytest.approx(2 * critical_train_frac(71))
    with pytest.raises(ValueError):
        critical_train_frac(1)


@pytest.mark.parametrize("M,p_paper,n_paper", [(23, 0.375, 198), (41, 0.249, 418), (71, 0.165, 832),
                                               (97, 0.130, 1220), (127, 0.105, 1691)])
def test_critical_values_from_the_paper_notes(M, p_paper, n_paper):
    # paper-li2 §4.5 at delta = 0: p rounded to 3 decimals, n ~ (2.7482) M ln M rounded
    p = critical_train_frac(M)
    assert round(p, 3) == pytest.approx(p_paper, abs=1e-12)
    n = n_train_for(M * M, p)
    assert abs(n - n_paper) <= 1
    # sklearn's sizes: n = N - ceil((1 - p) N) = floor(p N) here
    assert n == math.floor(p * M * M)
