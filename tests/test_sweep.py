"""Sweeps (li2core.sweep): grid expansion, the SQLite store, resume after kill -9, divergence, code version,
the CLI (`sweep`, `sweep-status`) and the submitit path."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml

import li2core.sweep as sweep_mod
from li2core.cli import main
from li2core.tasks import critical_train_frac
from li2core.train import METRIC_SETS, TrainConfig, train
from li2core.sweep import (
    CODE_FILES,
    Sweep,
    code_version,
    config_hash,
    expand_grid,
    load,
    load_history,
    run_sweep,
    status,
)

_train_module = sweep_mod._train  # the module li2core.train (the package re-exports the function as `train`)
TINY = dict(width=8, epochs=20, eval_every=5, lr=1e-2, weight_decay=1e-3)
BASIC = list(METRIC_SETS["basic"])


def tiny_sweep(name: str = "tiny", **grid) -> Sweep:
    grid = grid or {"group": ["Z5", "Z7"], "train_frac": [0.5, 0.8], "seed": [0, 1]}
    return Sweep(name, expand_grid(TINY, grid))


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


def n_rows(store) -> int:
    with sqlite3.connect(store) as c:
        return c.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


# ------------------------------------------------------------------------------------------ grids
def test_expand_grid_product_zip_extra():
    cfgs = expand_grid({"width": 8, "epochs": 5}, {"group": ["Z5", "Z7"], "seed": [0, 1, 2]})
    assert [(c.group, c.seed) for c in cfgs] == [(g, s) for g in ("Z5", "Z7") for s in (0, 1, 2)]
    assert all(c.width == 8 and c.epochs == 5 for c in cfgs)

    cfgs = expand_grid({"width": 8}, {"seed": "0-1"}, zipped={"lr": [1e-3, 1e-2], "weight_decay": [0.0, 1e-4]},
                       extra=[{"group": "Z7", "lr": 0.5}])
    assert [(c.seed, c.lr, c.weight_decay) for c in cfgs[:4]] == [
        (0, 1e-3, 0.0), (0, 1e-2, 1e-4), (1, 1e-3, 0.0), (1, 1e-2, 1e-4)]
    assert (cfgs[4].group, cfgs[4].lr, cfgs[4].seed, cfgs[4].width) == ("Z7", 0.5, 0, 8)

    # critical_delta without an explicit train_frac switches the split rule; scalars are single values
    cfgs = expand_grid({"group": "Z7"}, {"critical_delta": [0.0, 0.5], "width": 8})
    assert [c.train_frac for c in cfgs] == [None, None]
    assert cfgs[1].p == pytest.approx(critical_train_frac(7, 0.5))
    # YAML 1.1 reads 5e-4 as a string: numeric strings are accepted for float fields
    assert expand_grid({"lr": "5e-4"}, {"seed": [0]})[0].lr == 5e-4


@pytest.mark.parametrize(
    "base, grid, kw, names",
    [
        ({}, {"widht": [8]}, {}, "widht"),
        ({"epoch": 3}, {"seed": [0]}, {}, "epoch"),
        ({}, {"width": [8, 0]}, {}, "width:"),
        ({}, {"group": ["Z5", "Q5"]}, {}, "group:"),
        ({}, {"train_frac": [1.5]}, {}, "train_frac:"),
        ({}, {"lr": [-1.0]}, {}, "lr:"),
        ({}, {"seed": []}, {}, "grid.seed"),
        ({}, {"seed": "a-b"}, {}, "seed"),
        ({}, {}, {"zipped": {"lr": [1e-3, 1e-2], "seed": [0]}}, "zip"),
        ({}, {"seed": [0]}, {"zipped": {"seed": [1]}}, "seed"),
        ({}, {}, {"extra": [{"activation": "tanh"}]}, "activation:"),
        ({"train_frac": 0.5}, {"critical_delta": [0.0]}, {}, "train_frac:"),
    ],
)
def test_expand_grid_errors_name_the_field(base, grid, kw, names):
    with pytest.raises(ValueError, match=names):
        expand_grid(base, grid, **kw)


def test_sweep_spec_yaml_and_validation(tmp_path):
    spec = {"name": "s", "base": {**TINY, "group": "Z5"}, "grid": {"seed": [0, 1, 1]}, "metrics": "basic"}
    p = tmp_path / "s.yml"
    p.write_text(yaml.safe_dump(spec))
    sw = Sweep.from_yaml(p)
    assert sw.name == "s" and len(sw) == 2  # duplicate config kept once
    assert sw.hashes == [config_hash(c) for c in sw.configs] and len(set(sw.hashes)) == 2
    # the hash is canonical: lr 1 and lr 1.0 are the same config
    assert config_hash(TrainConfig(lr=1)) == config_hash(TrainConfig(lr=1.0))
    assert config_hash(TrainConfig(seed=1)) != config_hash(TrainConfig(seed=2))
    for bad, msg in [
        ({k: v for k, v in spec.items() if k != "name"}, "name:"),
        ({**spec, "grd": {}}, "grd"),
        ({**spec, "metrics": "some"}, "metrics:"),
        ({**spec, "metrics": ["test_acc", "nope"]}, "metrics:"),
        ({"name": "x", "base": TINY}, "grid"),
        ([1, 2], "spec:"),
    ]:
        with pytest.raises(ValueError, match=msg):
            Sweep.from_dict(bad)
    p.write_text("name: [unclosed\n")
    with pytest.raises(ValueError, match="YAML"):
        Sweep.from_yaml(p)


# ------------------------------------------------------------------------------------------ store
def test_records_equal_train_and_rerun_trains_nothing(tmp_path, count_train):
    sw = tiny_sweep("match")
    store = tmp_path / "s.sqlite"
    df = run_sweep(sw, store, device="cpu", progress=False)
    assert count_train == [4, 4]  # one batch per batch key (group), written as it finishes
    count_train.clear()
    res = train(sw.configs, device="cpu", progress=False, metrics="basic")
    assert len(df) == len(sw) and list(df["config_hash"]) == sw.hashes
    assert df["code_version"].eq(code_version()).all() and df["sweep"].eq("match").all()
    for i, c in enumerate(sw.configs):
        row, m = df.iloc[i], res.metrics[i]
        assert (row["group"], row["train_frac"], row["seed"], row["width"]) == (c.group, c.train_frac, c.seed, c.width)
        assert row["n_train"] == res.n_train[i] == c.n_train and row["M"] == c.M
        for k in BASIC:
            assert row[f"final_{k}"] == pytest.approx(m[k][-1], rel=1e-6, abs=1e-7)
        assert row["best_test_acc"] == pytest.approx(np.nanmax(m["test_acc"]))
        hit = np.flatnonzero(m["test_acc"] >= 0.95)
        assert (pd.isna(row["grok_epoch"]) and hit.size == 0) or row["grok_epoch"] == res.eval_epochs[i][hit[0]]
        assert not row["diverged"] and row["final_epoch"] == c.epochs
    # the history is the run's rows of Results.frame()
    hist = load_history(store, "match")
    cols = ["run", "epoch", *BASIC, "group", "train_frac", "seed", "n_train"]
    pd.testing.assert_frame_equal(hist[cols], res.frame()[cols], check_dtype=False, rtol=1e-6)

    # re-running a finished sweep trains nothing and writes nothing
    before = load(store)
    df2 = run_sweep(sw, store, device="cpu", progress=False)
    assert count_train == [] and n_rows(store) == len(sw)
    pd.testing.assert_frame_equal(df2, df)
    pd.testing.assert_frame_equal(load(store), before)  # same run_ids and created_at
    # a grown sweep trains only its new run; load by name follows the sweep's order
    grown = Sweep("match", [*sw.configs, sw.configs[0].replace(seed=7)])
    df3 = run_sweep(grown, store, device="cpu", progress=False)
    assert count_train == [1] and list(df3["config_hash"]) == grown.hashes
    assert list(load(store, "match")["config_hash"]) == grown.hashes
    st = status(store)
    assert st.set_index("sweep").loc["match", ["total", "done", "left", "diverged"]].tolist() == [9, 9, 0, 0]


def test_diverging_run_is_recorded_and_others_are_fine(tmp_path):
    cfgs = expand_grid({**TINY, "group": "Z7"}, {"lr": [1e-2, 1e6, 2e-2]})
    sw = Sweep("div", cfgs)
    df = run_sweep(sw, tmp_path / "s.sqlite", device="cpu", progress=False)
    assert df["diverged"].tolist() == [False, True, False]
    ok = df[~df["diverged"]]
    assert np.isfinite(ok[[f"final_{k}" for k in BASIC]].to_numpy()).all()
    assert np.isnan(df.loc[1, "final_train_loss"])
    assert status(tmp_path / "s.sqlite")["diverged"].tolist() == [1]
    # history of the diverged run stores non-finite values as null -> NaN
    h = load_history(tmp_path / "s.sqlite", "div")
    assert h[h["run"] == 1]["train_loss"].isna().iloc[1:].all()


def test_code_version_tracks_sources(tmp_path, monkeypatch, count_train):
    src = sweep_mod.CODE_ROOT
    for f in (*CODE_FILES, "plots.py"):
        shutil.copy(src / f, tmp_path / f)
    v0 = code_version()
    monkeypatch.setattr(sweep_mod, "CODE_ROOT", tmp_path)
    assert code_version() == v0  # same bytes, same version
    with open(tmp_path / "plots.py", "a") as fh:  # not a training source
        fh.write("\n# edited\n")
    assert code_version() == v0
    with open(tmp_path / "groups.py", "a") as fh:
        fh.write("\n# edited\n")
    v1 = code_version()
    assert v1 != v0 and v1.split("+")[0] == v0.split("+")[0]

    # records of another code version do not count as done: the sweep trains again, old records stay
    store = tmp_path / "s.sqlite"
    monkeypatch.setattr(sweep_mod, "CODE_ROOT", src)
    sw = tiny_sweep("cv", group=["Z5"], seed=[0, 1])
    run_sweep(sw, store, device="cpu", progress=False)
    monkeypatch.setattr(sweep_mod, "code_version", lambda *a, **k: "9.9.9+feedfacefeedface")
    assert status(store)["stale"].tolist() == [2] and status(store)["done"].tolist() == [0]
    count_train.clear()
    df = run_sweep(sw, store, device="cpu", progress=False)
    assert count_train == [2] and df["code_version"].eq("9.9.9+feedfacefeedface").all()
    assert n_rows(store) == 4 and len(load(store, code_version="all")) == 4
    assert len(load(store)) == 2 and load(store)["code_version"].eq("9.9.9+feedfacefeedface").all()
    assert len(load(store, code_version=v0)) == 2 and len(load(store, code_version="current")) == 2


def test_killed_sweep_resumes_with_one_record_per_run(tmp_path, subprocess_env, capsys):
    """kill -9 mid-way, then re-run: exactly one record per config hash, and the hashes are the spec's."""
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump({"name": "killme", "base": {**TINY, "group": "Z7"},
                                    "grid": {"train_frac": [0.5, 0.7], "seed": list(range(30))}}))
    sw = Sweep.from_yaml(spec)
    store = tmp_path / "s.sqlite"
    cmd = [sys.executable, "-m", "li2core", "sweep", str(spec), "--store", str(store), "--max-batch", "1",
           "--device", "cpu", "--no-progress"]
    proc = subprocess.Popen(cmd, env=subprocess_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline, n = time.monotonic() + 60, 0
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if store.exists():
                try:
                    n = n_rows(store)
                except sqlite3.OperationalError:  # schema not created yet, or locked
                    n = 0
                if n >= 1:
                    break
            time.sleep(0.002)
        assert proc.poll() is None, f"sweep ended before it could be killed: {proc.stderr.read().decode()[-500:]}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stderr.close()
    killed_at = n_rows(store)
    assert 1 <= killed_at < len(sw), killed_at
    # resume: the same command line (in this process, to save a second torch start-up)
    rc, out, err = call(cmd[3:], capsys)
    assert rc == 0, err
    assert f"({len(sw) - killed_at} trained now" in out
    with sqlite3.connect(store) as c:
        counts = dict(c.execute("SELECT config_hash, COUNT(*) FROM runs GROUP BY config_hash"))
    assert set(counts) == set(sw.hashes) and set(counts.values()) == {1} and n_rows(store) == len(sw)


# ------------------------------------------------------------------------------------------ CLI
def call(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse errors
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_sweep_and_status(tmp_path, capsys):
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump({"name": "cli", "base": {**TINY, "group": "Z5"},
                                    "grid": {"lr": [1e-2, 1e6], "seed": [0, 1]}}))
    store = tmp_path / "s.sqlite"
    rc, out, err = call(["sweep", str(spec), "--store", str(store), "--device", "cpu", "--no-progress"], capsys)
    assert rc == 0, err
    assert "cli: 4/4 runs" in out and "2 diverged" in out
    rc, out, err = call(["sweep-status", "--store", str(store)], capsys)
    assert rc == 0 and "cli: 4/4 runs done, 2 diverged, 0 left" in out
    # a spec with more runs than the store holds: its runs left
    spec2 = tmp_path / "spec2.yml"
    spec2.write_text(yaml.safe_dump({"name": "cli", "base": {**TINY, "group": "Z5"},
                                     "grid": {"lr": [1e-2, 1e6], "seed": [0, 1, 2]}}))
    rc, out, err = call(["sweep-status", str(spec2), "--store", str(store)], capsys)
    assert rc == 0 and f"spec {spec2} (cli): 4/6 runs done, 2 diverged, 2 left" in out


def test_cli_errors_exit_2_with_one_line(tmp_path, capsys):
    good = tmp_path / "good.yml"
    good.write_text(yaml.safe_dump({"name": "g", "base": {**TINY, "group": "Z5"}, "grid": {"seed": [0]}}))
    specs = {
        "widht": {"name": "b", "base": TINY, "grid": {"widht": [8]}},
        "width:": {"name": "b", "base": TINY, "grid": {"width": [0]}},
        "name:": {"base": TINY, "grid": {"seed": [0]}},
        "metrics:": {"name": "b", "base": TINY, "grid": {"seed": [0]}, "metrics": "most"},
    }
    cases = []
    for i, (msg, s) in enumerate(specs.items()):
        p = tmp_path / f"bad{i}.yml"
        p.write_text(yaml.safe_dump(s))
        cases.append((["sweep", str(p), "--store", str(tmp_path / "x.sqlite")], msg))
    (tmp_path / "broken.yml").write_text("name: [x\n")
    store = str(tmp_path / "s.sqlite")
    cases += [
        (["sweep", str(tmp_path / "broken.yml"), "--store", store], "YAML"),
        (["sweep", str(tmp_path / "missing.yml"), "--store", store], "spec:"),
        (["sweep", str(good), "--store", store, "--max-batch", "0"], "max_batch:"),
        (["sweep", str(good), "--store", store, "--device", "tpu"], "device:"),
        (["sweep", str(good), "--store", store, "--executor", "cloud"], "invalid choice"),
        (["sweep", str(good), "--store", store, "--slurm-partition", "gpu"], "--slurm"),
        (["sweep", str(good)], "--store"),
        (["sweep", str(good), "--store", str(tmp_path / "no" / "s.sqlite")], "store:"),
        (["sweep-status", "--store", str(tmp_path / "none.sqlite")], "store:"),
        (["sweep-status", str(tmp_path / "broken.yml"), "--store", store], "YAML"),
    ]
    for argv, msg in cases:
        rc, out, err = call(argv + ["--no-progress"] * (argv[0] == "sweep" and "--store" in argv), capsys)
        assert rc == 2, (argv, out, err)
        assert err.count("\n") == 1 and msg in err and "Traceback" not in err, (argv, err)
    assert not (tmp_path / "x.sqlite").exists()  # nothing written for an invalid spec


def test_cli_error_subprocess(tmp_path, subprocess_env):
    p = tmp_path / "bad.yml"
    p.write_text(yaml.safe_dump({"name": "b", "base": TINY, "grid": {"group": ["Z5", "S5"]}}))
    r = subprocess.run([sys.executable, "-m", "li2core", "sweep", str(p), "--store", str(tmp_path / "s.sqlite")],
                       env=subprocess_env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "group:" in r.stderr, r.stderr


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


def test_richer_metric_set_retrains_and_replaces(tmp_path, count_train):
    sw = tiny_sweep("m", group=["Z5"], seed=[0, 1])
    store = tmp_path / "s.sqlite"
    run_sweep(sw, store, device="cpu", progress=False)
    df = run_sweep(Sweep("m", sw.configs, metrics=["G_F_norm"]), store, device="cpu", progress=False)
    assert count_train == [2, 2] and n_rows(store) == 2  # replaced, not duplicated
    assert all("G_F_norm" in json.loads(m) for m in df["metrics"])
    assert "G_F_norm" in load_history(store, "m").columns
    run_sweep(sw, store, device="cpu", progress=False)  # basic is covered by the richer record
    assert count_train == [2, 2]
