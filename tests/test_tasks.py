"""Groups, datasets, split sizes and the critical-ratio rule (li2core.groups, li2core.tasks); the MED paper's
prime-field operations and the authors' splits (random, shuffle, square, strip) against literal ports of their code."""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from li2core import groups
from li2core import tasks
from li2core.tasks import (CRITICAL_C, OPS, SPLITS, Task, class_sizes, critical_train_frac, dugout_mask, make_task,
                           n_train_for, n_train_of, op_labels, split, split_pairs, trivial_share)

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


# --------------------------------------------------------------------------- MED: prime-field operations
_LOOP = {  # the formulas written out in plain Python integers
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "x2y2": lambda x, y: x**2 + y**2, "x2xyy2": lambda x, y: x**2 + x * y + y**2,
    "x3y3": lambda x, y: x**3 + y**3, "x3xyy3": lambda x, y: x**3 + x * y + y**3,
    "xpy2": lambda x, y: (x + y) ** 2,
}


def test_ops_are_the_papers_operations():
    assert OPS == {"add": "x+y", "sub": "x-y", "mul": "xy", "x2y2": "x^2+y^2", "x2xyy2": "x^2+xy+y^2",
                   "x3y3": "x^3+y^3", "x3xyy3": "x^3+xy+y^3", "xpy2": "(x+y)^2"}


@pytest.mark.parametrize("p", [7, 13])
@pytest.mark.parametrize("op", list(_LOOP))
def test_op_labels_equal_a_double_loop(op, p):
    want = [_LOOP[op](a, b) % p for a in range(p) for b in range(p)]
    got = op_labels(op, p)
    assert got.dtype == torch.int64 and got.shape == (p * p,)
    assert got.tolist() == want


