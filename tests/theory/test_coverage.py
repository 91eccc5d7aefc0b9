"""MED Thm 3.10 / 3.12 (li2core.theory.coverage): nearest same-class training distances against brute force, the
coverage ceiling by hand and against the measured numbers of paper-med §3.4, the ball size by enumeration."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from li2core.tasks import make_task, split_pairs
from li2core.theory import coverage as cov


def _brute(a, b, y, train, p, torus):
    out = []
    for i in range(len(a)):
        best = math.inf
        for j in range(len(a)):
            if j == i or not train[j] or y[j] != y[i]:
                continue
            da, db = abs(a[i] - a[j]), abs(b[i] - b[j])
            if torus:
                da, db = min(da, p - da), min(db, p - db)
            best = min(best, da + db)
        out.append(best)
    return out


@pytest.mark.parametrize("op", ["add", "x2xyy2", "x3y3"])
@pytest.mark.parametrize("torus", [False, True])
def test_nearest_same_class_distance_equals_brute_force(op, torus):
    p = 11
    task = make_task(f"Z{p}", op=op)
    s = split_pairs(task, "shuffle", 0.3, 2)
    train = torch.zeros(task.N, dtype=torch.bool)
    train[s.train] = True
    got = cov.nearest_same_class_distance(task.a, task.b, task.y, train, p, torus=torus)
    want = _brute(task.a.tolist(), task.b.tolist(), task.y.tolist(), train.tolist(), p, torus)
    assert got.dtype == torch.float64 and got.tolist() == want


def test_nearest_same_class_distance_edge_cases():
    p = 5
    task = make_task("Z5", op="add")
    none = torch.zeros(25, dtype=torch.bool)
    assert torch.isinf(cov.nearest_same_class_distance(task.a, task.b, task.y, none, p)).all()
    one = none.clone()
    one[7] = True  # (1, 2), label 3, the only training pair; its class: (0, 3), (2, 1), (3, 0), (4, 4)
    d = cov.nearest_same_class_distance(task.a, task.b, task.y, one, p)
    assert math.isinf(d[7])  # a training pair does not count for itself
    assert [d[i].item() for i in (3, 11, 15, 24)] == [2, 2, 4, 5]
    dt = cov.nearest_same_class_distance(task.a, task.b, task.y, one, p, torus=True)
    assert [dt[i].item() for i in (3, 11, 15, 24)] == [2, 2, 4, 4]  # (4, 4): min(3, 2) + min(2, 3) on the torus
    assert math.isinf(d[0])  # label 0 has no training pair
    with pytest.raises(ValueError, match="equal lengths"):
        cov.nearest_same_class_distance(task.a, task.b[:3], task.y, one, p)


def test_nearest_same_class_distance_blocks_agree(monkeypatch):
    task = make_task("Z13", op="x2xyy2")
    s = split_pairs(task, "random", 0.4, 1)
    train = torch.zeros(task.N, dtype=torch.bool)
    train[s.train] = True
    whole = cov.nearest_same_class_distance(task.a, task.b, task.y, train, 13, torus=True)
    monkeypatch.setattr(cov, "_CHUNK", 7)  # tiny row blocks: the same numbers
    assert torch.equal(cov.nearest_same_class_distance(task.a, task.b, task.y, train, 13, torus=True), whole)


def test_coverage_ceiling_by_hand():
    dist = torch.tensor([1.0, 3.0, math.inf, 2.0, 5.0, 1.0])
    test = torch.tensor([True, True, True, False, True, False])
    # test points have distances 1, 3, inf, 5
    assert cov.coverage_ceiling(dist, test, 0) == 0.0
    assert cov.coverage_ceiling(dist, test, 1) == 0.25
    assert cov.coverage_ceiling(dist, test, 3) == 0.5
    assert cov.coverage_ceiling(dist, test, 100) == 0.75
    assert math.isnan(cov.coverage_ceiling(dist, torch.zeros(6, dtype=torch.bool), 3))


def test_coverage_numbers_of_paper_med_3_4():
    """paper-med §3.4 [MEASURED] by an independent re-implementation: x^2+xy+y^2 on the torus, the authors' random
    (shuffle) split, seed 0: covered test points D = 2: 304 / 279 / 250 and D = 4: 887 / 845 / 749 at frac .5 / .6 / .7;
    addition, strip t = 40, torus, D = 10: UB = 0.51 (far below the paper's U-Acc 0.899)."""
    task = make_task("Z97", op="x2xyy2")
    counts = {}
    for frac in (0.5, 0.6, 0.7):
        s = split_pairs(task, "shuffle", frac, 0)
        train = torch.zeros(task.N, dtype=torch.bool)
        train[s.train] = True
        d = cov.nearest_same_class_distance(task.a, task.b, task.y, train, 97, torus=True)
        counts[frac] = [int((d[s.test] <= D).sum()) for D in (2, 4)]
        assert cov.coverage_ceiling(d, ~train, 4) == pytest.approx(counts[frac][1] / s.test.numel(), rel=1e-12)
    assert counts == {0.5: [304, 887], 0.6: [279, 845], 0.7: [250, 749]}
    add = make_task("Z97", op="add")
    s = split_pairs(add, "strip", 0.3, 0, dugout=40)
    train = torch.zeros(add.N, dtype=torch.bool)
    train[s.train] = True
    d = cov.nearest_same_class_distance(add.a, add.b, add.y, train, 97, torus=True)
    test = ~train
    assert round(cov.coverage_ceiling(d, test, 10), 2) == 0.51


@pytest.mark.parametrize("D", range(6))
def test_ball_size_counts_the_lattice_points(D):
    n = sum(1 for i, j in itertools.product(range(-D, D + 1), repeat=2) if abs(i) + abs(j) <= D)
    assert cov.ball_size(D) == n == 2 * D * D + 2 * D + 1


def test_thm312_threshold_and_bound():
    assert 2 * math.log(97) == pytest.approx(9.15, abs=0.005)
    assert round(cov.thm312_threshold(97, cov.ball_size(3)), 3) == 0.366  # C = 25 (paper-med §3.4)
    assert round(cov.thm312_threshold(97, cov.ball_size(4)), 3) == 0.223  # C = 41
    assert cov.full_coverage_bound(4, 1, 2) == pytest.approx(1 - 4 * 0.75**2)  # vacuous: -1.25
    assert cov.full_coverage_bound(10, 10, 1) == 1.0
    N, C = 97 * 97, 41
    m = math.ceil(cov.thm312_threshold(97, C) * N)
    assert cov.full_coverage_bound(N, C, m) == pytest.approx(1 - N * (1 - C / N) ** m)
    assert cov.full_coverage_bound(N, C, m) > -0.05  # at the threshold N (1 - C/N)^m ~ 1
    for bad in (lambda: cov.ball_size(-1), lambda: cov.thm312_threshold(1, 3), lambda: cov.full_coverage_bound(5, 6, 1)):
        with pytest.raises(ValueError):
            bad()
