"""Sweeps: grids of training runs, trained in batches into a resumable on-disk SQLite store.

Three modules, each importing only the ones before it: :mod:`~li2core.sweep.spec` (YAML specs, grids, seed
ranges, config hashes), :mod:`~li2core.sweep.store` (the SQLite store: schema, transactions, code version,
records, reading) and :mod:`~li2core.sweep.run` (batching, local and ``submitit`` executors). The public
names are re-exported here (``from li2core import sweep; sweep.run_sweep(...)``). The command line
(``python -m li2core sweep`` / ``sweep-status``) is in :mod:`li2core.cli`.

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
  sorted keys; fields of ``li2core.train.LATE_FIELDS`` left out while at their defaults, so adding a field keeps
  every earlier config's hash), see :func:`config_hash`;
* ``code_version``: ``li2core.__version__`` plus a hash of the sources that determine training numbers
  (:data:`CODE_FILES`; a folder entry such as ``models`` covers every ``*.py`` file below it), see
  :func:`code_version`. Editing one of them makes every run pending again; older records stay in the store
  and :func:`load` can still read them.

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

from .run import EXECUTORS, run_sweep
from .spec import Sweep, expand_grid
from .store import (
    CODE_FILES,
    GROK_THRESHOLD,
    canonical_config,
    code_version,
    config_hash,
    load,
    load_history,
    status,
)

__all__ = [
    "CODE_FILES",
    "EXECUTORS",
    "GROK_THRESHOLD",
    "Sweep",
    "canonical_config",
    "code_version",
    "config_hash",
    "expand_grid",
    "load",
    "load_history",
    "run_sweep",
    "status",
]
