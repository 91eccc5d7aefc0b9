"""Command line (li2core.cli): ``train`` (as a subprocess and in-process), ``sweep`` / ``sweep-status`` (the
handlers over li2core.sweep) and ``book`` (runs tools/build_book.py)."""
from __future__ import annotations

import argparse
import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import li2core.cli as cli_mod
from li2core.cli import main, parse_seeds
from li2core.tasks import critical_train_frac
from li2core.train import LATE_FIELDS, METRICS, TrainConfig

TINY = ["--group", "Z5", "--width", "4", "--epochs", "2", "--no-progress", "--device", "cpu"]

# (extra arguments, the field or option stderr must name); the tiny base arguments come first, so an argument
# the CLI fails to reject trains a tiny net instead of the 400-epoch default.
BAD = {
    "unknown group": (["--group", "Q5"], "group:"),
    "bad seeds": (["--seeds", "a-b"], "--seeds"),
    "reversed seeds": (["--seeds", "5-2"], "--seeds"),
    "negative lr": (["--lr", "-1"], "lr:"),
    "unknown activation": (["--activation", "tanh"], "activation:"),
    "unknown loss": (["--loss", "mse"], "loss:"),
    "unknown optimizer": (["--optimizer", "lion"], "optimizer:"),
    "missing out": (None, "--out"),
    "train-frac 1.5": (["--train-frac", "1.5"], "train_frac:"),
    "train-frac 0": (["--train-frac", "0"], "train_frac:"),
    "width 0": (["--width", "0"], "width:"),
    "epochs not an int": (["--epochs", "x"], "--epochs"),
    "negative weight decay": (["--weight-decay", "-0.1"], "weight_decay:"),
    "max-batch 0": (["--max-batch", "0"], "max_batch:"),
    "unknown device": (["--device", "tpu"], "device:"),
    "both train-frac and critical-delta": (["--train-frac", "0.5", "--critical-delta", "0"], "train_frac:"),
    "unknown command": ("NOCMD", "invalid choice"),
    "negative extra layers": (["--extra-layers", "-1"], "--extra-layers"),
    "extra layers not an int": (["--extra-layers", "1.5"], "--extra-layers"),
    "complex with relu": (["--complex-weights", "--activation", "relu"], "--complex-weights"),
    "ridge 0": (["--ridge-V", "0"], "--ridge-V"),
    "ridge with nll": (["--ridge-V", "1e-3", "--loss", "nll"], "--ridge-V"),
    "ridge not a number": (["--ridge-V", "x"], "--ridge-V"),
    "output scale nan": (["--output-scale", "nan"], "--output-scale"),
    "output scale 0": (["--output-scale", "0"], "--output-scale"),
    "two_layer with a variant": (["--family", "two_layer", "--extra-layers", "1"], "--family"),
    "imaginary init without complex weights": (["--complex-imag-init", "0.5"], "--complex-imag-init"),
}


# The cases run as real subprocesses (each pays a ~2 s CPU torch import, so not all of them): one per
# error path (config validation, argparse type error, argparse missing argument). Every case also runs
# in-process through main(), where an uncaught exception would fail the test just as a traceback would.
SUBPROCESS = ["unknown group", "bad seeds", "negative lr", "unknown activation", "missing out", "train-frac 1.5",
              "ridge 0"]


def _argv(extra, out):
    if extra == "NOCMD":
        return ["fly"]
    argv = ["train", *TINY]
    if extra is not None:
        argv += [*extra, "--out", str(out)]
    return argv


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory, subprocess_env):
    """Start the bad-argument commands at once (each pays the torch import) and collect them."""
    d = tmp_path_factory.mktemp("cli_bad")
    procs = {}
    for i, key in enumerate(SUBPROCESS):
        out = d / f"bad{i}.csv"
        cmd = [sys.executable, "-m", "li2core", *_argv(BAD[key][0], out)]
        procs[key] = (subprocess.Popen(cmd, cwd=d, env=subprocess_env, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE), out)
    results = {}
    for key, (p, out) in procs.items():
        stdout, stderr = p.communicate(timeout=300)
        results[key] = (p.returncode, stdout, stderr, out)
    return results


