"""Chapter ``bridge_med_li2`` (issue 12, "One network, two progress measures"): each paper's progress measure on
the other paper's network, measured on the same runs, and which signal moves first.

* The Li2 two-layer net on ``Z_M`` (Fig. 3's CPU setting, :func:`li2_configs`): MED (MED Def. 4.2) of the hidden
  layer's rows, read as embeddings (:func:`med_rows`: rows ``0..M-1`` of ``W (2M, K)`` embed the first operand),
  beside ``||G_F||`` (Eq. 2 and the trained loss's), the energy of the learned nodes (Eq. 7 on unit nodes,
  :func:`node_energy`), the Fourier purity of ``W`` and Fig. 3's two stages (:func:`li2_trace`).
* The MED transformer (:func:`tf_configs`, 1 layer): the Li2 quantities on its first (only) MLP layer: the
  backpropagated gradient ``G_F = dL/dF`` of the trained loss at the hidden activations ``F`` on the training pairs
  (:func:`first_layer_gradient`, by autograd; :func:`first_layer_gradient_closed` is the chain rule written out),
  and the diagonality of ``F~^T F~`` and ``P1perp F F^T`` over all pairs (:func:`tf_trace`).
* Events and lags (:func:`run_events`, :func:`lag_frame`, :func:`lag_summary`), by the rules fixed below before the
  chapter's runs were looked at. Figures :func:`course_figure` (time courses, one per net) and :func:`lag_figure`.

A generic helper that could live in the library: :func:`first_layer_gradient` (``dL/dF`` at the transformer's MLP
hidden layer through ``transformer_logits(..., hidden=...)``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import measures
from .. import theory as th
from ..figures import EPOCH_LABEL, theme
from ..losses import loss_and_grad
from ..models.transformer import tokens, transformer_logits
from ..tasks import make_task, split_pairs
from ..train import Results, TrainConfig, med_config
from .med_progress import first_epoch_at

# --- The rules, fixed before the chapter's runs were looked at ---------------------------------------------------
#: A run has fitted its training set at its first evaluation with ``train_acc >= FIT_ACC`` (Fig. 3's rule).
FIT_ACC = 0.99
#: A run has grokked at its first evaluation with ``test_acc >= GROK_THRESHOLD`` (the rule of both papers' chapters).
GROK_THRESHOLD = 0.95
#: A node of the Li2 net is *active* when ``||w_j|| >= ACTIVE_FRAC * max_j ||w_j||`` (fig5_scaling_law's rule).
ACTIVE_FRAC = 0.1
#: Li2's "diagonal up to 8% error" (Fig. 3, the assumption of Lemma 1).
DIAG_MAX = 0.08
#: The signals of each net, by column name of :func:`li2_trace` / :func:`tf_trace`.
LI2_SIGNALS = ("test_loss", "med_W", "G_F_norm", "G_F_loss_norm", "W_purity", "energy")
TF_SIGNALS = ("test_loss", "med", "G_F1_norm", "W_purity", "ftf1", "fft1")
#: Per net: the gradient signal whose peak is compared with feature emergence (the half-move of ``W_purity``).
GRADIENT = {"li2": "G_F_norm", "tf": "G_F1_norm"}
MED_SIGNAL = {"li2": "med_W", "tf": "med"}
LABELS = {
    "test_loss": "test loss", "test_acc": "test accuracy", "med_W": "MED of W's rows (Def. 4.2)",
    "med": "MED of W_E (Def. 4.2)", "G_F_norm": "‖G_F‖ (Eq. 2)", "G_F_loss_norm": "‖∂L/∂F‖ (trained loss)",
    "G_F1_norm": "‖∂L/∂F‖, first MLP layer", "W_purity": "Fourier purity", "energy": "energy E, active nodes",
    "ftf1": "F̃ᵀF̃ off-diag / diag", "fft1": "P⊥FFᵀ off-diag / diag",
}
NETS = {"li2": "Li₂ two-layer net", "tf": "MED transformer"}


# --- Runs ----------------------------------------------------------------------------------------------------------
def li2_configs(M: int, width: int, train_frac: float, seeds: int, epochs: int, lr: float, weight_decay: float,
                eval_every: int) -> list[TrainConfig]:
    """Fig. 3's net with weight decay: ``Z_M``, ``sigma(x) = x^2``, the author's ``mse_class`` loss, Adam; seeds
    ``0 .. seeds-1``. Validated by :class:`TrainConfig` (``ValueError`` naming a bad field)."""
    _check_seeds(seeds)
    return [TrainConfig(group=f"Z{M}", train_frac=train_frac, width=width, activation="sqr", loss="mse_class",
                        optimizer="adam", lr=lr, weight_decay=weight_decay, epochs=epochs, seed=s,
                        eval_every=eval_every) for s in range(seeds)]


def tf_configs(p: int, train_frac: float, d_model: int, width: int, seeds: int, epochs: int, lr: float,
               weight_decay: float, eval_every: int) -> list[TrainConfig]:
    """The MED authors' 1-layer transformer on addition mod ``p`` (:func:`li2core.train.med_config`, their random
    split) at ``d_model``, ``width`` (d_mlp), ``lr`` and ``weight_decay``; seeds ``0 .. seeds-1``."""
    _check_seeds(seeds)
    return [med_config("transformer", p=p, op="add", train_frac=train_frac, d_model=d_model, width=width, lr=lr,
                       weight_decay=weight_decay, epochs=epochs, eval_every=eval_every, seed=s) for s in range(seeds)]


def _check_seeds(seeds: Any) -> None:
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")


def eval_epochs(epochs: int, every: int) -> list[int]:
    """The trainer's evaluation epochs ``0, every, 2 every, ..`` and ``epochs`` (where the snapshots are taken)."""
    return sorted(set(range(0, epochs, every)) | {epochs})


