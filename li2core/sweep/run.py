"""Running a sweep: plan the pending runs into batches, train them here or as ``submitit`` jobs, and write
each finished batch to the store (:mod:`li2core.sweep.store`) in one transaction.

Only this process writes the store; a job trains its batch and returns the records.
"""
from __future__ import annotations

import importlib
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from ..train import TrainConfig, resolve_device

# ``_store.code_version()`` is looked up at call time, so that a monkeypatch of it applies here too
from . import store as _store
from .spec import Sweep, canonical_config
from .store import _connect, _done_metrics, _records, _register, _write, load

# ``li2core/__init__`` re-exports the function ``train`` under the name of its module, so ``from .. import
# train`` would give the function: take the module itself (and call ``_train.train`` at call time, so that
# tests can monkeypatch it).
_train = importlib.import_module(__package__.rpartition(".")[0] + ".train")

__all__ = ["EXECUTORS", "run_sweep"]

#: ``executor`` names accepted by :func:`run_sweep` (``None`` = ``"local"``: in this process).
EXECUTORS = ("local", "slurm", "submitit-local", "submitit-debug")


# ------------------------------------------------------------------------------------------ running
def _train_job(config_dicts: list[dict[str, Any]], device: str, metrics: Any, sweep_name: str) -> dict[str, Any]:
    """Train one batch and return its records (runs in this process or in a submitit job)."""
    configs = [TrainConfig(**d) for d in config_dicts]
    res = _train.train(configs, device=device, progress=False, keep_weights=True, metrics=metrics)
    version = _store.code_version()
    return {"code_version": version, "records": _records(res, version, sweep_name)}


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
    progress: bool | None = None,
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
    progress: show a progress bar over runs (done, left, ETA); ``None`` (default): only on a terminal.
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
        version = _store.code_version()
        _register(conn, sweep, version)
        done = _done_metrics(conn, sweep.hashes, version)
        want = set(sweep.metric_names)
        pending = [c for c, h in zip(sweep.configs, sweep.hashes) if not (h in done and want <= done[h])]
        upgrade = {h for h in sweep.hashes if h in done and not want <= done[h]}
        chunks = _plan(pending, dev, max_batch) if pending else []
        pbar = None
        if progress is None:
            progress = _train._stderr_is_terminal()
        if progress:
            # imported here: importing tqdm.auto in a notebook kernel without ipywidgets warns on stderr
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
            except Exception as e:  # noqa: BLE001  (any job failure: keep the other jobs' results; report at the end)
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

