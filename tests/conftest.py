"""Shared test setup: make the repository (and the build driver ``tools/build_book.py``) importable without
installing it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# tests/oracles.py holds independent implementations used as oracles: tests import them as `from oracles import ...`.
TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
# The book build driver is a script, not part of li2core: tests import it as `import build_book`.
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

# The unit tests use tiny tensors: one thread avoids OpenMP start-up and contention costs that
# dominate at these sizes (10-100x slower on a loaded 2-core machine). Numbers do not depend on it.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (holds ``li2core/``)."""
    return ROOT


@pytest.fixture(scope="session")
def subprocess_env() -> dict[str, str]:
    """Environment for ``python -m li2core`` subprocesses: the repo on PYTHONPATH, few threads."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env
