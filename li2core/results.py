"""The paper-scale results cache (DESIGN "Layout": ``results/``): the tidy frames behind a chapter's figures, in git,
with their provenance, so the book can show paper-scale figures on a CPU without training them.

Layout: ``results/<chapter>/<name>.csv.gz`` (one tidy frame each, written with full float precision, so a frame
reads back exactly) and ``results/<chapter>/provenance.json``: the command that regenerates the folder, the commit
(and whether the tree was dirty), the code version of the training sources (:func:`li2core.sweep.code_version`),
the device and its name, the torch and Python versions, the date, the wall time, the chapter's parameters and,
per training frame, every run's full config (:func:`li2core.sweep.canonical_config`, so
``TrainConfig(**config)`` re-derives the run) and its ``config_hash``.

A chapter goes through :class:`ChapterCache`, in one of three modes (the notebook's ``cache`` parameter, which the
book driver sets): ``"off"`` (train, write nothing: the ci build), ``"record"`` (train, then write the cache:
``python tools/build_book.py --profile paper --only <chapter> --record``) and ``"use"`` (load the frames, no
training: ``make book PROFILE=paper-cached``). :meth:`ChapterCache.box` is the page's note saying where its figures
come from. :func:`rederive` re-runs recorded runs from their configs for the first epochs and compares the metrics
(``tests/test_results.py`` does so in CI, with the tolerances of :data:`TOLERANCE`).
"""
from __future__ import annotations

import datetime as _dt
import gzip
import io
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from .sweep.spec import canonical_config, config_hash
from .sweep.store import code_version
from .train import TrainConfig, resolve_device, train

__all__ = ["MODES", "RESULTS_DIR", "PROVENANCE", "TOLERANCE", "CacheMissing", "ChapterCache", "device_name",
           "git_state", "write_frame", "read_frame", "write_provenance", "read_provenance", "has_entry",
           "rederive", "pick_runs"]

ROOT = Path(__file__).resolve().parents[1]
#: Where the cache lives (a module attribute so tests can point it elsewhere).
RESULTS_DIR = ROOT / "results"
PROVENANCE = "provenance.json"
MODES = ("off", "record", "use")
#: Set by the book driver for the kernels: the command line that records a chapter (the provenance's ``command``).
COMMAND_ENV = "LI2_RESULTS_COMMAND"

#: Re-derivation tolerances, ``|cached - rerun| <= atol + rtol * |rerun|``. The metrics are computed in float32
#: (about 7 significant digits) and the rerun trains one run alone where the cache trained it in a batch, possibly
#: on another device: the products are summed in another order, so they differ by a few float32 ulps per step.
#: Over the first epochs (:func:`rederive` compares only those, before rounding is amplified by the dynamics) a
#: relative error of 1e-3 is ~10^4 ulps: ample for rounding, far below a change of the code or the data. The
#: absolute part covers values near zero: ``1 - cos`` of consecutive weights is a difference of numbers near 1
#: and keeps only ~1e-7 absolute accuracy in float32. Accuracies are counts: a pair whose two largest outputs tie
#: to within rounding may flip, so they may differ by 2 pairs (``acc_pairs``) of the smaller of the two sets.
TOLERANCE = {"rtol": 1e-3, "atol": 1e-6, "acc_pairs": 2}


class CacheMissing(FileNotFoundError):
    """No cache entry for a chapter (or no frame of that name in it)."""


# ------------------------------------------------------------------------------------------ provenance pieces
def device_name(device: str | torch.device) -> str:
    """A readable name of ``device``: ``torch.cuda.get_device_name`` for CUDA, the CPU model (``/proc/cpuinfo``'s
    "model name", else :func:`platform.processor`) with the number of logical cores and torch threads for a CPU."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    return f"{model} ({os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads)"


def git_state(root: str | Path = ROOT) -> dict[str, Any]:
    """``{"commit": <sha or None>, "dirty": <bool or None>}`` of the repository at ``root`` (None without git)."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip() if commit else None, "dirty": (bool(status.strip()) if status is not None else None)}


