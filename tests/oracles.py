"""Independent oracles for the tests: groups, designs and energies written with explicit matrices and loops, sharing no
code with li2core (tests import them as ``from oracles import ...``; tests/conftest.py puts this folder on sys.path)."""
from __future__ import annotations

import itertools

import numpy as np


class Sym:
    """The symmetric group S_k from its Cayley table only (independent of li2core.groups)."""

    def __init__(self, k: int):
        perms = list(itertools.permutations(range(k)))
        index = {p: i for i, p in enumerate(perms)}
        self.order = len(perms)
        # (p q)(i) = p(q(i))
        self.table = np.array([[index[tuple(p[q[i]] for i in range(k))] for q in perms] for p in perms])


S3 = Sym(3)


def cyclic_table(M: int) -> np.ndarray:
    """The Cayley table of Z_M, ``T[a, b] = (a + b) mod M``."""
    return np.add.outer(np.arange(M), np.arange(M)) % M


#: sigma and sigma' of the activations, in numpy
NP_ACT = {
    "sqr": (lambda x: x * x, lambda x: 2 * x),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    "silu": (lambda x: x / (1 + np.exp(-x)), lambda x: (s := 1 / (1 + np.exp(-x))) * (1 + x * (1 - s))),
    "relusqr": (lambda x: np.maximum(x, 0.0) ** 2, lambda x: 2 * np.maximum(x, 0.0)),
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
}


def np_design(table: np.ndarray, rows=None):
    """X (n, 2M) and Y (n, M) by loops over the pairs (pair ``r`` is ``(r // M, r % M)``)."""
    M = table.shape[0]
    rows = range(M * M) if rows is None else rows
    X, Y = [], []
    for r in rows:
        a, b = divmod(int(r), M)
        x = np.zeros(2 * M)
        x[a] = 1
        x[M + b] = 1
        y = np.zeros(M)
        y[table[a, b]] = 1
        X.append(x)
        Y.append(y)
    return np.array(X), np.array(Y)


def np_energy_grad(w, table, act, rows=None, weights=None):
    """E = 1/2 ||Yt^T Om s(Xw)||^2 and grad = X^T D Om Yt Yt^T Om s(Xw) with explicit matrices."""
    X, Y = np_design(table, rows)
    n = X.shape[0]
    Yt = Y - Y.mean(0, keepdims=True)
    Om = np.eye(n) if weights is None else np.diag(np.asarray(weights, dtype=float))
    s, ds = NP_ACT[act]
    h = X @ w
    g = Yt.T @ Om @ s(h)
    return 0.5 * g @ g, X.T @ np.diag(ds(h)) @ Om @ Yt @ g