def train_rows(cfg: TrainConfig) -> torch.Tensor:
    """The run's training pairs (indices into :func:`li2core.tasks.make_task` order), as the trainer splits them."""
    return split_pairs(make_task(cfg.group, op=cfg.op), cfg.split, cfg.p, cfg.seed, cfg.dugout).train


# --- The Li2 net: MED of W's rows and the energy of the nodes --------------------------------------------------------
def med_rows(W: torch.Tensor, M: int, operand: int = 0) -> float:
    """MED (Def. 4.2, cyclic, with ``1/M``) of the rows of the hidden layer ``W (2M, K)`` that embed one operand:
    rows ``0..M-1`` (``operand=0``: ``X W`` adds row ``a`` and row ``M + b``) or ``M..2M-1`` (``operand=1``)."""
    if W.dim() != 2 or W.shape[0] != 2 * M:
        raise ValueError(f"W: expected shape (2M, K) = ({2 * M}, K); got {tuple(W.shape)}")
    if operand not in (0, 1):
        raise ValueError(f"operand: 0 or 1; got {operand!r}")
    return float(measures.med(W.detach().to(torch.float64)[operand * M:(operand + 1) * M]))


def node_energy(W: torch.Tensor, group: str, rows: torch.Tensor, active_frac: float = ACTIVE_FRAC) -> float:
    """The mean energy ``E(w_j / ||w_j||)`` (Eq. 7, :func:`li2core.theory.energy` with ``sigma(x) = x^2`` on the
    training ``rows``) over the active nodes (columns of ``W (2M, K)`` with ``||w_j|| >= active_frac max ||w||``)."""
    w = W.detach().to(torch.float64).T
    norm = w.norm(dim=1)
    u = w[norm >= active_frac * norm.max()]
    u = u / u.norm(dim=1, keepdim=True)
    return float(th.energy(u, group, "sqr", rows=rows, chunk=0).mean())


def li2_trace(res: Results) -> pd.DataFrame:
    """The tidy frame of the Li2 runs with, at every snapshot, ``med_W`` (:func:`med_rows`, first operand),
    ``med_W_b`` (second operand), ``row_norm`` (the mean norm of the first operand's rows) and ``energy``
    (:func:`node_energy`)."""
    out = []
    for i, c in enumerate(res.configs):
        rows = train_rows(c)
        for t, (W, _) in sorted(res.snapshots[i].items()):
            out.append(dict(run=i, epoch=int(t), med_W=med_rows(W, c.M), med_W_b=med_rows(W, c.M, 1),
                            row_norm=float(W[:c.M].double().norm(dim=1).mean()), energy=node_energy(W, c.group, rows)))
    return res.frame().merge(pd.DataFrame(out), on=["run", "epoch"], how="left")


