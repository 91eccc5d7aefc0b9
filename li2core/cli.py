"""Command line: ``python -m li2core train ...`` (and ``book``, ``sweep``, ``sweep-status``).

argparse and thin handlers over the library (which never imports this module). ``book`` runs the repository's
``tools/build_book.py`` as a subprocess. Bad arguments exit with status 2 and one line naming the problem,
never a traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .sweep import EXECUTORS, Sweep, code_version, load, run_sweep, status
from .sweep.spec import parse_seeds
from .tasks import CRITICAL_C
from .train import resolve_device

__all__ = ["main", "parse_seeds"]

#: The book build driver (``main(argv) -> int``), a script of the repository, not of the installed package.
BOOK_SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "build_book.py"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as a single line and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _build_parser() -> _Parser:
    p = _Parser(prog="li2core", description="li2core: batched training of two-layer nets on group tasks")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train a grid of configs and write the tidy metrics frame as CSV",
                       description="Defaults in brackets [Li2 nets / MED nets]: --model transformer or mlp starts "
                                   "from the MED authors' settings (li2core.train.med_config).")
    t.add_argument("--group", default=None, help="group name, e.g. Z71, Z4xZ7, Z2xZ2xZ9 [Z71 / Z97]")
    t.add_argument("--p", type=int, default=None, help="a prime p: the same as --group Z<p>")
    t.add_argument("--model", default=None,
                   help="the model family: two_layer | deep | transformer | mlp | resnet (the same as --family)")
    t.add_argument("--op", default=None, help="operation over Z_p giving the label: add | sub | mul | x2y2 | x2xyy2 "
                                              "| x3y3 | x3xyy3 | xpy2 [the group law / add]")
    t.add_argument("--split", default=None,
                   help="random (the Li2 author's) | shuffle (the MED authors' random split) | square | strip "
                        "[random / shuffle]")
    t.add_argument("--k", type=int, default=None, help="size k of the square dug-out (with --split square)")
    t.add_argument("--t", type=int, default=None, help="size t of the strip dug-out (with --split strip)")
    t.add_argument("--layers", type=int, default=None, help="transformer blocks [1]")
    t.add_argument("--d-model", type=int, default=None, help="transformer / mlp embedding width [128]")
    t.add_argument("--heads", type=int, default=None, help="transformer attention heads [4]")
    t.add_argument("--token-offset", type=int, default=None, help="the MED authors' d: second operand ids start at d [0]")
    t.add_argument("--beta1", type=float, default=None, help="Adam's beta1 [0.9]")
    t.add_argument("--beta2", type=float, default=None, help="Adam's beta2 [0.999 / 0.98]")
    t.add_argument("--shapes", default=None, help="resnet: the dictionary of side counts, e.g. 0,3,4,5 [the authors' "
                                                  "0,3,...,12] (li2core.train.resnet_config)")
    t.add_argument("--image-size", type=int, default=None, help="resnet: image side in px [224]")
    t.add_argument("--stem", default=None, help="resnet: imagenet | small [imagenet]")
    t.add_argument("--minibatch", type=int, default=None, help="resnet: minibatch size; one epoch per step [200]")
    t.add_argument("--warmup-steps", type=int, default=None, help="linear lr warm-up steps [0 / 10]")
    t.add_argument("--train-frac", type=float, nargs="+", default=None,
                   help="training fraction(s) in (0, 1] [0.4 / 0.3]")
    t.add_argument("--critical-delta", type=float, nargs="+", default=None,
                   help=f"use the critical-ratio rule p = ({CRITICAL_C} - delta) ln M / M instead of --train-frac")
    t.add_argument("--width", type=int, default=None, help="hidden width K (MED nets: d_mlp) [2048 / 512]")
    t.add_argument("--activation", default=None, help="sqr | relu | silu | relusqr [sqr / relu]")
    t.add_argument("--loss", default=None, help="mse_class | mse_sample | nll (cross-entropy) [mse_class / nll]")
    t.add_argument("--optimizer", default=None,
                   help="adam | adamw | sgd | muon (the author's: Muon on W, Adam on V) [adam / adamw]")
    t.add_argument("--lr", type=float, nargs="+", default=None, help="learning rate(s) [1e-3]")
    t.add_argument("--weight-decay", type=float, nargs="+", default=None, help="weight decay(s) [2e-4 / 1.0]")
    t.add_argument("--epochs", type=int, default=400, help="optimizer steps, full batch (default 400)")
    t.add_argument("--seeds", type=parse_seeds, default=[0], help="seeds: '0-14', '0,3,7' or '5' (default 0)")
    t.add_argument("--eval-every", type=int, default=None, help="metrics every N epochs [1 / 10]")
    t.add_argument("--top-init", type=float, default=1.0, help="top-layer init multiplier, 0 = zero-init")
    t.add_argument("--extra-layers", type=int, default=0,
                   help="L extra K x K hidden layers x <- sigma(x + x U) (the author's other_layers; default 0)")
    t.add_argument("--complex-weights", action="store_true",
                   help="the author's use_complex_weights: complex W, U, V; the loss reads the real part (sqr, silu)")
    t.add_argument("--complex-imag-init", type=float, default=0.0,
                   help="not the author's: with --complex-weights, draw imaginary parts too, times this (default 0)")
    t.add_argument("--ridge-V", type=float, default=None,
                   help="the author's set_weight_reg: V <- SVD ridge readout (this lambda > 0) before every step")
    t.add_argument("--output-scale", type=float, default=1.0, help="the author's output_multiplier beta (default 1)")
    t.add_argument("--family", default=None, help="model family: two_layer | deep (default: two_layer unless a "
                                                  "variant flag is set; deep trains through autograd)")
    t.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    t.add_argument("--max-batch", type=int, default=None, help="at most this many runs per tensor program")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.add_argument("--out", required=True, help="CSV file for the tidy frame (one row per run and epoch)")
    # sweep / sweep-status: grids of runs in a resumable SQLite store (li2core.sweep)
    sw = sub.add_parser("sweep", help="train a sweep spec (YAML) into a resumable SQLite store (see li2core.sweep)")
    sw.add_argument("spec", help="YAML spec: name, base, grid / zip / configs, metrics")
    sw.add_argument("--store", required=True, help="SQLite file for the records (created if missing)")
    sw.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    sw.add_argument("--max-batch", type=int, default=None, help="at most this many runs per batch (= per write, per job)")
    sw.add_argument("--executor", default="local", choices=list(EXECUTORS),
                    help="local: train here (default); slurm: one submitit job per batch; submitit-local/-debug: tests")
    sw.add_argument("--submitit-folder", default=None, help="submitit's job folder (default <store>-submitit/)")
    sw.add_argument("--slurm-partition", default=None, help="slurm partition")
    sw.add_argument("--slurm-time", type=int, default=None, help="job time limit in minutes")
    sw.add_argument("--slurm-gpus", type=int, default=None, help="GPUs per job")
    sw.add_argument("--slurm-cpus", type=int, default=None, help="CPUs per job")
    sw.add_argument("--slurm-mem-gb", type=float, default=None, help="memory per job (GB)")
    sw.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    ss = sub.add_parser("sweep-status", help="runs done / total / diverged per sweep in a store (and for a spec)")
    ss.add_argument("spec", nargs="?", default=None, help="optional YAML spec: also report its runs left")
    ss.add_argument("--store", required=True, help="the SQLite store")
    # (``book ARGS`` is dispatched in main before parsing: ARGS go to tools/build_book.py unparsed)
    b = sub.add_parser("book", help="execute the notebooks and build the HTML book (runs tools/build_book.py)")
    b.add_argument("args", nargs=argparse.REMAINDER, help="arguments for tools/build_book.py (see its --help)")
    return p


#: TrainConfig field -> the train flag that sets it (named after a rejected value's message).
_FLAGS = {"extra_layers": "--extra-layers", "complex_weights": "--complex-weights", "ridge_V": "--ridge-V",
          "output_scale": "--output-scale", "family": "--family/--model", "top_layer_init_multiplier": "--top-init",
          "complex_imag_init": "--complex-imag-init", "op": "--op", "split": "--split", "dugout": "--k/--t",
          "token_offset": "--token-offset", "n_layers": "--layers", "d_model": "--d-model", "n_heads": "--heads",
          "beta1": "--beta1", "beta2": "--beta2", "warmup_steps": "--warmup-steps", "group": "--group/--p",
          "shapes": "--shapes", "image_size": "--image-size", "stem": "--stem", "minibatch": "--minibatch"}
#: What the MED nets' runs report (the frame's metric columns for --model transformer / mlp).
MED_METRICS = ("train_acc", "test_acc", "train_loss", "test_loss", "med", "med_code", "med_hidden", "emb_norm",
               "weight_norm", "W_purity")


def _train_fields(ns: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    """The config fields the flags give (family defaults filled in) and whether the family is a MED net."""
    from .train import med_config, resnet_config

    if ns.model is not None and ns.family is not None and ns.model != ns.family:
        raise ValueError(f"family: --model {ns.model} and --family {ns.family} disagree; give one")
    family = ns.model if ns.model is not None else ns.family
    if ns.p is not None and ns.group is not None:
        raise ValueError("group: give either --group or --p, not both")
    group = f"Z{ns.p}" if ns.p is not None else ns.group
    seq = family in ("transformer", "mlp")
    if ns.k is not None and ns.t is not None:
        raise ValueError("dugout: give --k (square) or --t (strip), not both")
    dugout = ns.k if ns.k is not None else ns.t
    if ns.k is not None and ns.split != "square":
        raise ValueError("dugout: --k is the size of --split square")
    if ns.t is not None and ns.split != "strip":
        raise ValueError("dugout: --t is the size of --split strip")
    resnet = family == "resnet"
    if resnet:
        shapes = None if ns.shapes is None else [int(v) for v in ns.shapes.split(",") if v.strip().isdigit()]
        base = dataclasses.asdict(resnet_config(shapes))
        group = group if group is not None else base["group"]
    elif seq:
        base = dataclasses.asdict(med_config(family, p=int(group[1:]) if group and group[1:].isdigit() else 97))
        base["eval_every"] = 10
        if group is not None and ns.op is None and not group[1:].isdigit():
            base["op"] = None
    else:
        base = {"group": "Z71", "width": 2048, "activation": "sqr", "loss": "mse_class", "optimizer": "adam",
                "eval_every": 1, "split": "random"}
    given = {"group": group, "op": ns.op, "split": ns.split, "dugout": dugout, "n_layers": ns.layers,
             "d_model": ns.d_model, "n_heads": ns.heads, "token_offset": ns.token_offset, "beta1": ns.beta1,
             "beta2": ns.beta2, "warmup_steps": ns.warmup_steps, "width": ns.width, "activation": ns.activation,
             "loss": ns.loss, "optimizer": ns.optimizer, "eval_every": ns.eval_every, "family": family,
             "shapes": ns.shapes, "image_size": ns.image_size, "stem": ns.stem, "minibatch": ns.minibatch}
    fields = {k: base[k] for k in given if k in base}
    fields.update({k: v for k, v in given.items() if v is not None})
    fields["lr_list"] = ns.lr if ns.lr is not None else [1e-3]
    fields["wd_list"] = ns.weight_decay if ns.weight_decay is not None else ([1.0] if seq else
                                                                              [1e-4] if resnet else [2e-4])
    fields["frac_default"] = 0.3 if seq else 0.25 if resnet else 0.4
    return fields, seq


def _train(ns: argparse.Namespace) -> int:
    from .train import TrainConfig, train

    if ns.critical_delta is not None and ns.train_frac is not None:
        sys.stderr.write("li2core train: error: train_frac: give either --train-frac or --critical-delta, not both\n")
        return 2
    try:
        fields, seq = _train_fields(ns)
        lrs, wds, frac0 = fields.pop("lr_list"), fields.pop("wd_list"), fields.pop("frac_default")
        if ns.critical_delta is not None:
            splits = [{"train_frac": None, "critical_delta": d} for d in ns.critical_delta]
        else:
            splits = [{"train_frac": f} for f in (ns.train_frac if ns.train_frac is not None else [frac0])]
        if ns.max_batch is not None and ns.max_batch < 1:
            raise ValueError(f"max_batch: must be an integer >= 1; got {ns.max_batch}")
        configs = [
            TrainConfig(lr=lr, weight_decay=wd, epochs=ns.epochs, seed=seed, top_layer_init_multiplier=ns.top_init,
                        extra_layers=ns.extra_layers, complex_weights=ns.complex_weights, ridge_V=ns.ridge_V,
                        complex_imag_init=ns.complex_imag_init, output_scale=ns.output_scale, **fields, **sp)
            for sp, lr, wd, seed in itertools.product(splits, lrs, wds, ns.seeds)
        ]
        resolve_device(ns.device)
    except (ValueError, RuntimeError) as e:
        field = str(e).split(":", 1)[0]
        flag = f" [{_FLAGS[field]}]" if field in _FLAGS else ""
        sys.stderr.write(f"li2core train: error: {e}{flag}\n")
        return 2
    res = train(configs, device=ns.device, progress=not ns.no_progress, max_batch=ns.max_batch,
                metrics="basic" if fields.get("family") == "resnet" else MED_METRICS if seq else "all")
    df = res.frame()
    df.to_csv(ns.out, index=False)
    final = df.groupby("run").tail(1)
    print(f"wrote {len(df)} rows ({len(configs)} runs) to {ns.out} in {res.wall_time:.1f} s on {res.device}; "
          f"final test_acc mean {final['test_acc'].mean():.3f}")
    return 0


def _book(args: Sequence[str]) -> int:
    """``python -m li2core book ARGS``: run the repository's ``tools/build_book.py ARGS``; its exit status."""
    script = Path(BOOK_SCRIPT)
    if not script.is_file():
        return _err("book", f"tools/build_book.py not found ({script}): the book build driver is part of the "
                            "repository, not of the installed package; run this from a checkout")
    try:
        rc = subprocess.run([sys.executable, str(script), *args], check=False).returncode
    except KeyboardInterrupt:  # Ctrl-C reaches the driver too; it reports and exits 130
        return 130
    return rc if rc >= 0 else 128 - rc  # killed by signal N: 128 + N, as a shell reports it


