"""Fixtures of the sweep tests (li2core.sweep)."""
from __future__ import annotations

import pytest

from li2core.sweep import run as run_mod

_train_module = run_mod._train  # the module li2core.train (the package re-exports the function as `train`)


@pytest.fixture
def count_train(monkeypatch):
    """Counts the configs passed to li2core.train.train (the sweep calls it through the module)."""
    calls: list[int] = []
    real = _train_module.train

    def counting(configs, *a, **kw):
        configs = list(configs)
        calls.append(len(configs))
        return real(configs, *a, **kw)

    monkeypatch.setattr(_train_module, "train", counting)
    return calls