# --- The transformer: the Li2 quantities on its first layer -----------------------------------------------------------
def _params64(params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    return [w.detach().to(torch.float64)[None] for w in params]


def first_layer_features(params: Sequence[torch.Tensor], cfg: TrainConfig, tok: torch.Tensor) -> torch.Tensor:
    """The first MLP layer's hidden activations ``F (n, d_mlp)`` at the cls position for token triples ``tok``
    (a 1-layer transformer: its only block is the first), in float64."""
    if cfg.n_layers != 1:
        raise ValueError(f"cfg: the first MLP layer is read through `hidden` only for n_layers = 1; got {cfg.n_layers}")
    hidden: list[torch.Tensor] = []
    with torch.no_grad():
        transformer_logits(_params64(params), tok, 1, cfg.n_heads, cfg.activation, hidden)
    return hidden[0][0]


def _mask(tok: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return torch.ones(1, tok.shape[0], dtype=torch.float64)
    if mask.shape != (tok.shape[0],):
        raise ValueError(f"mask: expected shape ({tok.shape[0]},), one entry per pair; got {tuple(mask.shape)}")
    return mask.to(torch.float64)[None]


def first_layer_gradient(params: Sequence[torch.Tensor], cfg: TrainConfig, tok: torch.Tensor, y: torch.Tensor,
                         mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(F, G_F)``: the first MLP layer's activations ``F (n, d_mlp)`` on the pairs ``tok`` and ``G_F = dL/dF``, the
    gradient of the trained loss (``cfg.loss``: the mean over the pairs, or over those with ``mask`` ``(n,)`` true;
    the rows of the others are 0) with respect to them, by autograd, in float64.

    ``transformer_logits(..., hidden=...)`` hands back a view of the activations; the gradient is taken at its base
    (the tensor the rest of the network reads)."""
    if cfg.n_layers != 1:
        raise ValueError(f"cfg: the first MLP layer is read through `hidden` only for n_layers = 1; got {cfg.n_layers}")
    m = _mask(tok, mask)
    hidden: list[torch.Tensor] = []
    with torch.enable_grad():
        ps = [w.requires_grad_(True) for w in _params64(params)]
        O = transformer_logits(ps, tok, 1, cfg.n_heads, cfg.activation, hidden)
        h = hidden[0]._base if hidden[0]._base is not None else hidden[0]
        loss = loss_and_grad(cfg.loss, O, y[None], m, need_grad=False)[0].sum()
        (g,) = torch.autograd.grad(loss, h)
    return hidden[0][0].detach(), g.reshape(tok.shape[0], -1)


def first_layer_gradient_closed(params: Sequence[torch.Tensor], cfg: TrainConfig, tok: torch.Tensor,
                                y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The same ``G_F`` by the chain rule written out for one block: the logits are ``(y + W_out F + b_out) W_U`` at
    the cls position, so ``dL/dF = (dL/dO) W_U^T W_out`` with ``dL/dO`` of the loss (:func:`li2core.losses
    .loss_and_grad`)."""
    ps = _params64(params)
    with torch.no_grad():
        O = transformer_logits(ps, tok, 1, cfg.n_heads, cfg.activation)
        gO = loss_and_grad(cfg.loss, O, y[None], _mask(tok, mask), need_grad=True)[1][0]
    W_out, W_U = ps[8][0], ps[-1][0]  # W_out (d_model, d_mlp), W_U (d_model, p)
    return gO @ W_U.T @ W_out


def tf_layer_measures(params: Sequence[torch.Tensor], cfg: TrainConfig, rows: torch.Tensor) -> dict[str, float]:
    """At one set of weights: ``G_F1_norm`` (``||dL/dF||_F`` of the loss on the training ``rows``,
    :func:`first_layer_gradient`), ``ftf1`` / ``fft1`` (:func:`li2core.measures.ftf_offdiag_ratio` /
    ``fft_offdiag_ratio`` of ``F`` over all pairs) and ``med_snap`` (Def. 4.2 on the first operand's embedding
    columns, recomputed). One forward pass over all pairs."""
    task = make_task(cfg.group, op=cfg.op)
    tok_all = tokens(task.a, task.b, cfg.M, cfg.token_offset)
    train = torch.zeros(task.N, dtype=torch.bool)
    train[rows] = True
    F, G = first_layer_gradient(params, cfg, tok_all, task.y, train)
    F = F[None]
    ones = torch.ones(F.shape[:2], dtype=F.dtype)
    return dict(G_F1_norm=float(G.norm()), ftf1=float(measures.ftf_offdiag_ratio(F, ones)[0]),
                fft1=float(measures.fft_offdiag_ratio(F, ones)[0]),
                med_snap=float(measures.med(params[0].detach().double().T[:cfg.M])))


def tf_trace(res: Results) -> pd.DataFrame:
    """The tidy frame of the transformer runs with :func:`tf_layer_measures` at every snapshot."""
    out = []
    for i, c in enumerate(res.configs):
        rows = train_rows(c)
        for t, ps in sorted(res.snapshots[i].items()):
            out.append(dict(run=i, epoch=int(t), **tf_layer_measures(ps, c, rows)))
    return res.frame().merge(pd.DataFrame(out), on=["run", "epoch"], how="left")


# --- Events and lags ------------------------------------------------------------------------------------------------
def peak_at(epochs: Any, values: Any, min_epoch: float = 1) -> float:
    """The (first) epoch of the largest finite value at epochs ``>= min_epoch``; NaN when there is none."""
    ep, v = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    ok = (ep >= min_epoch) & np.isfinite(v)
    if not ok.any():
        return math.nan
    return float(ep[ok][int(np.argmax(v[ok]))])


def half_move(epochs: Any, values: Any, t0: float, t1: float) -> float:
    """The first epoch in ``[t0, t1]`` at which ``values`` has covered half of its change over the window: from its
    first to its last finite evaluation inside the window (``(v(t) - v_first) / (v_last - v_first) >= 1/2``). On a
    signal evaluated at ``t0`` and ``t1`` this is med_progress's ``half_change_epoch``; a signal read on a coarser grid
    uses its own evaluations. NaN when the window is empty or the signal does not change."""
    ep, v = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    if ep.shape != v.shape:
        raise ValueError(f"epochs, values: need the same shape; got {ep.shape} and {v.shape}")
    if not (np.isfinite(t0) and np.isfinite(t1)):
        return math.nan
    sel = (ep >= t0) & (ep <= t1) & np.isfinite(v)
    e, x = ep[sel], v[sel]
    if e.size < 2 or x[-1] == x[0]:
        return math.nan
    hit = np.flatnonzero((x - x[0]) / (x[-1] - x[0]) >= 0.5)
    return float(e[hit[0]])


def fall_window(epochs: Any, test_loss: Any, fit_epoch: float) -> tuple[float, float]:
    """The test loss's fall after the fit (med_progress's rule): ``(peak, low)`` with ``low`` the epoch of the lowest
    test loss at epochs ``>= fit_epoch`` and ``peak`` that of the highest between ``fit_epoch`` and ``low``."""
    ep, v = np.asarray(epochs, dtype=float), np.asarray(test_loss, dtype=float)
    if not np.isfinite(fit_epoch):
        return math.nan, math.nan
    sel = ep >= fit_epoch
    low = float(ep[sel][int(np.nanargmin(v[sel]))])
    sel2 = sel & (ep <= low)
    return float(ep[sel2][int(np.nanargmax(v[sel2]))]), low


def run_events(trace: pd.DataFrame, signals: Sequence[str], gradient: str) -> pd.DataFrame:
    """Per run (``run, seed``), the event epochs of the rules:

    * ``fit`` (train accuracy ``>= FIT_ACC``), ``grok`` (test accuracy ``>= GROK_THRESHOLD``);
    * the test loss's fall ``fall_start, fall_end`` (:func:`fall_window`);
    * ``half_<s>`` for every signal ``s``: the first epoch in the fall window at which ``s`` has covered half of its
      change over the window (:func:`half_move`);
    * ``peak_grad``: the epoch of the largest ``gradient`` (epochs ``>= 1``); ``feature``: the first epoch at which
      ``W_purity`` has covered half of its change over the whole run (feature emergence);
    * ``peak_dV``, ``peak_dW`` (Fig. 3's two stages) where the trace has the cosine distances.
    """
    rows = []
    for (r, seed), d in trace.groupby(["run", "seed"], sort=True):
        d = d.sort_values("epoch")
        ep = d["epoch"].to_numpy(float)
        fit = first_epoch_at(ep, d["train_acc"], FIT_ACC)
        f0, f1 = fall_window(ep, d["test_loss"], fit)
        row = dict(run=int(r), seed=int(seed), fit=fit, grok=first_epoch_at(ep, d["test_acc"], GROK_THRESHOLD),
                   fall_start=f0, fall_end=f1, peak_grad=peak_at(ep, d[gradient]),
                   feature=half_move(ep, d["W_purity"], ep[0], ep[-1]))
        for s in signals:
            x = d[["epoch", s]].dropna()
            row[f"half_{s}"] = half_move(x["epoch"], x[s], f0, f1)
        for m, k in (("dV_cos_dist", "peak_dV"), ("dW_cos_dist", "peak_dW")):
            if m in d:
                row[k] = peak_at(ep, d[m])
        rows.append(row)
    return pd.DataFrame(rows)


def lag_frame(events: pd.DataFrame, signals: Sequence[str], gradient: str, net: str) -> pd.DataFrame:
    """Per run and comparison, a lag in epochs; positive: the first-named signal moves first. ``lead_<s>`` =
    ``half_test_loss - half_<s>`` (the lead of ``s`` over the test loss while it falls) for every signal but the test
    loss; ``grad_feature`` = ``feature - peak_grad`` (the gradient peaks before the features emerge)."""
    rows = []
    for e in events.itertuples():
        for s in signals:
            if s != "test_loss":
                rows.append(dict(net=net, seed=e.seed, comparison=f"lead_{s}", first=s, second="test_loss",
                                 lag=getattr(e, "half_test_loss") - getattr(e, f"half_{s}")))
        rows.append(dict(net=net, seed=e.seed, comparison="grad_feature", first=gradient, second="W_purity",
                         lag=e.feature - e.peak_grad))
    return pd.DataFrame(rows)


def lag_summary(lags: pd.DataFrame) -> pd.DataFrame:
    """Per net and comparison, over the seeds: ``mean``, ``sd`` (ddof 1; NaN for one seed), ``min``, ``max``, ``n``
    (finite lags), ``n_pos`` / ``n_neg`` (lags > 0 / < 0), ``same_sign`` (every finite lag > 0, or every one < 0)
    and ``leads`` (every finite lag > 0, at least one)."""
    def agg(g: pd.DataFrame) -> pd.Series:
        x = g["lag"].to_numpy(float)
        x = x[np.isfinite(x)]
        npos, nneg = int((x > 0).sum()), int((x < 0).sum())
        return pd.Series(dict(mean=float(x.mean()) if x.size else math.nan,
                              sd=float(x.std(ddof=1)) if x.size > 1 else math.nan,
                              min=float(x.min()) if x.size else math.nan, max=float(x.max()) if x.size else math.nan,
                              n=int(x.size), n_pos=npos, n_neg=nneg,
                              same_sign=bool(x.size) and (npos == x.size or nneg == x.size),
                              leads=bool(x.size) and npos == x.size, n_seeds=len(g)))
    return lags.groupby(["net", "comparison"], sort=False)[["lag"]].apply(agg).reset_index()


# --- Figures ----------------------------------------------------------------------------------------------------------
#: The panels of each net's time-course figure: (column, y scale).
COURSE_PANELS = {
    "li2": [("test_acc", "linear"), ("test_loss", "linear"), ("med_W", "linear"), ("G_F_norm", "linear"),
            ("W_purity", "linear"), ("energy", "linear")],
    "tf": [("test_acc", "linear"), ("test_loss", "log"), ("med", "linear"), ("G_F1_norm", "log"),
           ("W_purity", "linear"), ("ftf1", "linear")],
}


def course_data(trace: pd.DataFrame, net: str) -> pd.DataFrame:
    """The numbers behind :func:`course_figure`: per seed and epoch, every panel's column (long form)."""
    cols = [c for c, _ in COURSE_PANELS[net]] + (["fft1"] if net == "tf" else [])
    d = trace[["seed", "epoch", *cols]].melt(id_vars=["seed", "epoch"], var_name="signal").dropna()
    return d.assign(net=net)


def _event_of(signal: str, net: str) -> str | None:
    if signal == GRADIENT[net]:
        return "peak_grad"
    if signal == "W_purity":
        return "feature"
    if signal == "test_acc":
        return "grok"
    return f"half_{signal}"


def course_figure(trace: pd.DataFrame, events: pd.DataFrame, net: str) -> plt.Figure:
    """A 3 x 2 grid of the net's signals against the epoch, one line per seed; a dot marks each seed's event on its
    curve (half-move in the test loss's fall; the gradient's peak; the purity's half-move over the run; the grok
    epoch); grey dashed: the median half-move epoch of the test loss; grey dotted: Fig. 3's Stage II peak (Li2 net)."""
    theme()
    fig, axes = plt.subplots(3, 2, figsize=(8.0, 7.6), sharex=True)
    colors = sns.color_palette("colorblind")
    seeds = sorted(trace["seed"].unique())
    t_loss = float(events["half_test_loss"].median())
    for ax, (col, scale) in zip(axes.flat, COURSE_PANELS[net]):
        ev = _event_of(col, net)
        for k, s in enumerate(seeds):
            d = trace[(trace["seed"] == s)][["epoch", col]].dropna()
            ax.plot(d["epoch"], d[col], color=colors[k], lw=1.5, label=f"seed {s}")
            e = events.loc[events["seed"] == s, ev]
            if len(e) and np.isfinite(e.iloc[0]):
                y = np.interp(e.iloc[0], d["epoch"], d[col])
                ax.plot([e.iloc[0]], [y], "o", color=colors[k], ms=7, mec="black", mew=0.8)
        if col == "ftf1":
            for k, s in enumerate(seeds):
                d = trace[(trace["seed"] == s)][["epoch", "fft1"]].dropna()
                ax.plot(d["epoch"], d["fft1"], color=colors[k], lw=1.2, ls="--")
            ax.axhline(DIAG_MAX, color="black", lw=1, ls=":")
            ax.set_title("solid: F̃ᵀF̃, dashed: P⊥FFᵀ; dotted: 8%", fontsize=9.5)
        if np.isfinite(t_loss):
            ax.axvline(t_loss, color="grey", ls="--", lw=1)
        if net == "li2" and "peak_dW" in events:
            ax.axvline(float(events["peak_dW"].median()), color="grey", ls=":", lw=1.2)
        ax.set_yscale(scale)
        ax.set_ylabel(LABELS[col].replace(", ", ",\n") if len(LABELS[col]) > 22 else LABELS[col], fontsize=10)
    for ax in axes[-1]:
        ax.set_xlabel(EPOCH_LABEL, fontsize=10)
    axes[0, 0].legend(fontsize=9.5, loc="best")
    fig.suptitle(f"{NETS[net]}: dots = each seed's event, dashed = median half-move of the test loss", fontsize=11)
    fig.tight_layout()
    return fig


def lag_figure_data(lags: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`lag_figure`: one row per net, comparison and seed."""
    return lags.copy()


def comparison_label(row: Any) -> str:
    """``"<first> before <second>"`` in the words of :data:`LABELS`."""
    first, second = LABELS[row.first], LABELS[row.second]
    if row.comparison == "grad_feature":
        return f"{first} peak\nbefore purity half-move"
    return f"{first}\nbefore the test loss"


def lag_figure(lags: pd.DataFrame) -> plt.Figure:
    """One panel per net: each comparison's lag (epochs; > 0: the first signal moves first), one marker per seed,
    a black bar at the mean and a grey line at 0."""
    theme()
    nets = list(dict.fromkeys(lags["net"]))
    n_rows = [lags[lags["net"] == n]["comparison"].nunique() for n in nets]
    fig, axes = plt.subplots(len(nets), 1, figsize=(8.0, 1.0 + 0.75 * sum(n_rows)), squeeze=False,
                             gridspec_kw={"height_ratios": n_rows})
    colors = sns.color_palette("colorblind")
    for ax, net in zip(axes[:, 0], nets):
        d = lags[lags["net"] == net]
        comps = list(dict.fromkeys(d["comparison"]))
        labels = [comparison_label(d[d["comparison"] == c].iloc[0]) for c in comps]
        for j, c in enumerate(comps):
            dc = d[d["comparison"] == c]
            for k, (s, v) in enumerate(zip(dc["seed"], dc["lag"])):
                ax.plot([v], [j + 0.12 * (k - 1)], "o", color=colors[int(s) % 10], ms=7,
                        label=f"seed {s}" if j == 0 else None)
            m = float(np.nanmean(dc["lag"])) if np.isfinite(dc["lag"]).any() else math.nan
            ax.plot([m, m], [j - 0.3, j + 0.3], color="black", lw=2.5)
        ax.axvline(0, color="grey", lw=1)
        ax.set_yticks(range(len(comps)), labels, fontsize=9.5)
        ax.invert_yaxis()
        ax.set_title(f"{NETS[net]}: lag in epochs (> 0: the first signal moves first)", fontsize=11)
        ax.set_xlabel("lag (epochs)", fontsize=10)
        ax.legend(fontsize=9.5, loc="best")
    fig.tight_layout()
    return fig