# ------------------------------------------------------------------------------------------ sweep, sweep-status
def _err(cmd: str, msg: Any) -> int:
    sys.stderr.write(f"li2core {cmd}: error: {' '.join(str(msg).split())}\n")
    return 2


def _load_spec(cmd: str, path: str) -> Sweep | int:
    try:
        return Sweep.from_yaml(path)
    except OSError as e:
        return _err(cmd, f"spec: cannot read {path!r}: {e.strerror or e}")
    except (ValueError, TypeError) as e:
        return _err(cmd, f"{e}" if str(e).startswith(("spec", "name")) else f"spec {path}: {e}")


def cli_sweep(ns: argparse.Namespace) -> int:
    """``python -m li2core sweep SPEC --store FILE ...`` (trains through :func:`li2core.sweep.run_sweep`)."""
    sweep = _load_spec("sweep", ns.spec)
    if isinstance(sweep, int):
        return sweep
    params: dict[str, Any] = {}
    for opt, key in (("slurm_partition", "slurm_partition"), ("slurm_time", "timeout_min"),
                     ("slurm_gpus", "gpus_per_node"), ("slurm_cpus", "cpus_per_task"), ("slurm_mem_gb", "mem_gb")):
        v = getattr(ns, opt, None)
        if v is not None:
            params[key] = v
    if params and ns.executor != "slurm":
        return _err("sweep", "--slurm-* options need --executor slurm")
    try:
        if ns.max_batch is not None and ns.max_batch < 1:
            raise ValueError(f"max_batch: must be an integer >= 1; got {ns.max_batch}")
        if ns.executor == "local":
            resolve_device(ns.device)
        t0 = time.perf_counter()
        to_train = len(sweep) - _done_count(ns.store, sweep)
        df = run_sweep(sweep, ns.store, device=ns.device, max_batch=ns.max_batch, executor=ns.executor,
                       progress=not ns.no_progress, executor_folder=ns.submitit_folder, executor_params=params)
    except ValueError as e:
        return _err("sweep", e)
    except KeyboardInterrupt:
        sys.stderr.write(f"li2core sweep: interrupted; finished batches are in {ns.store}; run again to resume\n")
        return 130
    print(f"sweep {sweep.name}: {len(df)}/{len(sweep)} runs in {ns.store} ({to_train} trained now in "
          f"{time.perf_counter() - t0:.1f} s), {int(df['diverged'].sum())} diverged")
    return 0