def test_op_labels_are_exact_for_a_large_prime():
    p = 2_000_003  # x^3 would overflow float64's integers; the products are reduced one at a time
    x, y = p - 1, p - 2
    idx = x * p + y
    fn = {"x3xyy3": lambda: (x**3 + x * y + y**3) % p, "xpy2": lambda: (x + y) ** 2 % p}
    for op, want in fn.items():
        got = tasks._op_fn(op)(torch.tensor([idx // p]), torch.tensor([idx % p]), p)
        assert got.item() == want()


def test_class_sizes_reproduce_the_table_of_paper_med_1_1():
    from collections import Counter

    def shape(op):
        c = class_sizes(op, 97)
        assert c.shape == (97,) and c.sum() == 97 * 97
        return sorted(Counter(c.tolist()).items())

    assert shape("add") == shape("sub") == [(97, 97)]
    for op in ("mul", "x2y2", "x2xyy2"):
        assert shape(op) == [(96, 96), (193, 1)] and class_sizes(op, 97)[0] == 193
    assert shape("x3y3") == [(81, 32), (90, 32), (114, 32), (289, 1)]
    c = class_sizes("x3xyy3", 97)
    assert (c == 288).sum() == 1 and sorted(c)[-2] == 114 and c.min() == 78
    # the control (x + y)^2: 49 classes (the squares), one of 97 (residue 0) and 48 of 194
    assert (class_sizes("xpy2", 97) > 0).sum() == 49 and shape("xpy2") == [(0, 48), (97, 1), (194, 48)]


def test_op_validation_messages():
    with pytest.raises(ValueError, match=r"^op: unknown operation 'div'; known: add, sub"):
        op_labels("div", 7)
    with pytest.raises(ValueError, match=r"^p: must be a prime; got 9"):
        op_labels("add", 9)
    with pytest.raises(ValueError, match=r"^p: "):
        op_labels("add", 1)
    with pytest.raises(ValueError, match=r"^op: 'add' needs a cyclic group Z<p> with p prime; got Z9"):
        make_task("Z9", op="add")
    with pytest.raises(ValueError, match=r"^op: 'mul' needs .* got Z2xZ3"):
        make_task("Z2xZ3", op="mul")
    with pytest.raises(ValueError, match=r"^op: unknown"):
        make_task("Z7", op="banana")


def test_make_task_with_an_operation():
    t = make_task("Z13", op="x2xyy2")
    assert t.op == "x2xyy2" and t.M == 13 and t.N == 169
    assert torch.equal(t.y, op_labels("x2xyy2", 13))
    assert torch.equal(t.a, torch.arange(169) // 13) and torch.equal(t.b, torch.arange(169) % 13)
    plain = make_task("Z13")
    assert plain.op is None and torch.equal(plain.y, make_task("Z13", op="add").y)
    assert Task(plain.group, plain.a, plain.b, plain.y).op is None  # the old constructor still works


# --------------------------------------------------------------------------- MED: the authors' splits
def _authors_base(p, frac, seed, d=0):
    """transformer/base.py's gen_train_test, verbatim but for the config (d_vocab = d + p + 1)."""
    import random
    d_vocab = d + p + 1
    pairs = [(i, j + d, d_vocab - 1) for i in range(p) for j in range(p)]
    random.seed(seed)
    random.shuffle(pairs)
    div = int(frac * len(pairs))
    return pairs[:div], pairs[div:]


def _authors_dugout(p, frac, seed, k, kind, d=0):
    """transformer/rec.py (square) and str.py (strip) gen_train_test, verbatim but for the config."""
    import random
    d_vocab = d + p + 1
    pairs = [(i, j + d, d_vocab - 1) for i in range(p) for j in range(p)]
    jr = range(k + 1) if kind == "square" else range(p)
    test_pairs = [(i, j + d, d_vocab - 1) for i in range(k + 1) for j in jr]
    remaining_pairs = [pair for pair in pairs if pair not in test_pairs]
    random.seed(seed)
    random.shuffle(remaining_pairs)
    train_size = int(frac * len(pairs))
    train_pairs = remaining_pairs[:train_size]
    test_pairs.extend(remaining_pairs[train_size:])
    return train_pairs, test_pairs


def _ids(pairs, p, d=0):
    return sorted(i * p + (j - d) for i, j, _ in pairs)


@pytest.mark.parametrize("p,frac,seed,d", [(97, 0.3, 0, 0), (97, 0.5, 11, 0), (23, 0.37, 5, 4), (11, 0.9, 2, 0)])
def test_shuffle_split_is_the_authors_base_split(p, frac, seed, d):
    tr, te = _authors_base(p, frac, seed, d)
    s = split_pairs(make_task(f"Z{p}", op="add"), "shuffle", frac, seed)
    assert s.train.tolist() == _ids(tr, p, d) and s.test.tolist() == _ids(te, p, d)


def test_shuffle_split_size_at_p97():
    s = split_pairs(make_task("Z97", op="add"), "shuffle", 0.3, 0)
    assert s.n_train == 2822 == int(0.3 * 97 * 97) and s.test.numel() == 6587


@pytest.mark.parametrize("kind,p,k,frac,seed", [("square", 31, 8, 0.3, 0), ("square", 31, 25, 0.3, 4),
                                                ("strip", 31, 6, 0.3, 0), ("strip", 31, 24, 0.3, 1),
                                                ("square", 97, 30, 0.3, 0), ("strip", 97, 40, 0.3, 0)])
def test_dugout_splits_are_the_authors_rec_and_str_splits(kind, p, k, frac, seed):
    tr, te = _authors_dugout(p, frac, seed, k, kind)
    s = split_pairs(make_task(f"Z{p}", op="add"), kind, frac, seed, dugout=k)
    assert s.train.tolist() == _ids(tr, p) and s.test.tolist() == _ids(te, p)


def test_dugout_split_sizes_of_paper_med_1_4():
    task = make_task("Z97", op="add")
    cases = [("square", k) for k in range(30, 61)] + [("strip", t) for t in (40, 50, 60, 67)]
    for kind, k in cases:
        s = split_pairs(task, kind, 0.3, 0, dugout=k)
        region = dugout_mask(task, kind, k)
        assert int(region.sum()) == ((k + 1) ** 2 if kind == "square" else (k + 1) * 97)
        assert s.test.numel() == (6596 if (kind, k) == ("strip", 67) else 6587), (kind, k)
        assert s.n_train == n_train_of(97, kind, 0.3, k)
        assert not region[s.train].any()  # the region is always in test
        assert torch.equal(torch.sort(torch.cat([s.train, s.test])).values, torch.arange(97 * 97))
    assert n_train_of(97, "strip", 0.3, 67) == 29 * 97 == 2813


def test_splits_are_pure_functions_of_their_parameters():
    import random
    task = make_task("Z23", op="x2xyy2")
    for kind, dug in (("random", None), ("shuffle", None), ("square", 7), ("strip", 5)):
        random.seed(123)
        state = random.getstate()
        a = split_pairs(task, kind, 0.4, 3, dug)
        assert random.getstate() == state  # the global random stream is neither used nor moved
        random.seed(999)
        np.random.seed(7)
        torch.manual_seed(5)
        b = split_pairs(make_task("Z23", op="x2xyy2"), kind, 0.4, 3, dug)
        assert torch.equal(a.train, b.train) and torch.equal(a.test, b.test)
        assert np.all(np.diff(a.train.numpy()) > 0) and np.all(np.diff(a.test.numpy()) > 0)
        assert len({tuple(split_pairs(task, kind, 0.4, s, dug).train.tolist()) for s in range(4)}) == 4
        assert a.n_train == n_train_of(23, kind, 0.4, dug)
    r = split_pairs(task, "random", 0.4, 3)
    assert torch.equal(r.train, split(task, 0.4, 3).train)


@pytest.mark.parametrize("kind,k,share", [("square", 30, 0.854), ("square", 35, 0.803), ("square", 40, 0.745),
                                          ("square", 45, 0.679), ("square", 50, 0.605), ("square", 55, 0.524),
                                          ("square", 60, 0.435), ("strip", 40, 0.396), ("strip", 50, 0.249),
                                          ("strip", 60, 0.102), ("strip", 67, 0.000)])
def test_trivial_shares_of_paper_med_5(kind, k, share):
    task = make_task("Z97", op="add")
    s = split_pairs(task, kind, 0.3, 0, dugout=k)
    assert round(trivial_share(task, s, kind, k), 3) == pytest.approx(share, abs=1e-12)


def test_trivial_share_of_an_undug_split_is_one():
    task = make_task("Z11", op="add")
    s = split_pairs(task, "shuffle", 0.5, 0)
    assert trivial_share(task, s, "shuffle") == 1.0
    assert not dugout_mask(task, "random").any() and dugout_mask(task, "shuffle").shape == (121,)


def test_split_pairs_validation():
    task = make_task("Z11", op="add")
    bad = [
        (dict(kind="grid", train_frac=0.3, seed=0), r"^kind: unknown split 'grid'; known: random, shuffle"),
        (dict(kind="square", train_frac=0.3, seed=0), r"^dugout: a 'square' split needs an integer in 0\.\.10"),
        (dict(kind="strip", train_frac=0.3, seed=0, dugout=11), r"^dugout: "),
        (dict(kind="strip", train_frac=0.3, seed=0, dugout=-1), r"^dugout: "),
        (dict(kind="square", train_frac=0.3, seed=0, dugout=True), r"^dugout: "),
        (dict(kind="shuffle", train_frac=0.3, seed=0, dugout=3), r"^dugout: must be None for a 'shuffle' split"),
        (dict(kind="shuffle", train_frac=0.0, seed=0), r"^train_frac: "),
        (dict(kind="strip", train_frac=1.5, seed=0, dugout=2), r"^train_frac: "),
        (dict(kind="shuffle", train_frac=0.3, seed=-1), r"^seed: "),
        (dict(kind="shuffle", train_frac=0.3, seed=1.5), r"^seed: "),
        (dict(kind="square", train_frac=0.3, seed=0, dugout=10), r"^train_frac: .*leaves no training pair"),
        (dict(kind="strip", train_frac=0.3, seed=0, dugout=10), r"^train_frac: .*leaves no training pair"),
        (dict(kind="shuffle", train_frac=0.005, seed=0), r"^train_frac: .*leaves no training pair"),
    ]
    for kw, msg in bad:
        with pytest.raises(ValueError, match=msg):
            split_pairs(task, **kw)
    with pytest.raises(ValueError, match=r"^dugout: "):
        dugout_mask(task, "square")
    with pytest.raises(ValueError, match=r"^kind: "):
        n_train_of(11, "diagonal", 0.3)
    assert SPLITS == ("random", "shuffle", "square", "strip")
    # the largest dug-outs that still leave training pairs: k = 9 (21 pairs outside), t = 9 (11 pairs)
    assert split_pairs(task, "square", 0.3, 0, dugout=9).n_train == min(36, 121 - 100)
    assert split_pairs(task, "strip", 0.3, 0, dugout=9).n_train == 11


# --------------------------------------------------------------------------- the ResNet shape images (paper-med §2.4)
def _label_counts_by_enumeration(shapes):
    counts = {}
    for t in itertools.product(shapes, repeat=4):
        counts[sum(t)] = counts.get(sum(t), 0) + 1
    return counts


def test_shape_label_counts_of_the_authors_dictionary():
    c = tasks.shape_label_counts()
    assert c.sum() == 11**4 == 14641 and (c > 0).sum() == 47 and c[1] == c[2] == 0
    # the values paper-med §2.4 lists (measured there by enumeration of the authors' code)
    listed = {0: 1, 3: 4, 4: 4, 5: 4, 6: 10, 27: 812, 28: 813, 29: 804, 48: 1}
    assert all(c[k] == v for k, v in listed.items())
    assert int(np.argmax(c)) == 28
    enum = _label_counts_by_enumeration(tasks.SHAPE_SIDES)
    assert {k: int(v) for k, v in enumerate(c) if v} == enum


def test_shape_images_labels_sides_and_order():
    shapes = (0, 3, 5)
    d = tasks.shape_images(16, shapes)
    k = len(shapes)
    assert d.images.shape == (k**4, 16, 16) and d.images.dtype == np.uint8 and d.N == 81
    assert d.sides.shape == (81, 4) and d.y.dtype == np.int64
    assert np.array_equal(d.sides, np.array(list(itertools.product(shapes, repeat=4))))  # product order
    assert np.array_equal(d.y, d.sides.sum(1))
    assert np.array_equal(np.bincount(d.y, minlength=21), tasks.shape_label_counts(shapes))
    assert d.images[0].min() == 255  # all four blank
    assert (d.images < 128).any(axis=(1, 2)).sum() == 80  # every other image has black pixels
    t = tasks.shape_task(shapes)
    assert t.M == k * k and torch.equal(t.y, torch.from_numpy(d.y)) and torch.equal(t.a * t.M + t.b, torch.arange(81))


def test_shape_images_are_deterministic_and_images_differ():
    a, b = tasks.shape_images(32, (0, 3, 4)), tasks.shape_images(32, (0, 3, 4))
    assert np.array_equal(a.images, b.images)
    flat = a.images.reshape(a.N, -1)
    assert len({r.tobytes() for r in flat}) == a.N  # 3 shapes, 4 quadrants: 81 different images


def test_each_image_is_its_quadrant_layers_drawn_together():
    d = tasks.shape_images(24, (0, 4, 7))
    i = 1 * 27 + 2 * 9 + 0 * 3 + 1  # (4, 7, 0, 4)
    want = np.minimum.reduce([tasks.polygon_layer(s, q, 24) for q, s in enumerate((4, 7, 0, 4))])
    assert np.array_equal(d.images[i], want)
    # a quadrant's shape stays in its own half of the canvas in both directions (up to the border line)
    layer = tasks.polygon_layer(6, 0, 224)
    ys, xs = np.nonzero(layer < 128)
    assert xs.max() <= 112 and ys.max() <= 112


def test_radius_quirk_geometry():
    assert tasks.quadrant_radius(0) == 46.0
    assert [tasks.quadrant_radius(q) for q in (1, 2, 3)] == [-56.0] * 3
    assert all(tasks.quadrant_radius(q, quirk=False) == 46.0 for q in range(4))
    assert tasks.quadrant_radius(1, size=64) == -16.0 and math.isclose(tasks.quadrant_radius(0, 64), 46 * 64 / 224)
    # on the pixels: a triangle (vertex 0 at angle 0) points right at radius +46, left at -56 (turned by 180 deg)
    for q, r in ((0, 46), (3, -56)):
        ys, xs = np.nonzero(tasks.polygon_layer(3, q, 224) < 128)
        cx = 56 + 112 * (q % 2)
        if r > 0:
            assert abs(xs.max() - (cx + r)) <= 1 and abs(xs.min() - (cx - r / 2)) <= 1
        else:
            assert abs(xs.min() - (cx + r)) <= 1 and abs(xs.max() - (cx - r / 2)) <= 1
    off = tasks.polygon_layer(3, 3, 224, quirk=False)
    ys, xs = np.nonzero(off < 128)
    assert abs(xs.max() - (168 + 46)) <= 1


@pytest.mark.parametrize("bad", [(), (1,), (0, 0), (13,), (0, 2.5), "034"])
def test_shape_dictionary_errors_are_one_line(bad):
    with pytest.raises(ValueError, match="^shapes:") as ei:
        tasks.shape_label_counts(bad)
    assert "\n" not in str(ei.value)
    with pytest.raises(ValueError, match="^size:"):
        tasks.shape_images(15, (0, 3))
