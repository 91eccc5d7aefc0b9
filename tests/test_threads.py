"""li2core.threads: the thread limits apply inside the block, are restored after (also on an exception), and the
work threshold is honoured."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from li2core.threads import SMALL_WORK, one_torch_thread, single_thread_blas


@pytest.fixture
def two_threads():
    prev = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(prev)


def test_one_torch_thread_inside_and_restored(two_threads):
    with one_torch_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with pytest.raises(RuntimeError):
        with one_torch_thread():
            raise RuntimeError("boom")
    assert torch.get_num_threads() == 2


def test_one_torch_thread_only_for_small_work(two_threads):
    with one_torch_thread(work=SMALL_WORK / 10):
        assert torch.get_num_threads() == 1
    with one_torch_thread(work=SMALL_WORK * 10):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 2


def test_single_thread_blas_is_safe_and_numbers_do_not_change():
    a = np.random.default_rng(0).standard_normal((50, 50))
    ref = np.linalg.eigvalsh(a + a.T)
    with single_thread_blas():
        inside = np.linalg.eigvalsh(a + a.T)
    after = np.linalg.eigvalsh(a + a.T)
    np.testing.assert_allclose(inside, ref, rtol=1e-12)
    np.testing.assert_allclose(after, ref, rtol=1e-12)
