"""Batched full-batch training of the model families on group tasks: the one trainer (DESIGN "Data flow").

:func:`train` takes a list of :class:`TrainConfig`. Configs that share a task, width,
activation, loss, optimizer, number of epochs, evaluation interval, dtype, model family, depth,
complexity and ridge on/off form one batch: ``R`` runs trained as one tensor program (seeds, learning
rates, weight decays, training fractions, top-layer init multipliers, output scales and ridge constants
may differ inside a batch; runs with
different ``n_train`` are padded and masked). Each run gives the same numbers as when
trained alone, up to float rounding.

The trainer is generic: splits and masks, the metric buffer, accuracy and loss, the evaluation
schedule, snapshots, progress and batch planning. The weights, their initialisation, the step and
the outputs on all pairs belong to the config's model family (:func:`li2core.models.family_for`: the
hand-written two-layer net :class:`li2core.models.two_layer.TwoLayer`, or for the variants ``extra_layers``,
``complex_weights``, ``ridge_V``, ``output_scale`` the autograd family :class:`li2core.models.deep.Deep`, whose
per-layer metrics :meth:`Results.layer_frame` gives in long form).

One optimizer step is one "epoch" (full batch), as in the author's code (paper-li2 §4.4).
Metrics are evaluated *before* the step at epochs ``0, k, 2k, ...`` and after the last
step, kept on the device, and copied to the host once per batch.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .config import (
    _DTYPES,
    _SEQ_FIELDS,
    LATE_FIELDS,
    TrainConfig,
    _is_int,
    _task,
    config_fields,
    med_config,
    resnet_config,
)
from .losses import loss_and_grad, row_losses
from .models import BatchData, BatchedModel, family_for
from .models.transformer import SEQ_FAMILIES, SEQ_METRICS
from .tasks import Task, split_pairs

__all__ = ["LATE_FIELDS", "LAYER_METRICS", "METRICS", "METRIC_SETS", "Results", "TrainConfig", "config_fields",
           "med_config", "resnet_config", "resolve_device", "train"]

#: Metric columns of :meth:`Results.frame`, in order.
METRICS = (
    "train_acc",
    "test_acc",
    "train_loss",
    "test_loss",
    "G_F_norm",
    "G_F_loss_norm",
    "ftf_offdiag_ratio",
    "fft_offdiag_ratio",
    "fft_dist_ideal",
    "dW_cos_dist",
    "dV_cos_dist",
    "W_purity",
    "med",
    "med_code",
    "med_hidden",
    "emb_norm",
    "weight_norm",
)
#: Metrics only the MED families (transformer, mlp) give: :meth:`Results.frame` leaves them out when no run is of
#: those families.
_SEQ_ONLY = frozenset(SEQ_METRICS) - {"W_purity"}
#: Per-layer metrics (the ``deep`` family): one value per weight layer ``W, U_1 .. U_L, V``, in
#: :meth:`Results.layer_frame` (a long frame: one row per run, evaluated epoch and layer).
LAYER_METRICS = ("layer_cos_dist", "layer_G_norm")
_METRIC_ROW = {m: k for k, m in enumerate(METRICS)}
METRIC_DOC = {
    "train_acc": "accuracy on the run's training pairs",
    "test_acc": "accuracy on the held-out pairs (NaN when train_frac = 1)",
    "train_loss": "the training loss (config.loss) on the training pairs",
    "test_loss": "the same loss on the held-out pairs",
    "G_F_norm": "||G_F||_F, G_F = P1perp (Y - F V) V^T on the training pairs (Eq. 2, one-hot Y)",
    "G_F_loss_norm": "||-dL/dF||_F of the loss the net is trained on (config.loss) on the training pairs "
                     "(equals G_F_norm for mse_sample; for mse_class it is 2/n times the class-centred residual)",
    "ftf_offdiag_ratio": "mean |off-diag| / mean |diag| of F~^T F~ (K x K)",
    "fft_offdiag_ratio": "mean |off-diag| / mean |diag| of P1perp F F^T (n x n)",
    "fft_dist_ideal": "||F F^T - (a I + b 11^T)||_F / ||F F^T||_F (Lemma 1's form)",
    "dW_cos_dist": "1 - cos(W_{t-1}, W_t): cosine distance between consecutive W",
    "dV_cos_dist": "1 - cos(V_{t-1}, V_t): cosine distance between consecutive V",
    "W_purity": "Fourier purity of the lowest layer W: the mean over nodes of the share of a node's power in its "
                "dominant real isotypic component (li2core.fourier.purity; deep family; transformer and mlp: of the "
                "operand embeddings)",
    "med": "MED, Def. 4.2 of Gu et al.: (1/p) sum_i ||E(i+1) - E(i)||, cyclic, on the first operand's token "
           "embeddings (transformer, mlp)",
    "med_code": "MED as the MED authors' calculate_embedding_diff returns it (p - 2 differences per operand block, "
                "averaged over the two blocks; li2core.measures.med_code)",
    "med_hidden": "Def. 4.2 on a hidden layer for the diagonal inputs (i, i): mlp, the first hidden layer (the "
                  "authors' README); transformer, the last block's MLP hidden layer at the cls position",
    "emb_norm": "||W_E||_F, the embedding's Frobenius norm",
    "weight_norm": "sum of ||theta||^2 over every parameter: the term weight decay shrinks",
    "layer_cos_dist": "per weight layer (W, U_1 .. U_L, V): 1 - cos(P_{t-1}, P_t), one step apart as dW_cos_dist",
    "layer_G_norm": "per weight layer: ||-dL/dZ||_F of the layer's output Z on the training pairs (the hidden "
                    "layers' F_l, the analogue of ||G_F||; for V the network output)",
}
#: Named metric sets for ``train(..., metrics=...)``. "basic" is what a sweep needs; the Gram
#: ratios cost two n x n and one K x K product per run and evaluation.
METRIC_SETS = {
    "all": METRICS + LAYER_METRICS,
    "basic": ("train_acc", "test_acc", "train_loss", "test_loss"),
}
@dataclass
class Results:
    """What :func:`train` returns: per-run metric histories and (optionally) final weights.

    A run's weights are its family's tensors (two-layer net: ``(W (2M, K), V (K, M))``).
    """

    configs: list[TrainConfig]
    eval_epochs: list[np.ndarray]
    metrics: list[dict[str, np.ndarray]]
    n_train: list[int]
    weights: list[tuple[torch.Tensor, ...] | None]
    device: str
    wall_time: float
    batches: list[list[int]] = field(default_factory=list)
    snapshots: list[dict[int, tuple[torch.Tensor, ...]]] = field(default_factory=list)
    metric_names: tuple[str, ...] = METRICS
    layer_metrics: list[dict[str, np.ndarray]] = field(default_factory=list)
    layer_names: list[tuple[str, ...]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.configs)

    def diverged(self, i: int) -> bool:
        """True when run ``i`` produced a non-finite training loss or weights."""
        loss = self.metrics[i].get("train_loss")
        bad = loss is not None and not np.all(np.isfinite(loss))
        w = self.weights[i]
        if w is not None:
            bad = bad or not all(torch.isfinite(t).all() for t in w)
        return bool(bad)

    def _late_fields(self) -> set[str]:
        """The :data:`LATE_FIELDS` that some run sets: columns of the frames (for every run), the others are not."""
        late = {k for c in self.configs for k in LATE_FIELDS if getattr(c, k) != LATE_FIELDS[k]}
        if any(c.model_family in SEQ_FAMILIES for c in self.configs):
            late |= set(_SEQ_FIELDS)
        return late

    def frame(self) -> pd.DataFrame:
        """Tidy frame: one row per (run, epoch), metric columns, then the config fields.

        Only the metrics requested from :func:`train` are columns (all of :data:`METRICS` by default).

        ``run`` is the config's index in the list given to :func:`train`; ``epoch`` counts
        optimizer steps (0 = initialisation). Extra columns: ``M``, ``p`` (effective
        training fraction), ``n_train`` and ``diverged``.
        """
        parts = []
        late = self._late_fields()
        seq = any(c.model_family in SEQ_FAMILIES for c in self.configs)
        for i, cfg in enumerate(self.configs):
            d: dict[str, object] = {"run": i, "epoch": self.eval_epochs[i]}
            # the MED metrics only in frames with a MED net (no all-NaN columns for the Li2 nets)
            d.update({m: v for m, v in self.metrics[i].items() if seq or m not in _SEQ_ONLY})
            d.update(config_fields(cfg, late))
            d.update(M=cfg.M, p=cfg.p, n_train=self.n_train[i], diverged=self.diverged(i))
            parts.append(pd.DataFrame(d))
        if not parts:
            return pd.DataFrame(columns=["run", "epoch", *self.metric_names])
        return pd.concat(parts, ignore_index=True)

    def layer_frame(self) -> pd.DataFrame:
        """Per-layer metrics in long form: one row per (run, evaluated epoch, weight layer).

        Columns ``run, epoch, layer`` (0 = the lowest, ``W``; ``1 .. L`` the extra layers ``U_l``; ``L + 1`` = ``V``),
        ``layer_name`` (``W, U1, .., V``), the requested :data:`LAYER_METRICS`, then the config columns of
        :meth:`frame` and ``M, p, n_train``. Runs of a family without per-layer metrics (``two_layer``) have no rows.
        """
        late = self._late_fields()
        parts = []
        for i, cfg in enumerate(self.configs):
            lm = self.layer_metrics[i] if i < len(self.layer_metrics) else {}
            names = self.layer_names[i] if i < len(self.layer_names) else ()
            if not lm or not names:
                continue
            ep = np.asarray(self.eval_epochs[i])
            nl = len(names)
            d: dict[str, object] = {"run": i, "epoch": np.repeat(ep, nl), "layer": np.tile(np.arange(nl), len(ep)),
                                    "layer_name": np.tile(np.asarray(names, dtype=object), len(ep))}
            d.update({m: v.reshape(-1) for m, v in lm.items()})
            d.update(config_fields(cfg, late))
            d.update(M=cfg.M, p=cfg.p, n_train=self.n_train[i])
            parts.append(pd.DataFrame(d))
        if not parts:
            return pd.DataFrame(columns=["run", "epoch", "layer", "layer_name", *LAYER_METRICS])
        return pd.concat(parts, ignore_index=True)

    def final_weights(self, i: int) -> tuple[torch.Tensor, ...]:
        """``(W (2M, K), V (K, M))`` of run ``i`` after the last epoch, on the CPU (its family's weights; ``deep``:
        ``(W, U_1 .. U_L, V)``)."""
        w = self.weights[i]
        if w is None:
            raise ValueError("final_weights: weights were not kept (train(..., keep_weights=False))")
        return w

    def weights_at(self, i: int, epoch: int) -> tuple[torch.Tensor, ...]:
        """``(W, V)`` of run ``i`` after ``epoch`` optimizer steps (requested via ``train(..., snapshots=...)``)."""
        snaps = self.snapshots[i] if i < len(self.snapshots) else {}
        if epoch not in snaps:
            raise ValueError(
                f"weights_at: no snapshot of run {i} at epoch {epoch}; available: {sorted(snaps)} "
                "(pass snapshots=[...] to train)"
            )
        return snaps[epoch]


def _stderr_is_terminal() -> bool:
    """True when standard error is an interactive terminal (not a notebook kernel, a pipe or a file)."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; otherwise ``torch.device(device)``."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: unknown device {device!r}; use 'auto', 'cpu' or 'cuda'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but CUDA is not available; use 'cpu' or 'auto'")
    return dev