def _done_count(store: str | Path, sweep: Sweep) -> int:
    """Runs of ``sweep`` already done at the current code version (0 when the store does not exist)."""
    if not Path(store).is_file():
        return 0
    return int(status(store, sweep)["done"].iloc[0])


def cli_status(ns: argparse.Namespace) -> int:
    """``python -m li2core sweep-status --store FILE [SPEC]``."""
    sweep = None
    if ns.spec is not None:
        sweep = _load_spec("sweep-status", ns.spec)
        if isinstance(sweep, int):
            return sweep
    try:
        st = status(ns.store)
        n_rec = len(load(ns.store, code_version="all"))
        spec_st = status(ns.store, sweep) if sweep is not None else None
    except (OSError, ValueError) as e:
        return _err("sweep-status", e)
    print(f"store {ns.store}: {n_rec} records, {len(st)} sweeps; code version {code_version()}")
    for r in st.itertuples(index=False):
        stale = f", {r.stale} from older code" if r.stale else ""
        print(f"  {r.sweep}: {r.done}/{r.total} runs done, {r.diverged} diverged, {r.left} left{stale}")
    if spec_st is not None:
        r = next(spec_st.itertuples(index=False))
        print(f"spec {ns.spec} ({r.sweep}): {r.done}/{r.total} runs done, {r.diverged} diverged, {r.left} left")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m li2core``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["book"]:  # every later argument is the build driver's (argparse would take --profile ...)
        return _book(argv[1:])
    ns = _build_parser().parse_args(argv)
    if ns.command == "train":
        return _train(ns)
    if ns.command == "sweep":
        return cli_sweep(ns)
    if ns.command == "sweep-status":
        return cli_status(ns)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