def _plain(v: Any) -> Any:
    """``v`` as JSON-friendly Python values (numpy scalars, tuples, mappings)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


# ------------------------------------------------------------------------------------------ files
def _dir(chapter: str, root: str | Path | None) -> Path:
    return Path(RESULTS_DIR if root is None else root) / chapter


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as gzip-compressed CSV (full float precision; reproducible bytes: no time stamp in the gzip
    header). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = frame.to_csv(index=False, float_format=None, lineterminator="\n")
    with open(path, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
        gz.write(text.encode())
    return path


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read a frame written by :func:`write_frame` (floats read back exactly: pandas' default parser is exact)."""
    with gzip.open(path, "rb") as gz:
        return pd.read_csv(io.BytesIO(gz.read()))


def write_provenance(chapter: str, prov: Mapping[str, Any], root: str | Path | None = None) -> Path:
    path = _dir(chapter, root) / PROVENANCE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_plain(prov), indent=1, ensure_ascii=False) + "\n", encoding="utf8")
    return path


def read_provenance(chapter: str, root: str | Path | None = None) -> dict[str, Any]:
    path = _dir(chapter, root) / PROVENANCE
    if not path.is_file():
        raise CacheMissing(f"no results cache for chapter '{chapter}' ({path} does not exist); record it with "
                           f"`python tools/build_book.py --profile paper --only {chapter} --record`")
    return json.loads(path.read_text(encoding="utf8"))


def has_entry(chapter: str, root: str | Path | None = None) -> bool:
    """True when ``results/<chapter>/provenance.json`` exists."""
    return (_dir(chapter, root) / PROVENANCE).is_file()


