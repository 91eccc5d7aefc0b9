"""The sweep store (li2core.sweep.store): records equal to train(), resume (also after kill -9), divergence,
the code version (files and folders of CODE_FILES) and replacing a record by a richer one."""
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

from li2core.cli import main
from li2core.sweep import (
    CODE_FILES,
    Sweep,
    code_version,
    expand_grid,
    load,
    load_history,
    run_sweep,
    status,
)
from li2core.sweep import store as store_mod
from li2core.train import METRIC_SETS, train

TINY = dict(width=8, epochs=20, eval_every=5, lr=1e-2, weight_decay=1e-3)
BASIC = list(METRIC_SETS["basic"])


def tiny_sweep(name: str = "tiny", **grid) -> Sweep:
    grid = grid or {"group": ["Z5", "Z7"], "train_frac": [0.5, 0.8], "seed": [0, 1]}
    return Sweep(name, expand_grid(TINY, grid))


def n_rows(store) -> int:
    with sqlite3.connect(store) as c:
        return c.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


def copy_code(src, dst) -> None:
    """Copy what CODE_FILES names (files and folders) from ``src`` to ``dst``."""
    for f in CODE_FILES:
        if (src / f).is_dir():
            shutil.copytree(src / f, dst / f, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src / f, dst / f)


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
    src = store_mod.CODE_ROOT
    copy_code(src, tmp_path)
    (tmp_path / "plots.py").write_text("# a source of li2core that is not in CODE_FILES\n")
    assert "plots.py" not in CODE_FILES
    v0 = code_version()
    monkeypatch.setattr(store_mod, "CODE_ROOT", tmp_path)
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
    monkeypatch.setattr(store_mod, "CODE_ROOT", src)
    sw = tiny_sweep("cv", group=["Z5"], seed=[0, 1])
    run_sweep(sw, store, device="cpu", progress=False)
    monkeypatch.setattr(store_mod, "code_version", lambda *a, **k: "9.9.9+feedfacefeedface")
    assert status(store)["stale"].tolist() == [2] and status(store)["done"].tolist() == [0]
    count_train.clear()
    df = run_sweep(sw, store, device="cpu", progress=False)
    assert count_train == [2] and df["code_version"].eq("9.9.9+feedfacefeedface").all()
    assert n_rows(store) == 4 and len(load(store, code_version="all")) == 4
    assert len(load(store)) == 2 and load(store)["code_version"].eq("9.9.9+feedfacefeedface").all()
    assert len(load(store, code_version=v0)) == 2 and len(load(store, code_version="current")) == 2


def test_code_version_folders_cover_every_py_file_below(tmp_path, monkeypatch):
    """A CODE_FILES entry that is a folder (``models``) stands for all ``*.py`` files below it, recursively."""
    assert "models" in CODE_FILES and (store_mod.CODE_ROOT / "models").is_dir()
    copy_code(store_mod.CODE_ROOT, tmp_path)
    v0 = code_version()
    monkeypatch.setattr(store_mod, "CODE_ROOT", tmp_path)
    assert code_version() == v0
    models = tmp_path / "models"
    (models / "notes.txt").write_text("not a source\n")  # only *.py files count
    (models / "__pycache__").mkdir(exist_ok=True)
    (models / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    assert code_version() == v0
    (models / "family").mkdir()
    (models / "family" / "deep.py").write_text("# a new model family\n")  # a new file, one level down
    v1 = code_version()
    assert v1 != v0
    (models / "family" / "deep.py").write_text("# a new model family, edited\n")
    v2 = code_version()
    assert v2 not in (v0, v1)
    # a file enters with its path relative to the root: the same bytes elsewhere give another version
    (models / "family" / "deep.py").rename(models / "deep.py")
    (models / "deep.py").write_text("# a new model family, edited\n")
    assert code_version() not in (v0, v1, v2)
    # explicit root / files, and the sorted order (the order of the entries does not matter)
    assert code_version(tmp_path, ["groups.py", "models"]) == code_version(tmp_path, ["models", "groups.py"])


def test_code_version_missing_entry_is_a_clear_error(tmp_path, monkeypatch):
    copy_code(store_mod.CODE_ROOT, tmp_path)
    monkeypatch.setattr(store_mod, "CODE_ROOT", tmp_path)
    shutil.rmtree(tmp_path / "models")
    with pytest.raises(FileNotFoundError, match="CODE_FILES entry 'models' does not exist"):
        code_version()
    (tmp_path / "models").mkdir()
    with pytest.raises(FileNotFoundError, match="'models' is a folder without \\*.py files"):
        code_version()
    with pytest.raises(FileNotFoundError, match="'nope.py'"):
        code_version(tmp_path, ["groups.py", "nope.py"])


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
    rc = main(cmd[3:])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert f"({len(sw) - killed_at} trained now" in out
    with sqlite3.connect(store) as c:
        counts = dict(c.execute("SELECT config_hash, COUNT(*) FROM runs GROUP BY config_hash"))
    assert set(counts) == set(sw.hashes) and set(counts.values()) == {1} and n_rows(store) == len(sw)


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


def test_variant_fields_round_trip_and_default_rows_read_as_defaults(tmp_path):
    from li2core.train import LATE_FIELDS

    base = dict(TINY, group="Z5", train_frac=0.6, epochs=4, eval_every=2)
    sw = Sweep("variants", expand_grid(base, {"seed": [0]}) + expand_grid(
        {**base, "extra_layers": 1, "ridge_V": 1e-2, "output_scale": 2.0}, {"seed": [0]})
        + expand_grid({**base, "complex_weights": True}, {"seed": [1]}))
    store = tmp_path / "v.sqlite"
    run_sweep(sw, store, device="cpu", progress=False)
    df = load(store, sw)
    assert list(df.extra_layers) == [0, 1, 0] and list(df.complex_weights) == [False, False, True]
    assert list(df.output_scale) == [1.0, 2.0, 1.0] and df.ridge_V.iloc[1] == 1e-2 and np.isnan(df.ridge_V.iloc[0])
    assert df.family.isna().all()
    with sqlite3.connect(store) as c:  # the default config's row has NULL there (its hash and config JSON are old)
        row = c.execute("SELECT extra_layers, complex_weights, output_scale, config FROM runs ORDER BY run_id").fetchone()
    assert row[:3] == (None, None, None) and not set(json.loads(row[3])) & set(LATE_FIELDS)
    hist = load_history(store, sw)
    assert set(hist.groupby("run").extra_layers.first()) == {0, 1}