def _check_one_line(rc, stdout, stderr, out, word):
    assert rc == 2, (rc, stderr)
    assert "Traceback" not in stderr and "Traceback" not in stdout
    lines = stderr.splitlines()
    assert len(lines) == 1 and stderr.endswith("\n"), stderr
    assert "error" in lines[0] and word in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("key", SUBPROCESS)
def test_bad_arguments_exit_2_with_one_line(bad_runs, key):
    _check_one_line(*bad_runs[key], BAD[key][1])


@pytest.mark.parametrize("key", list(BAD))
def test_bad_arguments_in_process(key, tmp_path, capsys):
    out = tmp_path / "x.csv"
    try:
        rc = main(_argv(BAD[key][0], out))
    except SystemExit as e:  # argparse errors
        rc = e.code
    captured = capsys.readouterr()
    _check_one_line(rc, captured.out, captured.err, out, BAD[key][1])


def test_train_writes_the_tidy_csv(tmp_path, subprocess_env):
    out = tmp_path / "tmp.csv"
    cmd = [sys.executable, "-m", "li2core", "train", "--group", "Z7", "--width", "16", "--epochs", "5",
           "--seeds", "0-2", "--out", str(out), "--no-progress", "--device", "cpu"]
    p = subprocess.run(cmd, cwd=tmp_path, env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert "18 rows (3 runs)" in p.stdout
    df = pd.read_csv(out)
    assert len(df) == 3 * 6  # 3 runs x epochs 0..5
    assert list(df.columns[:2]) == ["run", "epoch"]
    from li2core.train import _SEQ_ONLY  # the MED nets' metrics: columns only in frames with a MED net
    li2_metrics = [m for m in METRICS if m not in _SEQ_ONLY]
    assert list(df.columns[2 : 2 + len(li2_metrics)]) == li2_metrics
    fields = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in LATE_FIELDS]
    assert set(fields + ["M", "p", "n_train", "diverged"]) <= set(df.columns)
    assert not set(LATE_FIELDS) & set(df.columns)  # fields added later are columns only when a run sets them
    for r in range(3):
        sub = df[df.run == r]
        assert sub.epoch.tolist() == [0, 1, 2, 3, 4, 5]
        assert (sub.seed == r).all()
    assert (df.group == "Z7").all() and (df.width == 16).all() and (df.train_frac == 0.4).all()
    assert (df.n_train == 49 - math.ceil(0.6 * 49)).all()  # = 19
    assert df.train_loss.notna().all() and df.test_acc.notna().all()
    assert df[df.epoch == 0].dW_cos_dist.isna().all() and df[df.epoch > 0].dW_cos_dist.notna().all()


