"""Sweeps: grids of training runs, trained in batches into a resumable on-disk SQLite store.

A :class:`Sweep` is a name, a list of :class:`~li2core.train.TrainConfig` and a metric set. It is usually
built from a YAML spec::

    name: fig5-cyclic-prime
    base: {width: 512, epochs: 300, lr: 5.0e-4, weight_decay: 2.0e-4, eval_every: 50}
    grid: {group: [Z23, Z29], train_frac: [0.2, 0.3, 0.4], seed: [0, 1, 2]}   # cartesian product
    zip: {lr: [1.0e-3, 5.0e-4], weight_decay: [1.0e-4, 2.0e-4]}               # optional: varied together
    configs: [{group: Z31, train_frac: 0.5}]                                  # optional: extra runs (on base)
    metrics: basic                                                            # basic | all | [names]

The runs are ``grid`` (cartesian product, first key slowest) x ``zip`` (rows varied together), each merged onto
``base``, followed by the extra ``configs`` (each merged onto ``base`` only). A config that sets
``critical_delta`` without an explicit ``train_frac`` gets ``train_frac: null``. Identical configs are kept once.

:func:`run_sweep` trains the runs not yet in the store, in batches (configs sharing a batch key, at most
``max_batch`` runs, as :func:`li2core.train.train` batches them), and writes each finished batch to the store
in **one transaction**. A record is keyed by ``(config_hash, code_version)``:

* ``config_hash``: SHA-256 of the canonical JSON of ``dataclasses.asdict(config)`` (float fields as floats,
  sorted keys), see :func:`config_hash`;
* ``code_version``: ``li2core.__version__`` plus a hash of the sources that determine training numbers
  (:data:`CODE_FILES`), see :func:`code_version`. Editing one of them makes every run pending again; older
  records stay in the store and :func:`load` can still read them.

Atomicity and resume: the store is in WAL mode with ``synchronous=FULL``; a batch's records are inserted
between ``BEGIN IMMEDIATE`` and ``COMMIT``, so a process killed at any moment (even ``kill -9``) leaves either
the whole batch or none of it. Re-running the sweep skips the runs whose key is in the store; the
``UNIQUE(config_hash, code_version)`` constraint with ``INSERT OR IGNORE`` is a second guard (also against two
processes running the same sweep at once).

Runs whose loss or weights become non-finite are recorded with ``diverged = 1`` (their non-finite metrics as
NULL) and never stop the sweep.

With ``executor="slurm"`` (or ``"submitit-local"``, ``"submitit-debug"``, or any ``submitit`` executor object)
each batch is one ``submitit`` job that trains the batch and returns its records; only the parent process
writes the store, as jobs finish. ``submitit`` is imported only then.

Reading: :func:`load` (one row per run: config columns and final metrics), :func:`load_history` (tidy
per-evaluation rows, the layout of :meth:`li2core.train.Results.frame`), :func:`status` (per sweep: done,
total, diverged, left).

Store schema (tables):

* ``runs``: ``run_id``, ``config_hash``, ``code_version``, ``sweep`` (the sweep that trained it), ``config``
  (canonical JSON), one column per ``TrainConfig`` field, ``M``, ``p``, ``n_train``, ``final_epoch``,
  ``final_train_acc``, ``final_test_acc``, ``final_train_loss``, ``final_test_loss``, ``best_test_acc``,
  ``grok_epoch`` (first evaluated epoch with ``test_acc >= 0.95``, NULL if never), ``diverged``, ``metrics``
  (JSON list of the recorded metric names), ``history`` (JSON ``{"epoch": [...], "<metric>": [...]}``, non-finite
  values as null), ``wall_time`` (seconds of the batch that trained the run), ``batch_size``, ``device``,
  ``host``, ``created_at`` (UTC ISO 8601); ``UNIQUE(config_hash, code_version)``.
* ``sweeps``: ``name``, ``spec`` (JSON), ``metrics``, ``n_runs``, ``code_version``, ``created_at``,
  ``updated_at``.
* ``sweep_runs``: ``sweep``, ``config_hash``, ``position`` (the sweep's current membership, in order).
* ``meta``: ``schema_version``.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import importlib
import itertools
import json
import math
import socket
import sqlite3
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from .train import METRIC_SETS, METRICS, TrainConfig, resolve_device

# ``li2core/__init__`` re-exports the function ``train`` under the name of its module, so ``from . import
# train`` would give the function: take the module itself (and call ``_train.train`` at call time, so that
# tests can monkeypatch it).
_train = importlib.import_module(__package__ + ".train")

__all__ = [
    "Sweep",
    "expand_grid",
    "run_sweep",
    "load",
    "load_history",
    "status",
    "config_hash",
    "canonical_config",
    "code_version",
    "CODE_FILES",
    "GROK_THRESHOLD",
    "EXECUTORS",
]

#: Sources (in ``li2core/``) whose contents determine training numbers; their hash is part of
#: :func:`code_version`. (``theory.py`` and ``measures.py`` only feed the non-basic metrics and are edited
#: often for the book's theory chapters, so they are left out.)
CODE_FILES = ("train.py", "models.py", "losses.py", "optim.py", "tasks.py", "groups.py")
#: Folder holding :data:`CODE_FILES` (a module attribute so tests can point it elsewhere).
CODE_ROOT = Path(__file__).resolve().parent
#: ``grok_epoch`` is the first evaluated epoch with ``test_acc >= GROK_THRESHOLD``.
GROK_THRESHOLD = 0.95
#: ``executor`` names accepted by :func:`run_sweep` (``None`` = ``"local"``: in this process).
EXECUTORS = ("local", "slurm", "submitit-local", "submitit-debug")
SCHEMA_VERSION = 1
SPEC_KEYS = ("name", "description", "base", "grid", "zip", "configs", "metrics")

_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _field_types(name: str) -> set[str]:
    t = _FIELDS[name].type
    return {s.strip() for s in (t if isinstance(t, str) else getattr(t, "__name__", str(t))).split("|")}


_FLOAT_FIELDS = frozenset(n for n in _FIELDS if "float" in _field_types(n))
_INT_FIELDS = frozenset(n for n in _FIELDS if "int" in _field_types(n) and n not in _FLOAT_FIELDS)


def _sql_type(name: str) -> str:
    return "REAL" if name in _FLOAT_FIELDS else "INTEGER" if name in _INT_FIELDS else "TEXT"


# ------------------------------------------------------------------------------------------ hashing
def canonical_config(config: TrainConfig) -> dict[str, Any]:
    """``dataclasses.asdict(config)`` with plain Python values and float fields as floats (``lr: 1`` == ``1.0``)."""
    out: dict[str, Any] = {}
    for k, v in dataclasses.asdict(config).items():
        if isinstance(v, np.generic):
            v = v.item()
        if k in _FLOAT_FIELDS and v is not None and not isinstance(v, bool):
            v = float(v)
        out[k] = v
    return out


def _canonical_json(d: Mapping[str, Any]) -> str:
    return json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: TrainConfig) -> str:
    """SHA-256 (hex) of the canonical JSON of the config (:func:`canonical_config`)."""
    return hashlib.sha256(_canonical_json(canonical_config(config)).encode()).hexdigest()


def code_version(root: str | Path | None = None, files: Sequence[str] | None = None) -> str:
    """``"<li2core.__version__>+<16 hex digits>"``: the package version and a hash of :data:`CODE_FILES`.

    Read from disk on every call (cheap), so it reflects the sources as they are now.
    """
    root = Path(CODE_ROOT if root is None else root)
    h = hashlib.sha256()
    for name in sorted(CODE_FILES if files is None else files):
        h.update(name.encode() + b"\0" + hashlib.sha256((root / name).read_bytes()).digest())
    version = getattr(sys.modules.get(__package__ or "li2core"), "__version__", "0")
    return f"{version}+{h.hexdigest()[:16]}"


# ------------------------------------------------------------------------------------------ specs
def _metric_names(metrics: str | Sequence[str]) -> tuple[str, ...]:
    """The metric names ``train(..., metrics=metrics)`` records (accuracy and loss always), validated."""
    if isinstance(metrics, str):
        if metrics not in METRIC_SETS:
            raise ValueError(
                f"metrics: unknown metric set {metrics!r}; accepted: {', '.join(METRIC_SETS)} or a list of "
                f"{', '.join(METRICS)}"
            )
        wanted = set(METRIC_SETS[metrics])
    else:
        if not isinstance(metrics, (list, tuple)) or not metrics:
            raise ValueError(f"metrics: expected a metric set name or a non-empty list; got {metrics!r}")
        bad = [m for m in metrics if m not in METRICS]
        if bad:
            raise ValueError(f"metrics: unknown metrics {bad}; accepted: {', '.join(METRICS)}")
        wanted = set(metrics)
    wanted |= set(METRIC_SETS["basic"])
    return tuple(m for m in METRICS if m in wanted)


def _coerce(name: str, value: Any) -> Any:
    """YAML 1.1 reads ``5e-4`` (no dot) as a string: accept numeric strings for float fields."""
    if name in _FLOAT_FIELDS and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_fields(where: str, keys: Iterable[Any]) -> None:
    for k in keys:
        if k not in _FIELDS:
            raise ValueError(f"{where}: unknown TrainConfig field {k!r}; accepted: {', '.join(_FIELDS)}")


def _as_values(where: str, name: str, v: Any) -> list[Any]:
    if name == "seed" and isinstance(v, str):  # "0-4", "0,3,7"
        from .cli import parse_seeds

        try:
            return list(parse_seeds(v))
        except Exception:
            raise ValueError(f"{where}.seed: invalid seeds {v!r}; use e.g. '0-14', '0,3,7' or a list") from None
    vals = list(v) if isinstance(v, (list, tuple)) else [v]
    if not vals:
        raise ValueError(f"{where}.{name}: empty list of values")
    return vals


def expand_grid(
    base: Mapping[str, Any] | None = None,
    grid: Mapping[str, Any] | None = None,
    *,
    zipped: Mapping[str, Sequence[Any]] | None = None,
    extra: Sequence[Mapping[str, Any]] | None = None,
) -> list[TrainConfig]:
    """The configs of a grid: ``grid`` (cartesian product, first key slowest) x ``zipped`` (rows of
    equal-length lists, varied together), each merged onto ``base``; then ``extra`` configs merged onto ``base``.

    A value in ``grid`` that is not a list is a single value; ``seed`` also accepts ``"0-4"`` / ``"0,3,7"``.
    Raises ``ValueError`` naming the bad field (unknown field, or a value ``TrainConfig`` rejects).
    """
    base = {} if base is None else base
    grid = {} if grid is None else grid
    zipped = {} if zipped is None else zipped
    extra = [] if extra is None else extra
    for where, m in (("base", base), ("grid", grid), ("zip", zipped)):
        if not isinstance(m, Mapping):
            raise ValueError(f"{where}: expected a mapping of TrainConfig fields; got {type(m).__name__}")
        _check_fields(where, m)
    if not isinstance(extra, (list, tuple)):
        raise ValueError(f"configs: expected a list of mappings; got {type(extra).__name__}")
    both = sorted(set(grid) & set(zipped))
    if both:
        raise ValueError(f"zip: field {both[0]!r} is also in grid; give it in one of them")
    gkeys = list(grid)
    gvals = [_as_values("grid", k, grid[k]) for k in gkeys]
    zkeys = list(zipped)
    zvals = [_as_values("zip", k, zipped[k]) for k in zkeys]
    lengths = {k: len(v) for k, v in zip(zkeys, zvals)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"zip: lists must have equal lengths; got {lengths}")
    nz = len(zvals[0]) if zvals else 1
    rows: list[dict[str, Any]] = []
    for combo in itertools.product(*gvals):
        for j in range(nz):
            d = dict(zip(gkeys, combo))
            d.update({k: v[j] for k, v in zip(zkeys, zvals)})
            rows.append(d)
    for i, e in enumerate(extra):
        if not isinstance(e, Mapping):
            raise ValueError(f"configs[{i}]: expected a mapping of TrainConfig fields; got {type(e).__name__}")
        _check_fields(f"configs[{i}]", e)
        rows.append(dict(e))
    out = []
    for i, over in enumerate(rows):
        d = {**base, **over}
        if d.get("critical_delta") is not None and "train_frac" not in d:
            d["train_frac"] = None
        d = {k: _coerce(k, v) for k, v in d.items()}
        try:
            out.append(TrainConfig(**d))
        except (ValueError, TypeError) as e:
            shown = ", ".join(f"{k}={v!r}" for k, v in over.items())
            raise ValueError(f"{e} (sweep config {i + 1} of {len(rows)}: {shown or 'base only'})") from None
    return out


@dataclass
class Sweep:
    """A named list of configs and the metrics to record. Duplicate configs are kept once.

    ``spec`` is the spec it was built from (stored with the sweep; informational).
    """

    name: str
    configs: list[TrainConfig]
    metrics: str | Sequence[str] = "basic"
    spec: dict[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name: the sweep needs a non-empty name; got {self.name!r}")
        cfgs = [self.configs] if isinstance(self.configs, TrainConfig) else list(self.configs)
        seen: dict[str, TrainConfig] = {}
        for i, c in enumerate(cfgs):
            if not isinstance(c, TrainConfig):
                raise TypeError(f"configs[{i}]: expected a TrainConfig, got {type(c).__name__}")
            c = TrainConfig(**canonical_config(c))
            seen.setdefault(config_hash(c), c)
        if not seen:
            raise ValueError(f"configs: sweep {self.name!r} has no configs")
        self.configs = list(seen.values())
        self._hashes = list(seen)
        if not isinstance(self.metrics, str):
            self.metrics = tuple(self.metrics)
        self.metric_names = _metric_names(self.metrics)

    def __len__(self) -> int:
        return len(self.configs)

    @property
    def hashes(self) -> list[str]:
        """:func:`config_hash` of each config, in order."""
        return list(self._hashes)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> "Sweep":
        """A sweep from a spec mapping (the YAML's contents; see the module docstring)."""
        if not isinstance(spec, Mapping):
            raise ValueError(f"spec: expected a mapping with keys {', '.join(SPEC_KEYS)}; got {type(spec).__name__}")
        for k in spec:
            if k not in SPEC_KEYS:
                raise ValueError(f"spec: unknown key {k!r}; accepted: {', '.join(SPEC_KEYS)}")
        if "name" not in spec:
            raise ValueError("name: the spec needs a 'name' (the sweep's key in the store)")
        if not any(k in spec for k in ("grid", "zip", "configs")):
            raise ValueError("spec: give at least one of 'grid', 'zip' or 'configs'")
        configs = expand_grid(spec.get("base"), spec.get("grid"), zipped=spec.get("zip"), extra=spec.get("configs"))
        metrics = spec.get("metrics", "basic")
        return cls(name=spec["name"], configs=configs, metrics=metrics, spec=json.loads(json.dumps(spec, default=str)))

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Sweep":
        """A sweep from a YAML spec file. ``ValueError`` (one line) for a bad spec; ``OSError`` if unreadable."""
        import yaml

        text = Path(path).read_text()
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ValueError(f"spec: {path} is not valid YAML: {' '.join(str(e).split())}") from None
        if spec is None:
            raise ValueError(f"spec: {path} is empty")
        return cls.from_dict(spec)


# ------------------------------------------------------------------------------------------ store
_RESULT_COLUMNS = [
    ("M", "INTEGER"),
    ("p", "REAL"),
    ("n_train", "INTEGER"),
    ("final_epoch", "INTEGER"),
    ("final_train_acc", "REAL"),
    ("final_test_acc", "REAL"),
    ("final_train_loss", "REAL"),
    ("final_test_loss", "REAL"),
    ("best_test_acc", "REAL"),
    ("grok_epoch", "INTEGER"),
    ("diverged", "INTEGER NOT NULL"),
    ("metrics", "TEXT NOT NULL"),
    ("history", "TEXT NOT NULL"),
    ("wall_time", "REAL"),
    ("batch_size", "INTEGER"),
    ("device", "TEXT"),
    ("host", "TEXT"),
    ("created_at", "TEXT NOT NULL"),
]
_KEY_COLUMNS = [("config_hash", "TEXT NOT NULL"), ("code_version", "TEXT NOT NULL"), ("sweep", "TEXT"), ("config", "TEXT NOT NULL")]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run_columns() -> list[tuple[str, str]]:
    return _KEY_COLUMNS + [(f, _sql_type(f)) for f in _FIELDS] + _RESULT_COLUMNS


def _init_schema(conn: sqlite3.Connection) -> None:
    cols = ",\n  ".join(f"{_q(n)} {t}" for n, t in _run_columns())
    with _transaction(conn):
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS runs (\n  run_id INTEGER PRIMARY KEY,\n  {cols},\n"
            "  UNIQUE(config_hash, code_version)\n)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS sweeps (name TEXT PRIMARY KEY, spec TEXT, metrics TEXT, n_runs INTEGER, "
            "code_version TEXT, created_at TEXT, updated_at TEXT)"
        )
        conn.execute(
            "CREATE TABLE IF NOT EXISTS sweep_runs (sweep TEXT NOT NULL, config_hash TEXT NOT NULL, "
            "position INTEGER NOT NULL, PRIMARY KEY (sweep, config_hash))"
        )
        conn.execute("CREATE INDEX IF NOT EXISTS runs_hash ON runs (config_hash)")
        # a TrainConfig field added since the store was created becomes a new (NULL for old rows) column
        have = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
        for n, t in _run_columns():
            if n not in have:
                conn.execute(f"ALTER TABLE runs ADD COLUMN {_q(n)} {t.replace(' NOT NULL', '')}")


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _connect(path: str | Path, create: bool = True) -> sqlite3.Connection:
    path = Path(path)
    if not create and not path.is_file():
        raise FileNotFoundError(f"store: no such file {str(path)!r}")
    if create and not path.parent.is_dir():
        raise ValueError(f"store: folder {str(path.parent)!r} does not exist")
    try:
        conn = sqlite3.connect(str(path), timeout=60.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        _init_schema(conn)
    except sqlite3.Error as e:
        raise ValueError(f"store: cannot use {str(path)!r} as a sweep store: {e}") from None
    return conn


def _num(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _records(res: Any, version: str, sweep_name: str | None) -> list[dict[str, Any]]:
    """One store record per run of a :class:`~li2core.train.Results`."""
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")
    host = socket.gethostname()
    out = []
    for i, cfg in enumerate(res.configs):
        m = res.metrics[i]
        ep = np.asarray(res.eval_epochs[i])
        test = np.asarray(m.get("test_acc", np.full(len(ep), np.nan)), dtype=np.float64)
        hit = np.flatnonzero(np.nan_to_num(test, nan=-1.0) >= GROK_THRESHOLD)
        finite = test[np.isfinite(test)]
        hist: dict[str, list[Any]] = {"epoch": [int(e) for e in ep]}
        for k, v in m.items():
            hist[k] = [_num(x) for x in np.asarray(v, dtype=np.float64)]
        canon = canonical_config(cfg)
        rec: dict[str, Any] = {
            "config_hash": config_hash(cfg),
            "code_version": version,
            "sweep": sweep_name,
            "config": _canonical_json(canon),
            **canon,
            "M": int(cfg.M),
            "p": float(cfg.p),
            "n_train": int(res.n_train[i]),
            "final_epoch": int(ep[-1]),
            **{f"final_{k}": _num(np.asarray(m[k])[-1]) if k in m else None
               for k in ("train_acc", "test_acc", "train_loss", "test_loss")},
            "best_test_acc": float(finite.max()) if finite.size else None,
            "grok_epoch": int(ep[hit[0]]) if hit.size else None,
            "diverged": int(res.diverged(i)),
            "metrics": json.dumps(list(m)),
            "history": json.dumps(hist, allow_nan=False),
            "wall_time": float(res.wall_time),
            "batch_size": len(res.configs),
            "device": str(res.device),
            "host": host,
            "created_at": now,
        }
        out.append(rec)
    return out


def _train_job(config_dicts: list[dict[str, Any]], device: str, metrics: Any, sweep_name: str) -> dict[str, Any]:
    """Train one batch and return its records (runs in this process or in a submitit job)."""
    configs = [TrainConfig(**d) for d in config_dicts]
    res = _train.train(configs, device=device, progress=False, keep_weights=True, metrics=metrics)
    version = code_version()
    return {"code_version": version, "records": _records(res, version, sweep_name)}


def _write(conn: sqlite3.Connection, records: Sequence[Mapping[str, Any]], replace: set[str] = frozenset()) -> int:
    """Insert a batch's records in one transaction; returns how many rows were written."""
    if not records:
        return 0
    names = [n for n, _ in _run_columns()]
    cols = ", ".join(_q(n) for n in names)
    marks = ", ".join("?" for _ in names)
    n = 0
    with _transaction(conn):
        for r in records:
            verb = "INSERT OR REPLACE" if r["config_hash"] in replace else "INSERT OR IGNORE"
            cur = conn.execute(f"{verb} INTO runs ({cols}) VALUES ({marks})", [r.get(k) for k in names])
            n += cur.rowcount
    return n


def _register(conn: sqlite3.Connection, sweep: Sweep, version: str) -> None:
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    with _transaction(conn):
        conn.execute(
            "INSERT INTO sweeps (name, spec, metrics, n_runs, code_version, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec, "
            "metrics = excluded.metrics, n_runs = excluded.n_runs, code_version = excluded.code_version, "
            "updated_at = excluded.updated_at",
            (sweep.name, json.dumps(sweep.spec) if sweep.spec is not None else None,
             json.dumps(sweep.metrics), len(sweep), version, now, now),
        )
        conn.execute("DELETE FROM sweep_runs WHERE sweep = ?", (sweep.name,))
        conn.executemany(
            "INSERT INTO sweep_runs (sweep, config_hash, position) VALUES (?, ?, ?)",
            [(sweep.name, h, i) for i, h in enumerate(sweep.hashes)],
        )


def _done_metrics(conn: sqlite3.Connection, hashes: Sequence[str], version: str) -> dict[str, set[str]]:
    """``config_hash -> recorded metric names`` for the given hashes at ``version``."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _want (h TEXT PRIMARY KEY, pos INTEGER)")
    conn.execute("DELETE FROM _want")
    conn.executemany("INSERT OR IGNORE INTO _want VALUES (?, ?)", [(h, i) for i, h in enumerate(hashes)])
    rows = conn.execute(
        "SELECT r.config_hash, r.metrics FROM runs r JOIN _want w ON w.h = r.config_hash WHERE r.code_version = ?",
        (version,),
    ).fetchall()
    return {h: set(json.loads(m)) for h, m in rows}


# ------------------------------------------------------------------------------------------ running
def _plan(pending: Sequence[TrainConfig], dev: torch.device, max_batch: int | None) -> list[list[TrainConfig]]:
    """Chunks of compatible configs (one batch key each), as train() would batch them."""
    plan_batches = getattr(_train, "_plan_batches", None)
    if plan_batches is not None:
        return [[pending[i] for i in idx] for idx in plan_batches(pending, dev, max_batch)]
    by_key: dict[tuple, list[TrainConfig]] = {}
    for c in pending:
        by_key.setdefault(c.batch_key(), []).append(c)
    cap = max_batch or max(len(v) for v in by_key.values())
    return [v[s : s + cap] for v in by_key.values() for s in range(0, len(v), cap)]


def _make_executor(executor: Any, folder: Path, params: Mapping[str, Any] | None, name: str) -> tuple[Any, float]:
    """A submitit executor and the poll interval for its jobs."""
    if not isinstance(executor, str):
        if not hasattr(executor, "submit"):
            raise ValueError(f"executor: expected one of {', '.join(EXECUTORS)} or a submitit executor; got {executor!r}")
        return executor, 0.5
    try:
        import submitit
    except ImportError:
        raise ValueError(
            f"executor: {executor!r} needs the 'submitit' package (pip install submitit); "
            "or use executor='local'"
        ) from None
    cluster = {"slurm": "slurm", "submitit-local": "local", "submitit-debug": "debug"}[executor]
    try:
        ex = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    except RuntimeError as e:
        raise ValueError(f"executor: {executor!r}: {e}") from None
    p = dict(params or {})
    p.setdefault("name", f"li2-{name}")
    if cluster != "slurm":
        p.setdefault("timeout_min", 7 * 24 * 60)  # submitit's local default is 5 minutes
    try:
        ex.update_parameters(**p)
    except (ValueError, TypeError) as e:
        raise ValueError(f"executor parameters: {' '.join(str(e).split())}") from None
    return ex, (10.0 if cluster == "slurm" else 0.25)


def run_sweep(
    sweep: Sweep,
    store_path: str | Path,
    device: str = "auto",
    max_batch: int | None = None,
    executor: Any = None,
    progress: bool = True,
    executor_folder: str | Path | None = None,
    executor_params: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Train the runs of ``sweep`` that are not in the store yet; return the store's records of the sweep.

    Parameters
    ----------
    sweep: the :class:`Sweep`.
    store_path: the SQLite file (created if missing; its folder must exist).
    device: ``"auto"``, ``"cpu"``, ``"cuda"`` ... (resolved where the batch trains).
    max_batch: at most this many runs per batch (= per transaction, per job); default: as many as fit
        in memory (as :func:`li2core.train.train` plans them).
    executor: ``None`` or ``"local"`` (train here), ``"slurm"``, ``"submitit-local"`` (jobs as local
        processes), ``"submitit-debug"`` (in this process, through submitit), or a ``submitit`` executor.
    progress: show a progress bar over runs (done, left, ETA).
    executor_folder: submitit's log/pickle folder (default ``<store>-submitit/`` next to the store).
    executor_params: passed to ``executor.update_parameters`` (e.g. ``slurm_partition``, ``timeout_min``,
        ``gpus_per_node``, ``cpus_per_task``, ``mem_gb``).

    Returns :func:`load` of the sweep at the current code version (one row per run, in sweep order).
    """
    if not isinstance(sweep, Sweep):
        raise TypeError(f"sweep: expected a Sweep, got {type(sweep).__name__}")
    if max_batch is not None and (isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1):
        raise ValueError(f"max_batch: must be an integer >= 1 or None; got {max_batch!r}")
    if executor == "local":
        executor = None
    if isinstance(executor, str) and executor not in EXECUTORS:
        raise ValueError(f"executor: unknown executor {executor!r}; accepted: {', '.join(EXECUTORS)}")
    if executor is None:
        dev = resolve_device(device)
        job_device = str(dev)
    else:  # the job resolves it on its own machine; only check the spelling here
        try:
            if device != "auto":
                torch.device(device)
        except (RuntimeError, TypeError):
            raise ValueError(f"device: unknown device {device!r}; use 'auto', 'cpu' or 'cuda'") from None
        dev, job_device = torch.device("cpu"), str(device)
    store_path = Path(store_path)
    conn = _connect(store_path)
    try:
        version = code_version()
        _register(conn, sweep, version)
        done = _done_metrics(conn, sweep.hashes, version)
        want = set(sweep.metric_names)
        pending = [c for c, h in zip(sweep.configs, sweep.hashes) if not (h in done and want <= done[h])]
        upgrade = {h for h in sweep.hashes if h in done and not want <= done[h]}
        chunks = _plan(pending, dev, max_batch) if pending else []
        pbar = None
        if progress:
            from tqdm.auto import tqdm

            pbar = tqdm(total=len(sweep), initial=len(sweep) - len(pending), unit="run",
                        desc=f"sweep {sweep.name}", dynamic_ncols=True)
        try:
            if executor is None:
                for bi, chunk in enumerate(chunks):
                    if pbar is not None:
                        pbar.set_postfix_str(f"{pbar.total - pbar.n} left; batch {bi + 1}/{len(chunks)}: "
                                             f"{chunk[0].group} x {len(chunk)}")
                    out = _train_job([canonical_config(c) for c in chunk], job_device, sweep.metrics, sweep.name)
                    _write(conn, out["records"], upgrade)
                    if pbar is not None:
                        pbar.update(len(chunk))
            elif chunks:
                _run_jobs(conn, sweep, chunks, job_device, executor, store_path, executor_folder,
                          executor_params, upgrade, version, pbar)
        finally:
            if pbar is not None:
                pbar.close()
    finally:
        conn.close()
    return load(store_path, sweep=sweep, code_version=version)


def _run_jobs(conn, sweep, chunks, job_device, executor, store_path, folder, params, upgrade, version, pbar) -> None:
    folder = Path(folder) if folder is not None else store_path.with_name(store_path.stem + "-submitit")
    ex, poll = _make_executor(executor, folder, params, sweep.name)
    args = [[canonical_config(c) for c in chunk] for chunk in chunks]
    n = len(chunks)
    jobs = ex.map_array(_train_job, args, [job_device] * n, [sweep.metrics] * n, [sweep.name] * n)
    size = {id(j): len(c) for j, c in zip(jobs, chunks)}
    failed: list[tuple[Any, BaseException]] = []
    pending = list(jobs)
    while pending:
        finished = [j for j in pending if j.done()]
        if not finished:
            time.sleep(poll)
            continue
        for j in finished:
            pending.remove(j)
            try:
                out = j.result()
            except Exception as e:  # keep the other jobs' results; report at the end
                failed.append((j, e))
                continue
            if out["code_version"] != version:
                warnings.warn(
                    f"sweep {sweep.name}: job {j.job_id} ran code version {out['code_version']}, not {version} "
                    "(li2core sources differ between the submitting process and the job); its records are "
                    "stored under the job's version", RuntimeWarning, stacklevel=3)
            _write(conn, out["records"], upgrade)
            if pbar is not None:
                pbar.update(size[id(j)])
    if failed:
        j, e = failed[0]
        msg = " ".join(str(e).split())[-500:]
        raise RuntimeError(f"sweep {sweep.name}: {len(failed)} of {n} jobs failed (their runs stay pending); "
                           f"first: job {j.job_id}: {msg}")


# ------------------------------------------------------------------------------------------ reading
def _select(conn: sqlite3.Connection, sweep: Sweep | str | None, version: str | None, history: bool) -> pd.DataFrame:
    drop = () if history else ("history", "config")
    names = ["run_id"] + [n for n, _ in _run_columns() if n not in drop]
    cols = ", ".join(f"r.{_q(n)}" for n in names)
    where, params = [], []
    if version is not None:
        where.append("r.code_version = ?")
        params.append(version)
    if sweep is None:
        sql = f"SELECT {cols}, r.run_id AS _pos FROM runs r"
    elif isinstance(sweep, Sweep):
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS _want (h TEXT PRIMARY KEY, pos INTEGER)")
        conn.execute("DELETE FROM _want")
        conn.executemany("INSERT OR IGNORE INTO _want VALUES (?, ?)", [(h, i) for i, h in enumerate(sweep.hashes)])
        sql = f"SELECT {cols}, w.pos AS _pos FROM runs r JOIN _want w ON w.h = r.config_hash"
    else:
        sql = f"SELECT {cols}, m.position AS _pos FROM runs r JOIN sweep_runs m ON m.config_hash = r.config_hash"
        where.append("m.sweep = ?")
        params.append(str(sweep))
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY _pos, r.run_id"
    return pd.read_sql_query(sql, conn, params=params)


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    for f in _FIELDS:
        if f in _FLOAT_FIELDS:
            df[f] = pd.to_numeric(df[f], errors="coerce").astype(float)
    for c in ("final_train_acc", "final_test_acc", "final_train_loss", "final_test_loss", "best_test_acc",
              "wall_time", "p"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["grok_epoch"] = pd.to_numeric(df["grok_epoch"], errors="coerce").astype("Int64")
    df["diverged"] = df["diverged"].astype(bool)
    return df


def load(
    store_path: str | Path,
    sweep: Sweep | str | None = None,
    code_version: str | None = "latest",
    history: bool = False,
) -> pd.DataFrame:
    """One row per run: key columns, the config fields, ``M, p, n_train``, final metrics, ``best_test_acc``,
    ``grok_epoch``, ``diverged``, ``wall_time``, ``device``, ``created_at``.

    Parameters
    ----------
    sweep: ``None`` (every run in the store), a sweep name (its membership as last run, in its order) or a
        :class:`Sweep` (its configs, in its order; it need not have been run under that name).
    code_version: ``"latest"`` (per config, its most recent record), ``"current"`` (only records of this
        code, :func:`~li2core.sweep.code_version`), ``None`` / ``"all"`` (every record), or a version string.
    history: also return the ``history`` and ``config`` JSON columns.
    """
    mode = "all" if code_version is None else code_version
    version = _current_version() if mode == "current" else None if mode in ("latest", "all") else mode
    conn = _connect(store_path, create=False)
    try:
        df = _select(conn, sweep, version, history)
    finally:
        conn.close()
    if mode == "latest" and len(df):
        last = df.groupby("config_hash")["run_id"].transform("max")
        df = df[df["run_id"] == last]
    df = df.drop(columns="_pos").reset_index(drop=True)
    return _tidy(df)


def _current_version() -> str:
    return code_version()


def load_history(
    store_path: str | Path,
    sweep: Sweep | str | None = None,
    code_version: str | None = "latest",
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Tidy per-evaluation rows, like :meth:`li2core.train.Results.frame`: ``run`` (row of :func:`load`),
    ``epoch``, the metric columns, the config fields, ``M``, ``p``, ``n_train``, ``diverged``, then
    ``config_hash`` and ``code_version``. ``metrics`` restricts the metric columns (default: all recorded)."""
    runs = load(store_path, sweep=sweep, code_version=code_version, history=True)
    cfg_cols = list(_FIELDS)
    tail = ["M", "p", "n_train", "diverged", "config_hash", "code_version"]
    parts, seen = [], []
    for i, row in enumerate(runs.itertuples(index=False)):
        h = json.loads(row.history)
        keep = [k for k in h if k != "epoch" and (metrics is None or k in metrics)]
        seen.extend(k for k in keep if k not in seen)
        d: dict[str, Any] = {"run": i, "epoch": np.asarray(h["epoch"], dtype=np.int64)}
        for k in keep:
            d[k] = np.array([np.nan if x is None else x for x in h[k]], dtype=np.float64)
        rd = row._asdict()
        for c in cfg_cols + tail:
            d[c] = rd[c]
        parts.append(pd.DataFrame(d))
    mcols = [m for m in METRICS if m in seen] + [m for m in seen if m not in METRICS]
    columns = ["run", "epoch", *mcols, *cfg_cols, *tail]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True).reindex(columns=columns)


def status(store_path: str | Path, sweep: Sweep | None = None, code_version: str | None = None) -> pd.DataFrame:
    """Per sweep: ``total`` runs, ``done`` (records at ``code_version``, default the current code), ``left``,
    ``diverged``, ``stale`` (runs with records only from other code versions), ``updated_at``.

    With a :class:`Sweep`, one row for its configs (whether or not it was run under that name).
    """
    version = _current_version() if code_version is None else code_version
    conn = _connect(store_path, create=False)
    try:
        if sweep is not None:
            if not isinstance(sweep, Sweep):
                raise TypeError(f"sweep: expected a Sweep, got {type(sweep).__name__}")
            members = {sweep.name: sweep.hashes}
            updated = {sweep.name: None}
        else:
            members = {}
            for name, h in conn.execute("SELECT sweep, config_hash FROM sweep_runs ORDER BY sweep, position"):
                members.setdefault(name, []).append(h)
            updated = dict(conn.execute("SELECT name, updated_at FROM sweeps"))
            for name in updated:
                members.setdefault(name, [])
        rows = []
        for name, hashes in members.items():
            recs: dict[str, list[tuple[str, int]]] = {}
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS _want (h TEXT PRIMARY KEY, pos INTEGER)")
            conn.execute("DELETE FROM _want")
            conn.executemany("INSERT OR IGNORE INTO _want VALUES (?, ?)", [(h, i) for i, h in enumerate(hashes)])
            for h, v, dv in conn.execute(
                "SELECT r.config_hash, r.code_version, r.diverged FROM runs r JOIN _want w ON w.h = r.config_hash"
            ):
                recs.setdefault(h, []).append((v, dv))
            done = [h for h in hashes if any(v == version for v, _ in recs.get(h, []))]
            div = sum(1 for h in done if any(v == version and dv for v, dv in recs[h]))
            stale = sum(1 for h in hashes if h in recs and h not in set(done))
            rows.append(dict(sweep=name, total=len(hashes), done=len(done), left=len(hashes) - len(done),
                             diverged=div, stale=stale, updated_at=updated.get(name)))
    finally:
        conn.close()
    return pd.DataFrame(rows, columns=["sweep", "total", "done", "left", "diverged", "stale", "updated_at"])


# ------------------------------------------------------------------------------------------ command line
def _err(cmd: str, msg: str) -> int:
    sys.stderr.write(f"li2core {cmd}: error: {' '.join(str(msg).split())}\n")
    return 2


def _load_spec(cmd: str, path: str) -> Sweep | int:
    try:
        return Sweep.from_yaml(path)
    except OSError as e:
        return _err(cmd, f"spec: cannot read {path!r}: {e.strerror or e}")
    except (ValueError, TypeError) as e:
        return _err(cmd, f"{e}" if str(e).startswith(("spec", "name")) else f"spec {path}: {e}")


def cli_sweep(ns: Any) -> int:
    """``python -m li2core sweep SPEC --store FILE ...`` (arguments parsed in :mod:`li2core.cli`)."""
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


def cli_status(ns: Any) -> int:
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
