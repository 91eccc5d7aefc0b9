"""Thread control for small linear algebra: one place for torch's and numpy's thread counts.

The matrices of the theory chapters are small (a few hundred rows): threads never help there, and on a
loaded 2-core machine they hurt badly (OpenMP/OpenBLAS contention). Measured: a threaded SVD of a
211 x 1000 matrix took ~2.4 s instead of ~0.03 s; the matrices of Theorem 1's alignment measures ran up to
18x slower with two threads than with one; a threaded 127 x 127 ``eigh`` in numpy took ~2 s instead of
~5 ms. Numbers never depend on the thread count here.

* :func:`one_torch_thread`: torch's CPU ops on one thread inside the block (restored after), optionally
  only when the work (a flop count) is below a limit.
* :func:`single_thread_blas`: the same for numpy's bundled OpenBLAS (a no-op when it cannot be found).
"""
from __future__ import annotations

import ctypes
import functools
import glob
import os
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch

__all__ = ["one_torch_thread", "single_thread_blas", "SMALL_WORK"]

#: Below this many flops a torch computation runs on one thread (:func:`one_torch_thread` with ``work``).
SMALL_WORK = 2e9


@contextmanager
def one_torch_thread(work: float | None = None) -> Iterator[None]:
    """Run torch's CPU ops on one thread inside the block (restored after).

    With ``work`` (a flop count) given, only when ``work < SMALL_WORK``; larger work keeps the threads."""
    prev = torch.get_num_threads()
    one = prev != 1 and (work is None or work < SMALL_WORK)
    if one:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if one:
            torch.set_num_threads(prev)


@functools.lru_cache(maxsize=1)
def _openblas_thread_fns():
    """(get, set) of numpy's bundled OpenBLAS thread count, or None when not found."""
    libdirs = [os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs"),
               os.path.join(os.path.dirname(np.__file__), ".dylibs")]
    names = [("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
             ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
             ("openblas_get_num_threads", "openblas_set_num_threads")]
    for d in libdirs:
        for path in sorted(glob.glob(os.path.join(d, "*openblas*"))):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for get, set_ in names:
                if hasattr(lib, get) and hasattr(lib, set_):
                    g, s = getattr(lib, get), getattr(lib, set_)
                    g.restype, g.argtypes = ctypes.c_int, []
                    s.restype, s.argtypes = None, [ctypes.c_int]
                    return g, s
    return None


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run numpy's BLAS/LAPACK on one thread inside the block (restored after).

    A no-op when numpy's OpenBLAS cannot be found (see the module notes for why).
    """
    fns = None
    try:
        fns = _openblas_thread_fns()
        prev = fns[0]() if fns else 1
        if fns and prev != 1:
            fns[1](1)
    except Exception:  # pragma: no cover - any ctypes trouble: leave the threads alone
        fns = None
    try:
        yield
    finally:
        if fns and prev != 1:
            fns[1](prev)