def _memory_budget(dev: torch.device) -> int:
    if dev.type == "cuda":
        free, _ = torch.cuda.mem_get_info(dev)
        return int(0.5 * free)
    return 3 * 2**30


def _plan_batches(configs: Sequence[TrainConfig], dev: torch.device, max_batch: int | None) -> list[list[int]]:
    groups_: dict[tuple, list[int]] = {}
    for i, c in enumerate(configs):
        groups_.setdefault(c.batch_key(), []).append(i)
    budget = _memory_budget(dev)
    out: list[list[int]] = []
    for idx in groups_.values():
        c0 = configs[idx[0]]
        biggest = configs[max(idx, key=lambda j: configs[j].n_train)]
        step, _ = family_for(c0).per_run_bytes(biggest, _DTYPES[c0.dtype].itemsize)
        cap = max(1, budget // max(step, 1))
        if max_batch is not None:
            cap = min(cap, max_batch)
        out.extend(idx[s : s + cap] for s in range(0, len(idx), cap))
    return out


class _Batch:
    """R runs of one batch key as one tensor program: splits, masks, metric buffer and evaluation schedule.

    ``model`` is the config family's batched model (:class:`li2core.models.BatchedModel`): it holds the
    weights, takes the steps and gives the outputs; accuracy and loss are computed here from them.
    """

    def __init__(
        self, cfgs: list[TrainConfig], task: Task, dev: torch.device, metrics: tuple[str, ...] = METRICS
    ) -> None:
        self.cfgs, self.task, self.dev = cfgs, task, dev
        self.want = frozenset(metrics)
        c0 = cfgs[0]
        self.R = len(cfgs)
        self.dtype = _DTYPES[c0.dtype]
        self.loss = c0.loss
        splits = [split_pairs(task, c.split, c.p, c.seed, c.dugout) for c in cfgs]
        self.n_train = [s.n_train for s in splits]
        n_max = max(self.n_train)
        R, N = self.R, task.N
        tr_idx = torch.zeros(R, n_max, dtype=torch.long)
        tr_mask = torch.zeros(R, n_max, dtype=self.dtype)
        all_train = torch.zeros(R, N, dtype=torch.bool)
        for r, s in enumerate(splits):
            tr_idx[r, : s.n_train] = s.train
            tr_mask[r, : s.n_train] = 1.0
            all_train[r, s.train] = True
        tr_a, tr_b, tr_y = (t.to(dev)[tr_idx].to(dev) for t in (task.a, task.b, task.y))
        self.all_train = all_train.to(dev).to(self.dtype)
        self.all_test = (~all_train).to(dev).to(self.dtype)
        # Runs with train_frac = 1 have no test pairs: their test metrics are NaN, but their
        # batch-mates still need theirs (so test "any run has a test pair", not "every run").
        self.test_rows = (~all_train).any(dim=1).to(dev)
        self.has_test = bool(self.test_rows.any())
        M = task.M
        if not (torch.equal(task.a, torch.arange(N) // M) and torch.equal(task.b, torch.arange(N) % M)):
            raise ValueError("task: pairs must be in make_task order (pair i = (i // M, i % M))")
        self.y_all = task.y.to(dev)
        self.n_tr_all = self.all_train.sum(1)
        self.n_te_all = self.all_test.sum(1)
        self.data = BatchData(task=task, device=dev, dtype=self.dtype, n_train=self.n_train, tr_idx=tr_idx.to(dev),
                              tr_a=tr_a, tr_b=tr_b, tr_y=tr_y, tr_mask=tr_mask.to(dev))
        family = family_for(c0)
        self.model: BatchedModel = family(cfgs, self.data, self.want)
        # per-layer metrics (a family with layer_metrics and n_layers): (names, R, n_layers) per evaluation
        fam_layer = getattr(family, "layer_metrics", ())
        self.layer_metrics = tuple(m for m in LAYER_METRICS if m in self.want and m in fam_layer)
        self.n_layers = int(getattr(self.model, "n_layers", 0))
        self.lout: torch.Tensor | None = None
        _, ev = family.per_run_bytes(c0, self.dtype.itemsize)
        self.eval_chunk = max(1, _memory_budget(dev) // max(ev, 1))

    def _score(self, out: torch.Tensor, s: slice, O: torch.Tensor) -> None:
        """Accuracy and loss of runs ``s`` from their outputs ``O (r, M^2, M)`` on all pairs, into ``out[:4, s]``."""
        mtr, mte = self.all_train[s], self.all_test[s]
        hit = (O.argmax(dim=-1) == self.y_all).to(self.dtype)
        out[0, s] = (hit * mtr).sum(1) / self.n_tr_all[s]
        out[1, s] = (hit * mte).sum(1) / self.n_te_all[s]  # NaN for a run without test pairs
        rl = row_losses(self.loss, O, self.y_all)
        if rl is not None:
            out[2, s] = (rl * mtr).sum(1) / self.n_tr_all[s]
            out[3, s] = (rl * mte).sum(1) / self.n_te_all[s]
        else:
            out[2, s] = loss_and_grad(self.loss, O, self.y_all, mtr, need_grad=False)[0]
            if self.has_test:
                test_loss = loss_and_grad(self.loss, O, self.y_all, mte, need_grad=False)[0]
                out[3, s] = torch.where(self.test_rows[s], test_loss, torch.nan)

    @torch.no_grad()
    def evaluate(self, prev: tuple[torch.Tensor, ...] | None) -> torch.Tensor:
        """The requested metrics at the current weights, ``(len(METRICS), R)`` on the device (NaN if not requested)."""
        out = torch.full((len(METRICS), self.R), float("nan"), dtype=self.dtype, device=self.dev)
        lout = torch.full((len(self.layer_metrics), self.R, self.n_layers), float("nan"), dtype=self.dtype,
                          device=self.dev)
        for s0 in range(0, self.R, self.eval_chunk):
            s = slice(s0, min(self.R, s0 + self.eval_chunk))
            extra = self.model.evaluate(s, prev, lambda O, s=s: self._score(out, s, O))
            for name, v in extra.items():
                if name in _METRIC_ROW:
                    out[_METRIC_ROW[name], s] = v
                elif name in self.layer_metrics:
                    lout[self.layer_metrics.index(name), s] = v
        self.lout = lout
        return out

    def run(
        self, pbar: object | None, snapshots: Iterable[int] = ()
    ) -> tuple[np.ndarray, np.ndarray, list[dict[int, tuple[torch.Tensor, ...]]]]:
        c0 = self.cfgs[0]
        snap_at = {int(e) for e in snapshots if 0 <= int(e) <= c0.epochs}
        snaps: list[dict[int, tuple[torch.Tensor, ...]]] = [{} for _ in range(self.R)]
        E, k = c0.epochs, c0.eval_every
        eval_epochs = sorted(set(range(0, E, k)) | {E})
        is_eval = set(eval_epochs)
        buf = torch.empty(len(eval_epochs), len(METRICS), self.R, dtype=self.dtype, device=self.dev)
        self.lbuf = torch.empty(len(eval_epochs), len(self.layer_metrics), self.R, self.n_layers, dtype=self.dtype,
                                device=self.dev)
        sync_every = max(1, min(max(k, E // 50), E))
        prev: tuple[torch.Tensor, ...] | None = None
        j = 0
        for t in range(E + 1):
            if t in is_eval:
                buf[j] = self.evaluate(prev)
                self.lbuf[j] = self.lout
                j += 1
            if t in snap_at:
                for r in range(self.R):
                    snaps[r][t] = self.model.weights(r)
            if t == E:
                break
            prev = self.model.prev_state() if (t + 1) in is_eval else None
            self.model.step()
            if pbar is not None and ((t + 1) % sync_every == 0 or t + 1 == E):
                if self.dev.type == "cuda":
                    torch.cuda.synchronize(self.dev)
                pbar.update((t + 1) - pbar.n_in_batch)  # type: ignore[attr-defined]
                pbar.n_in_batch = t + 1  # type: ignore[attr-defined]
        return np.asarray(eval_epochs), buf.cpu().numpy(), snaps


def train(
    configs: TrainConfig | Iterable[TrainConfig],
    device: str | torch.device = "auto",
    progress: bool | None = None,
    max_batch: int | None = None,
    keep_weights: bool = True,
    snapshots: Iterable[int] = (),
    metrics: str | Sequence[str] = "all",
) -> Results:
    """Train every config; compatible configs share one batched tensor program.

    Parameters
    ----------
    configs: one config or a sequence of them; ``run`` ``i`` of the results is ``configs[i]``.
    device: ``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"``, ...
    progress: show a progress bar (epochs of the current batch, runs done / total); ``None`` (default): only when
        standard error is a terminal, so notebooks and rendered pages never carry one.
    max_batch: at most this many runs per tensor program (default: as many as fit in memory).
    keep_weights: keep final weights (``W, V``) of every run for :meth:`Results.final_weights`.
    snapshots: epochs at which to copy every run's weights (``W, V``) to the host (:meth:`Results.weights_at`);
        epochs beyond a run's ``epochs`` are ignored.
    metrics: ``"all"`` (every column of :data:`METRICS`), ``"basic"`` (train/test accuracy and loss:
        what a sweep needs, and much cheaper: no Gram matrices), or a list of metric names.
    """
    cfgs = [configs] if isinstance(configs, TrainConfig) else list(configs)
    for i, c in enumerate(cfgs):
        if not isinstance(c, TrainConfig):
            raise TypeError(f"configs[{i}]: expected a TrainConfig, got {type(c).__name__}")
    if max_batch is not None and (not _is_int(max_batch) or max_batch < 1):
        raise ValueError(f"max_batch: must be an integer >= 1 or None; got {max_batch!r}")
    if isinstance(metrics, str):
        if metrics not in METRIC_SETS:
            raise ValueError(f"metrics: unknown metric set {metrics!r}; accepted: {', '.join(METRIC_SETS)} or a list of {', '.join(METRICS)}")
        wanted = tuple(METRIC_SETS[metrics])
    else:
        wanted = tuple(metrics)
        bad = [m for m in wanted if m not in METRICS + LAYER_METRICS]
        if bad or not wanted:
            raise ValueError(f"metrics: unknown metrics {bad}; accepted: {', '.join(METRICS + LAYER_METRICS)}")
    # accuracy and loss come with every evaluation; keep the requested order of METRICS
    asked = set(wanted) | set(METRIC_SETS["basic"])

    wanted = tuple(m for m in METRICS if m in asked)
    want_layers = tuple(m for m in LAYER_METRICS if m in asked)
    dev = resolve_device(device)
    plan = _plan_batches(cfgs, dev, max_batch)
    n = len(cfgs)
    eval_epochs: list[np.ndarray] = [np.empty(0)] * n
    metrics: list[dict[str, np.ndarray]] = [{}] * n
    n_train = [0] * n
    weights: list[tuple[torch.Tensor, ...] | None] = [None] * n
    layer_metrics: list[dict[str, np.ndarray]] = [{} for _ in range(n)]
    layer_names: list[tuple[str, ...]] = [() for _ in range(n)]
    snaps: list[dict[int, tuple[torch.Tensor, ...]]] = [{} for _ in range(n)]
    snapshots = sorted({int(e) for e in snapshots})
    if any(e < 0 for e in snapshots):
        raise ValueError(f"snapshots: epochs must be >= 0; got {snapshots}")
    pbar = None
    if progress is None:
        progress = _stderr_is_terminal()
    if progress and plan:
        # imported here: importing tqdm.auto in a notebook kernel without ipywidgets warns on stderr
        from tqdm.auto import tqdm

        pbar = tqdm(total=sum(cfgs[b[0]].epochs for b in plan), unit="epoch", dynamic_ncols=True)
    t0 = time.perf_counter()
    done = 0
    try:
        for bi, idx in enumerate(plan):
            bc = [cfgs[i] for i in idx]
            fam = family_for(bc[0])  # a family with its own data (resnet: images) names its task
            task = fam.make_task(bc[0]) if hasattr(fam, "make_task") else _task(bc[0].group, bc[0].op)
            if pbar is not None:
                pbar.set_description(f"batch {bi + 1}/{len(plan)}: {len(idx)} runs ({done}/{n} done)")
                pbar.n_in_batch = 0  # type: ignore[attr-defined]
            batch = _Batch(bc, task, dev, wanted + want_layers)
            ep, buf, bsnaps = batch.run(pbar, snapshots)
            for r, i in enumerate(idx):
                eval_epochs[i] = ep
                metrics[i] = {m: buf[:, k, r].astype(np.float64) for k, m in enumerate(METRICS) if m in wanted}
                lbuf = batch.lbuf.cpu().numpy()
                layer_metrics[i] = {m: lbuf[:, k, r].astype(np.float64) for k, m in enumerate(batch.layer_metrics)}
                layer_names[i] = tuple(getattr(batch.model, "layer_names", ()))
                n_train[i] = batch.n_train[r]
                snaps[i] = bsnaps[r]
                if keep_weights:
                    weights[i] = batch.model.weights(r)
            done += len(idx)
            del batch
    finally:
        if pbar is not None:
            pbar.set_description(f"trained {done}/{n} runs")
            pbar.close()
    return Results(
        configs=cfgs,
        eval_epochs=eval_epochs,
        metrics=metrics,
        n_train=n_train,
        weights=weights,
        device=str(dev),
        wall_time=time.perf_counter() - t0,
        batches=plan,
        snapshots=snaps,
        metric_names=wanted,
        layer_metrics=layer_metrics,
        layer_names=layer_names,
    )
