"""Running sweeps (li2core.sweep.run): batching, argument checks, and the submitit path."""
from __future__ import annotations

import sys

import pandas as pd
import pytest
import torch

from li2core.sweep import Sweep, expand_grid, load_history, run_sweep
from li2core.sweep import run as run_mod
from li2core.train import METRIC_SETS

TINY = dict(width=8, epochs=20, eval_every=5, lr=1e-2, weight_decay=1e-3)
BASIC = list(METRIC_SETS["basic"])


def tiny_sweep(name: str = "tiny", **grid) -> Sweep:
    grid = grid or {"group": ["Z5", "Z7"], "train_frac": [0.5, 0.8], "seed": [0, 1]}
    return Sweep(name, expand_grid(TINY, grid))


# ------------------------------------------------------------------------------------------ batching
def test_max_batch_caps_every_batch_and_write(tmp_path, count_train):
    sw = tiny_sweep("mb")  # 2 groups x 4 runs
    df = run_sweep(sw, tmp_path / "s.sqlite", device="cpu", max_batch=3, progress=False)
    assert count_train == [3, 1, 3, 1]
    assert df["batch_size"].tolist() == [3, 3, 3, 1, 3, 3, 3, 1] and list(df["config_hash"]) == sw.hashes


@pytest.mark.parametrize("max_batch", [None, 1, 3])
def test_plan_without_the_trainers_planner_groups_by_batch_key(monkeypatch, max_batch):
    cfgs = tiny_sweep().configs
    with_planner = run_mod._plan(cfgs, torch.device("cpu"), max_batch)
    monkeypatch.delattr(run_mod._train, "_plan_batches")
    fallback = run_mod._plan(cfgs, torch.device("cpu"), max_batch)
    for plan in (with_planner, fallback):
        assert sorted(id(c) for chunk in plan for c in chunk) == sorted(id(c) for c in cfgs)
        assert all(len({c.batch_key() for c in chunk}) == 1 for chunk in plan)
        assert all(len(chunk) <= (max_batch or 4) for chunk in plan)
    assert [[c.group for c in chunk] for chunk in fallback] == [[c.group for c in chunk] for chunk in with_planner]


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"max_batch": 0}, "max_batch:"),
        ({"max_batch": True}, "max_batch:"),
        ({"executor": "cloud"}, "executor:"),
        ({"executor": "submitit-debug", "device": "tpu"}, "device:"),
        ({"device": "tpu"}, "device:"),
    ],
)
def test_run_sweep_rejects_bad_arguments_before_touching_the_store(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg):
        run_sweep(tiny_sweep("x", group=["Z5"]), tmp_path / "s.sqlite", progress=False, **kw)
    assert not (tmp_path / "s.sqlite").exists()


def test_run_sweep_needs_a_sweep_and_an_executor(tmp_path):
    with pytest.raises(TypeError, match="Sweep"):
        run_sweep(tiny_sweep().configs, tmp_path / "s.sqlite", progress=False)
    with pytest.raises(ValueError, match="executor: expected one of"):
        run_sweep(tiny_sweep("x", group=["Z5"]), tmp_path / "s.sqlite", executor=object(), progress=False)


# ------------------------------------------------------------------------------------------ submitit
def test_submitit_local_executor_gives_the_same_records(tmp_path, monkeypatch):
    pytest.importorskip("submitit")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    sw = Sweep("sub", expand_grid({**TINY, "group": "Z5"}, {"lr": [1e-2, 1e6], "seed": [0, 1]}))
    here = run_sweep(sw, tmp_path / "here.sqlite", device="cpu", progress=False)
    there = run_sweep(sw, tmp_path / "there.sqlite", device="cpu", max_batch=2, executor="submitit-local",
                      executor_folder=tmp_path / "jobs", progress=False)
    assert list(there["config_hash"]) == sw.hashes and there["batch_size"].tolist() == [2] * 4
    cols = ["config_hash", "code_version", "n_train", *[f"final_{k}" for k in BASIC], "best_test_acc",
            "grok_epoch", "diverged"]
    pd.testing.assert_frame_equal(there[cols], here[cols], rtol=1e-6)
    # (in sweep order: the jobs may finish, and be written, in any order)
    pd.testing.assert_frame_equal(load_history(tmp_path / "there.sqlite", "sub"),
                                  load_history(tmp_path / "here.sqlite", "sub"), rtol=1e-6)
    assert (tmp_path / "jobs").is_dir()


def test_missing_submitit_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "submitit", None)  # import submitit -> ImportError
    with pytest.raises(ValueError, match="pip install submitit"):
        run_sweep(tiny_sweep("x", group=["Z5"]), tmp_path / "s.sqlite", executor="slurm", progress=False)
