"""The sweep store: one SQLite file of run records keyed by ``(config_hash, code_version)``.

Schema, connection (WAL, ``synchronous=FULL``), one transaction per written batch, the code version, the
records of a :class:`~li2core.train.Results`, sweep membership, and reading (:func:`load`,
:func:`load_history`, :func:`status`). The tables and the atomicity argument are described in
:mod:`li2core.sweep`.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import socket
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..train import LATE_FIELDS, METRICS
from .spec import (
    _BOOL_FIELDS,
    _FIELDS,
    _FLOAT_FIELDS,
    Sweep,
    _canonical_json,
    _sql_type,
    canonical_config,
    config_hash,
)

__all__ = [
    "CODE_FILES",
    "CODE_ROOT",
    "GROK_THRESHOLD",
    "canonical_config",
    "code_version",
    "config_hash",
    "load",
    "load_history",
    "status",
]

#: Sources (paths relative to :data:`CODE_ROOT`, i.e. ``li2core/``) whose contents determine training numbers;
#: their hash is part of :func:`code_version`. An entry that is a folder stands for every ``*.py`` file below
#: it (so a model family added to ``models/`` is covered without editing this list). ``theory/``,
#: ``measures.py`` and ``chapters/`` only feed the non-basic metrics and the book, and are edited often for
#: its chapters, so they are left out.
CODE_FILES = ("activations.py", "groups.py", "losses.py", "models", "optim.py", "tasks.py", "train.py")
#: Folder holding :data:`CODE_FILES` (a module attribute so tests can point it elsewhere).
CODE_ROOT = Path(__file__).resolve().parents[1]
#: ``grok_epoch`` is the first evaluated epoch with ``test_acc >= GROK_THRESHOLD``.
GROK_THRESHOLD = 0.95
SCHEMA_VERSION = 1
#: The top-level package, whose ``__version__`` starts :func:`code_version`.
_PACKAGE = __name__.split(".")[0]


def _code_paths(root: Path, entries: Sequence[str]) -> list[str]:
    """The files (``/``-separated paths relative to ``root``, sorted) that ``entries`` name: a file as itself,
    a folder as every ``*.py`` file below it (recursively)."""
    paths: set[str] = set()
    for name in entries:
        p = root / name
        if p.is_dir():
            found = [q.relative_to(root).as_posix() for q in p.rglob("*.py") if q.is_file()]
            if not found:
                raise FileNotFoundError(f"code_version: CODE_FILES entry {name!r} is a folder without *.py files "
                                        f"({str(p)!r})")
            paths.update(found)
        elif p.is_file():
            paths.add(Path(name).as_posix())
        else:
            raise FileNotFoundError(f"code_version: CODE_FILES entry {name!r} does not exist ({str(p)!r})")
    return sorted(paths)


def code_version(root: str | Path | None = None, files: Sequence[str] | None = None) -> str:
    """``"<li2core.__version__>+<16 hex digits>"``: the package version and a hash of :data:`CODE_FILES`
    (of ``files``, relative to ``root``, when given).

    Each file enters the hash with its path relative to the root; a folder entry stands for all ``*.py``
    files below it. Read from disk on every call (cheap), so it reflects the sources as they are now.
    Raises ``FileNotFoundError`` naming an entry that does not exist (or a folder without ``*.py`` files).
    """
    root = Path(CODE_ROOT if root is None else root)
    h = hashlib.sha256()
    for name in _code_paths(root, CODE_FILES if files is None else files):
        h.update(name.encode() + b"\0" + hashlib.sha256((root / name).read_bytes()).digest())
    version = getattr(sys.modules.get(_PACKAGE), "__version__", "0")
    return f"{version}+{h.hexdigest()[:16]}"



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
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")
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
    now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
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


def _fill_want(conn: sqlite3.Connection, hashes: Sequence[str]) -> None:
    """The temporary table ``_want (h, pos)``: ``hashes`` with their positions (to join runs against)."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _want (h TEXT PRIMARY KEY, pos INTEGER)")
    conn.execute("DELETE FROM _want")
    conn.executemany("INSERT OR IGNORE INTO _want VALUES (?, ?)", [(h, i) for i, h in enumerate(hashes)])


def _done_metrics(conn: sqlite3.Connection, hashes: Sequence[str], version: str) -> dict[str, set[str]]:
    """``config_hash -> recorded metric names`` for the given hashes at ``version``."""
    _fill_want(conn, hashes)
    rows = conn.execute(
        "SELECT r.config_hash, r.metrics FROM runs r JOIN _want w ON w.h = r.config_hash WHERE r.code_version = ?",
        (version,),
    ).fetchall()
    return {h: set(json.loads(m)) for h, m in rows}




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
        _fill_want(conn, sweep.hashes)
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
    for f, default in LATE_FIELDS.items():  # NULL: a record at the default (or written before the field existed)
        if f in df and default is not None:
            df[f] = df[f].astype(object).where(df[f].notna(), default)
            if isinstance(default, int) and f not in _BOOL_FIELDS:
                df[f] = df[f].astype("int64")
    for f in _BOOL_FIELDS:
        df[f] = df[f].astype(bool)
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
            _fill_want(conn, hashes)
            for h, v, dv in conn.execute(
                "SELECT r.config_hash, r.code_version, r.diverged FROM runs r JOIN _want w ON w.h = r.config_hash"
            ):
                recs.setdefault(h, []).append((v, dv))
            done = [h for h in hashes if any(v == version for v, _ in recs.get(h, []))]
            div = sum(1 for h in done if any(v == version and dv for v, dv in recs[h]))
            stale = sum(1 for h in hashes if h in recs and h not in set(done))
            rows.append({"sweep": name, "total": len(hashes), "done": len(done), "left": len(hashes) - len(done),
                         "diverged": div, "stale": stale, "updated_at": updated.get(name)})
    finally:
        conn.close()
    return pd.DataFrame(rows, columns=["sweep", "total", "done", "left", "diverged", "stale", "updated_at"])