# ------------------------------------------------------------------------------------------ the chapter's side
@dataclass
class ChapterCache:
    """A chapter's access to the cache. ``mode``: ``"off"``, ``"record"`` or ``"use"`` (:data:`MODES`);
    ``params``: the chapter's parameters as the profile gives them (recorded with the cache; in ``"use"`` mode
    :attr:`params` becomes the recorded values, which the notebook then uses, since a cache may hold a declared
    subset of the profile, e.g. fewer seeds)."""

    chapter: str
    mode: str = "off"
    params: dict[str, Any] = field(default_factory=dict)
    root: str | Path | None = None
    profile: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"cache: must be one of {', '.join(MODES)}; got {self.mode!r}")
        self.params = _plain(dict(self.params))
        self.requested = dict(self.params)
        self._frames: dict[str, pd.DataFrame] = {}
        self._runs: dict[str, list[dict[str, Any]]] = {}
        self._device = ""
        self._train_s = 0.0
        self._t0 = time.time()
        self.provenance: dict[str, Any] | None = None
        # the code as it was when the runs started (a long recording may end after the tree has moved on)
        self._git = git_state(ROOT) if self.mode == "record" else {}
        self._code = code_version() if self.mode == "record" else ""
        if self.mode == "use":
            self.provenance = read_provenance(self.chapter, self.root)
            self.params = dict(self.provenance["params"])

    @property
    def differs(self) -> dict[str, tuple[Any, Any]]:
        """In mode ``"use"``: the parameters whose cached value differs from the profile's, ``{name: (profile,
        cached)}`` (a recording may be a declared subset, e.g. fewer seeds); ``{}`` in the other modes."""
        if self.mode != "use":
            return {}
        return {k: (self.requested[k], v) for k, v in self.params.items()
                if k in self.requested and self.requested[k] != v}

    def train_frame(self, name: str, configs: Sequence[TrainConfig], device: str = "auto", **train_kw: Any
                    ) -> pd.DataFrame:
        """The tidy frame of :func:`li2core.train` on ``configs`` (``Results.frame()``): trained in modes ``"off"``
        and ``"record"`` (kept for :meth:`record`), read from ``results/<chapter>/<name>.csv.gz`` in mode ``"use"``,
        after checking that ``configs`` are exactly the recorded runs (``ValueError`` otherwise)."""
        configs = list(configs)
        if self.mode == "use":
            recorded = self.provenance["frames"].get(name, {}).get("runs")
            if recorded is None:
                raise CacheMissing(f"results/{self.chapter}: no frame '{name}'")
            mine = [canonical_config(c) for c in configs]
            if mine != recorded:
                raise ValueError(f"results/{self.chapter}/{name}: the chapter's runs differ from the recorded ones "
                                 f"({len(mine)} configs here, {len(recorded)} recorded); record the cache again")
            return self.frame(name)
        t0 = time.perf_counter()
        res = train(configs, device=device, **train_kw)
        self._train_s += time.perf_counter() - t0
        self._device = res.device
        df = res.frame()
        self._frames[name] = df
        self._runs[name] = [canonical_config(c) for c in configs]
        return df

    def frame(self, name: str) -> pd.DataFrame:
        """A cached frame (mode ``"use"``), or one computed in this process."""
        if name in self._frames:
            return self._frames[name]
        if self.mode != "use":
            raise CacheMissing(f"frame '{name}' was not computed in this run (mode {self.mode!r})")
        path = _dir(self.chapter, self.root) / f"{name}.csv.gz"
        if not path.is_file():
            raise CacheMissing(f"results/{self.chapter}: no frame file {path.name}")
        df = read_frame(path)
        runs = self.provenance["frames"].get(name, {}).get("runs")
        if runs and "run" in df.columns:  # config columns from the recorded configs (CSV reads None as NaN)
            for col in sorted(set(runs[0]) & set(df.columns)):
                df[col] = df["run"].map({i: r[col] for i, r in enumerate(runs)})
        self._frames[name] = df
        return df

    def add_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Keep a frame that is not a training frame (e.g. a theory table) for :meth:`record`."""
        self._frames[name] = frame

    def record(self, note: str = "") -> Path | None:
        """In mode ``"record"``: write every frame and the provenance (``note``: anything the reader should know,
        e.g. why this recording is a subset of the profile). Returns the folder (``None`` in the other modes). Old
        frames and provenance in the folder are removed first, so it holds only this recording."""
        if self.mode != "record":
            return None
        out = _dir(self.chapter, self.root)
        if out.is_dir():
            for p in out.iterdir():
                if p.is_file() and (p.name == PROVENANCE or p.name.endswith(".csv.gz")):
                    p.unlink()
        frames = {}
        for name, df in self._frames.items():
            write_frame(df, out / f"{name}.csv.gz")
            entry: dict[str, Any] = {"file": f"{name}.csv.gz", "rows": len(df)}
            if name in self._runs:
                entry["runs"] = self._runs[name]
                entry["config_hashes"] = [config_hash(TrainConfig(**c)) for c in self._runs[name]]
            frames[name] = entry
        dev = self._device or str(resolve_device("auto"))
        prov = {
            "chapter": self.chapter,
            "command": os.environ.get(COMMAND_ENV) or "(not recorded by tools/build_book.py --record)",
            **self._git,
            "code_version": self._code,
            "device": dev,
            "device_name": device_name(dev),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "wall_s": round(time.time() - self._t0, 1),
            "train_s": round(self._train_s, 1),
            "profile": self.profile,
            "params": self.params,
            "note": note,
            "frames": frames,
        }
        write_provenance(self.chapter, prov, self.root)
        self.provenance = prov
        return out

    def box(self, figures: Sequence[str]) -> str:
        """The page's note (MyST admonition) on where the figures come from: the cache (device, commit, date, wall
        time, the regenerating command, parameters that differ from the profile) or this build."""
        figs = ", ".join(f"`{f}`" for f in figures)
        if self.mode != "use":
            where = "and recorded into the results cache" if self.mode == "record" else "(no results cache used)"
            return (f"```{{admonition}} Computed live\n:class: note\n\nThe figures {figs} and the checks\n"
                    f"were computed by this build {where}.\n```")
        p = self.provenance or {}
        commit = (p.get("commit") or "unknown")[:10] + (" (with uncommitted changes)" if p.get("dirty") else "")
        diff = "".join(f"\n  * `{k}` = `{c!r}` (the profile: `{q!r}`)" for k, (q, c) in self.differs.items())
        lines = [
            "````{admonition} Paper-scale results from the cache", ":class: important", "",
            f"The figures {figs} and the checks table",
            f"are drawn from `results/{self.chapter}/` (no training in this build).", "",
            f"* device: `{p.get('device')}`, {p.get('device_name')}",
            f"* commit `{commit}`, {p.get('date')}, torch {p.get('torch')}",
            f"* wall time of the recording: {p.get('wall_s', 0):.0f} s ({p.get('wall_s', 0) / 60:.0f} min)",
        ]
        if diff:
            lines.append(f"* recorded with other values than the `{p.get('profile')}` profile's:{diff}")
        if p.get("note"):
            lines.append(f"* {p['note']}")
        lines += ["", "Regenerate it with:", "", "```bash", str(p.get("command")), "```", "````"]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------ re-derivation
def pick_runs(chapter: str, name: str, k: int, seed: int, root: str | Path | None = None) -> list[int]:
    """``k`` run indices of frame ``name`` drawn without replacement with ``numpy.random.default_rng(seed)``."""
    runs = read_provenance(chapter, root)["frames"][name]["runs"]
    rng = np.random.default_rng(seed)
    return sorted(int(i) for i in rng.choice(len(runs), size=min(k, len(runs)), replace=False))


def rederive(chapter: str, name: str, runs: Sequence[int], epochs: int, root: str | Path | None = None,
             device: str = "cpu", tolerance: Mapping[str, float] = TOLERANCE) -> pd.DataFrame:
    """Re-run the recorded runs ``runs`` of frame ``name`` from their configs for the first ``epochs`` epochs
    (``TrainConfig(**config, epochs=epochs)``; ``epochs`` a multiple of the run's ``eval_every``, so the evaluation
    schedule is the cached one up to ``epochs``) and compare every metric at every evaluated epoch.

    Returns one row per (run, epoch, metric): ``cached``, ``rerun``, ``abs_err``, ``allowed`` and ``ok``
    (:data:`TOLERANCE`). NaN matches NaN (e.g. the cosine distances at epoch 0)."""
    prov = read_provenance(chapter, root)
    recorded = prov["frames"][name]["runs"]
    cached = read_frame(_dir(chapter, root) / f"{name}.csv.gz")
    cfgs = []
    for i in runs:
        c = dict(recorded[i])
        if epochs > c["epochs"] or epochs % c["eval_every"]:
            raise ValueError(f"epochs: must be a multiple of eval_every {c['eval_every']} and at most "
                             f"{c['epochs']}; got {epochs}")
        c["epochs"] = epochs
        cfgs.append(TrainConfig(**c))
    res = train(cfgs, device=device, keep_weights=False, max_batch=1)
    new = res.frame()
    rows = []
    metrics = [m for m in res.metric_names if m in cached.columns]
    for j, i in enumerate(runs):
        a = cached[(cached["run"] == i) & (cached["epoch"] <= epochs)].set_index("epoch")
        b = new[new["run"] == j].set_index("epoch")
        n_tr = int(b["n_train"].iloc[0])
        n_small = max(1, min(n_tr, int(b["M"].iloc[0]) ** 2 - n_tr))  # the smaller of the train and test sets
        for m in metrics:
            for ep in b.index:
                x, y = float(a.at[ep, m]) if ep in a.index else float("nan"), float(b.at[ep, m])
                if m.endswith("_acc"):
                    allowed = tolerance["acc_pairs"] / n_small
                else:
                    allowed = tolerance["atol"] + tolerance["rtol"] * abs(y)
                both_nan = np.isnan(x) and np.isnan(y)
                err = 0.0 if both_nan else abs(x - y)
                ok = both_nan or (np.isfinite(err) and err <= allowed)
                rows.append(dict(run=i, epoch=int(ep), metric=m, cached=x, rerun=y, abs_err=err, allowed=allowed,
                                 ok=bool(ok)))
    return pd.DataFrame(rows)