def test_train_grid_and_critical_delta(tmp_path, subprocess_env):
    out = tmp_path / "grid.csv"
    cmd = [sys.executable, "-m", "li2core", "train", "--group", "Z11", "--width", "8", "--epochs", "4",
           "--eval-every", "2", "--critical-delta", "0", "0.5", "--lr", "1e-3", "1e-2", "--seeds", "3,5",
           "--optimizer", "sgd", "--loss", "nll", "--out", str(out), "--no-progress", "--device", "cpu"]
    p = subprocess.run(cmd, cwd=tmp_path, env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(out)
    assert df.run.nunique() == 2 * 2 * 2
    assert len(df) == 8 * 3  # epochs 0, 2, 4
    assert sorted(df.epoch.unique()) == [0, 2, 4]
    assert df.train_frac.isna().all()
    assert set(df.seed) == {3, 5} and set(df.lr) == {1e-3, 1e-2} and set(df.critical_delta) == {0.0, 0.5}
    for delta in (0.0, 0.5):
        p_ = critical_train_frac(11, delta)
        sub = df[df.critical_delta == delta]
        assert (sub.n_train == 121 - math.ceil((1 - p_) * 121 - 1e-9)).all()
        assert sub.p.to_numpy() == pytest.approx(p_, rel=1e-12)
    assert (df.optimizer == "sgd").all() and (df.loss == "nll").all()


def test_train_with_muon_equals_the_library(tmp_path, subprocess_env):
    """``--optimizer muon`` trains the author's Muon-on-W / Adam-on-V setup: the same numbers as li2core.train."""
    from li2core.train import TrainConfig, train

    out = tmp_path / "muon.csv"
    cmd = [sys.executable, "-m", "li2core", "train", "--group", "Z7", "--width", "6", "--epochs", "5", "--eval-every",
           "5", "--optimizer", "muon", "--lr", "0.02", "--weight-decay", "0.01", "--seeds", "1", "--out", str(out),
           "--no-progress", "--device", "cpu"]
    p = subprocess.run(cmd, cwd=tmp_path, env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    df = pd.read_csv(out)
    assert (df.optimizer == "muon").all() and sorted(df.epoch) == [0, 5]
    ref = train([TrainConfig(group="Z7", width=6, epochs=5, eval_every=5, optimizer="muon", lr=0.02, weight_decay=0.01,
                             seed=1)], device="cpu", progress=False)
    np.testing.assert_allclose(df.train_loss.to_numpy(), ref.metrics[0]["train_loss"], rtol=1e-6)
    adam = train([TrainConfig(group="Z7", width=6, epochs=5, eval_every=5, lr=0.02, weight_decay=0.01, seed=1)],
                 device="cpu", progress=False)
    assert abs(adam.metrics[0]["train_loss"][-1] - df.train_loss.iloc[-1]) > 1e-6  # not Adam under another name


@pytest.mark.parametrize("text,expected", [
    ("0-14", list(range(15))),
    ("0,3,7", [0, 3, 7]),
    ("5", [5]),
    ("0-2,9", [0, 1, 2, 9]),
    (" 1 , 4-5 ", [1, 4, 5]),
    ("7-7", [7]),
])
def test_parse_seeds(text, expected):
    assert parse_seeds(text) == expected


@pytest.mark.parametrize("text", ["a-b", "", "1,,2", "x", "3-1", "-1", "1.5", "0-2-4"])
def test_parse_seeds_rejects(text):
    with pytest.raises(argparse.ArgumentTypeError) as ei:
        parse_seeds(text)
    assert "seeds" in str(ei.value)


def test_critical_delta_help_formats_the_constant(capsys):
    from li2core.tasks import CRITICAL_C

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert f"({CRITICAL_C} - delta) ln M / M" in " ".join(capsys.readouterr().out.split())


# ------------------------------------------------------------------------------------------ sweep, sweep-status
SWEEP_TINY = dict(width=8, epochs=20, eval_every=5, lr=1e-2, weight_decay=1e-3)  # TrainConfig fields


def call(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse errors
        rc = e.code
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_sweep_and_status(tmp_path, capsys):
    spec = tmp_path / "spec.yml"
    spec.write_text(yaml.safe_dump({"name": "cli", "base": {**SWEEP_TINY, "group": "Z5"},
                                    "grid": {"lr": [1e-2, 1e6], "seed": [0, 1]}}))
    store = tmp_path / "s.sqlite"
    rc, out, err = call(["sweep", str(spec), "--store", str(store), "--device", "cpu", "--no-progress"], capsys)
    assert rc == 0, err
    assert "cli: 4/4 runs" in out and "2 diverged" in out
    rc, out, err = call(["sweep-status", "--store", str(store)], capsys)
    assert rc == 0 and "cli: 4/4 runs done, 2 diverged, 0 left" in out
    # a spec with more runs than the store holds: its runs left
    spec2 = tmp_path / "spec2.yml"
    spec2.write_text(yaml.safe_dump({"name": "cli", "base": {**SWEEP_TINY, "group": "Z5"},
                                     "grid": {"lr": [1e-2, 1e6], "seed": [0, 1, 2]}}))
    rc, out, err = call(["sweep-status", str(spec2), "--store", str(store)], capsys)
    assert rc == 0 and f"spec {spec2} (cli): 4/6 runs done, 2 diverged, 2 left" in out


def test_cli_sweep_errors_exit_2_with_one_line(tmp_path, capsys):
    good = tmp_path / "good.yml"
    good.write_text(yaml.safe_dump({"name": "g", "base": {**SWEEP_TINY, "group": "Z5"}, "grid": {"seed": [0]}}))
    specs = {
        "widht": {"name": "b", "base": SWEEP_TINY, "grid": {"widht": [8]}},
        "width:": {"name": "b", "base": SWEEP_TINY, "grid": {"width": [0]}},
        "name:": {"base": SWEEP_TINY, "grid": {"seed": [0]}},
        "metrics:": {"name": "b", "base": SWEEP_TINY, "grid": {"seed": [0]}, "metrics": "most"},
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


def test_cli_sweep_error_subprocess(tmp_path, subprocess_env):
    p = tmp_path / "bad.yml"
    p.write_text(yaml.safe_dump({"name": "b", "base": SWEEP_TINY, "grid": {"group": ["Z5", "S5"]}}))
    r = subprocess.run([sys.executable, "-m", "li2core", "sweep", str(p), "--store", str(tmp_path / "s.sqlite")],
                       env=subprocess_env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "group:" in r.stderr, r.stderr


# ------------------------------------------------------------------------------------------ book
def test_book_runs_tools_build_book_with_the_arguments(tmp_path, monkeypatch, capfd):
    assert cli_mod.BOOK_SCRIPT == Path(cli_mod.__file__).resolve().parents[1] / "tools" / "build_book.py"
    fake = tmp_path / "tools" / "build_book.py"
    fake.parent.mkdir()
    fake.write_text("import sys\nprint('args', sys.argv[1:])\nraise SystemExit(3)\n")
    monkeypatch.setattr(cli_mod, "BOOK_SCRIPT", fake)
    assert main(["book", "--profile", "fast", "x"]) == 3  # its exit status
    assert "args ['--profile', 'fast', 'x']" in capfd.readouterr().out


def test_book_without_the_repository_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli_mod, "BOOK_SCRIPT", tmp_path / "tools" / "build_book.py")  # not there
    rc = main(["book", "--profile", "fast"])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("li2core book: error: ") and "tools/build_book.py" in err, err


def test_train_variant_flags_reach_the_configs(tmp_path, capsys):
    out = tmp_path / "v.csv"
    rc = main(["train", *TINY, "--extra-layers", "2", "--complex-weights", "--ridge-V", "0.01", "--output-scale",
               "2.5", "--seeds", "0,1", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    df = pd.read_csv(out)
    assert (df.extra_layers == 2).all() and df.complex_weights.all() and (df.ridge_V == 0.01).all()
    assert (df.output_scale == 2.5).all() and df.W_purity.notna().all() and df.train_loss.notna().all()
    out2 = tmp_path / "f.csv"
    assert main(["train", *TINY, "--family", "deep", "--out", str(out2)]) == 0
    assert (pd.read_csv(out2).family == "deep").all()


MED_TINY = ["--p", "7", "--epochs", "3", "--d-model", "8", "--width", "16", "--no-progress", "--device", "cpu"]


def test_med_models_train_from_the_command_line_as_the_library_does(tmp_path, capsys):
    from li2core.train import med_config, train

    out = tmp_path / "t.csv"
    rc = main(["train", "--model", "transformer", "--layers", "2", "--op", "add", "--train-frac", "0.5",
               "--seeds", "0-1", *MED_TINY, "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    df = pd.read_csv(out)
    for col in ("train_acc", "test_acc", "train_loss", "test_loss", "med", "med_code", "emb_norm", "weight_norm"):
        assert df[col].notna().all(), col
    assert "G_F_norm" not in df.columns  # the Li2 metrics are not this family's
    assert (df.family == "transformer").all() and (df.n_layers == 2).all() and (df.split == "shuffle").all()
    assert sorted(df.epoch.unique()) == [0, 3]  # --eval-every defaults to 10 for the MED nets, and the last epoch
    lib = train([med_config("transformer", p=7, n_layers=2, train_frac=0.5, epochs=3, d_model=8, width=16,
                            eval_every=10, seed=s) for s in (0, 1)], device="cpu", progress=False).frame()
    np.testing.assert_allclose(df.med.to_numpy(), lib.med.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(df.test_loss.to_numpy(), lib.test_loss.to_numpy(), rtol=1e-6)
    for split, flag, k in (("square", "--k", 3), ("strip", "--t", 2)):
        o = tmp_path / f"{split}.csv"
        assert main(["train", "--model", "mlp", "--split", split, flag, str(k), *MED_TINY, "--out", str(o)]) == 0
        d = pd.read_csv(o)
        assert (d.family == "mlp").all() and (d.split == split).all() and (d.dugout == k).all()
        assert d.med_hidden.notna().all()


MED_BAD = {
    "op over a composite": (["--model", "transformer", "--p", "9", "--op", "mul"], "op:"),
    "square without k": (["--model", "transformer", "--p", "7", "--split", "square"], "dugout:"),
    "k without square": (["--model", "mlp", "--p", "7", "--k", "3"], "dugout:"),
    "k too large": (["--model", "mlp", "--p", "7", "--split", "square", "--k", "7"], "dugout:"),
    "unknown model": (["--model", "cnn", "--p", "7"], "family:"),
    "zero layers": (["--model", "transformer", "--p", "7", "--layers", "0"], "n_layers:"),
    "heads do not divide": (["--model", "transformer", "--p", "7", "--heads", "3"], "n_heads:"),
    "unknown op": (["--model", "transformer", "--p", "7", "--op", "pow"], "op:"),
    "unknown split": (["--model", "transformer", "--p", "7", "--split", "ring"], "split:"),
    "p and group": (["--model", "transformer", "--p", "7", "--group", "Z7"], "group:"),
    "beta2 on the fast path": (["--group", "Z5", "--beta2", "0.98"], "beta1:"),
    "offset on the Li2 net": (["--group", "Z5", "--token-offset", "3"], "token_offset:"),
}


@pytest.mark.parametrize("key", list(MED_BAD))
def test_bad_med_arguments_exit_2_with_one_line_naming_the_field(key, tmp_path, capsys):
    args, field = MED_BAD[key]
    out = tmp_path / "x.csv"
    rc = main(["train", *args, "--epochs", "1", "--no-progress", "--device", "cpu", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and field in err and "Traceback" not in err, err
    assert not out.exists()


def test_resnet_trains_from_the_command_line_as_the_library_does(tmp_path, capsys):
    from li2core.train import resnet_config, train

    out = tmp_path / "r.csv"
    rc = main(["train", "--model", "resnet", "--shapes", "0,3,4", "--image-size", "16", "--stem", "small",
               "--width", "4", "--minibatch", "7", "--epochs", "2", "--eval-every", "1", "--device", "cpu",
               "--no-progress", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    df = pd.read_csv(out)
    assert (df.family == "resnet").all() and (df.shapes == "0,3,4").all() and (df.minibatch == 7).all()
    assert (df.n_train == 20).all() and (df.weight_decay == 1e-4).all() and "med" not in df.columns
    lib = train(resnet_config(shapes=(0, 3, 4), image_size=16, stem="small", width=4, minibatch=7, epochs=2,
                              eval_every=1), device="cpu", progress=False).frame()
    np.testing.assert_allclose(df.test_loss.to_numpy(), lib.test_loss.to_numpy(), rtol=1e-6)
    rc = main(["train", "--model", "resnet", "--shapes", "0,3", "--stem", "big", "--out", str(out)])
    assert rc == 2 and "stem:" in capsys.readouterr().err
