"""Chapter ``thm1_energy`` (paper-li2 Thm 1, Eqs. 6-7): the gradient checks of the energy and the alignment of
W's column updates with ``grad E`` during Stage II (:func:`stage2_alignment`); figures :func:`thm1_gradcheck`,
:func:`thm1_alignment`.

Drivers, in the order the notebook calls them: :func:`stage2_configs` (the Adam and SGD runs); (a)
:func:`gradcheck_frame`; (b) :func:`snapshot_epochs`, :func:`alignment_frame` (over :func:`stage2_alignment`),
:func:`stage2_windows`, :func:`accuracy_curves`, :func:`optimizer_titles`, :func:`stage2_summary`,
:func:`summary_table`.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import theory as th
from ..activations import derivatives
from ..figures import EPOCH_LABEL, theme
from ..fourier import dominant_component
from ..pages import markdown_table
from ..tasks import make_task
from ..threads import one_torch_thread
from ..train import TrainConfig

#: Per-node measures of :func:`stage2_alignment` (``t`` an epoch, ``j`` a hidden node; "tangent" means both
#: vectors projected on ``w_j(t)^perp``, the tangent space of the sphere that Stage II's norm constraint uses).
ALIGNMENT_MEASURES = {
    "gF_vs_signal": "cos(g_j, Y~ Y~^T sigma(X w_j)), g_j column j of -dL/dF: the premise of Eq. 6, in F space",
    "lossgrad_vs_gradE": "cos(-dL/dw_j, grad E(w_j))",
    "lossgrad_vs_gradE_tangent": "cos(-dL/dw_j, grad E(w_j)), tangent parts",
    "update_vs_gradE": "cos(w_j(t+1) - w_j(t), grad E(w_j))",
    "update_vs_gradE_tangent": "cos(w_j(t+1) - w_j(t), grad E(w_j)), tangent parts",
    "update_vs_lossgrad": "cos(w_j(t+1) - w_j(t), -dL/dw_j)",
    "update_vs_lossgrad_tangent": "cos(w_j(t+1) - w_j(t), -dL/dw_j), tangent parts",
    "gradE_tangent_share": "||(I - u u^T) grad E(w_j)|| / ||grad E(w_j)||, u = w_j/||w_j|| (0 at a critical point of E on the sphere)",
    "purity": "share of ||w_j||^2 in its dominant real isotypic component (one frequency pair on Z_M)",
}


def stage2_alignment(
    results: Any,
    run: int,
    epochs: Sequence[int],
    rows: th.Rows = None,
) -> "Any":
    """Per hidden node, how well the training dynamics follow Eq. 6 (gradient ascent on ``E``).

    ``results``: a :class:`li2core.Results` with weight snapshots at every ``t`` and ``t + 1`` of
    ``epochs`` (``train(..., snapshots=...)``); ``run``: the run index; ``rows``: the run's training
    rows (``li2core.tasks.split(make_task(group), p, seed).train``), on which both ``E`` and the loss
    are evaluated, in the run's dtype. The group, activation and loss are the run's config; ``-dL/dW`` is the loss's
    gradient without weight decay (:func:`th.loss_grad`), while the update ``W(t+1) - W(t)`` is the
    optimizer's (with its weight decay). For every ``t`` and column ``j`` it computes the
    :data:`ALIGNMENT_MEASURES` and, per ``t``, the independence proxy
    ``median_{j != j'} |cos(g_j, g_j')|`` over the columns ``g_j`` of the loss's ``G_F = -dL/dF``
    (:func:`th.median_abs_offdiag_cos`). For the paper's loss (``mse_sample``), ``-dL/dF`` is ``G_F`` of Eq. 2.

    Returns a tidy ``pandas`` frame with columns ``epoch, node, measure, value`` (``node = -1`` and
    ``measure = "independence"`` for the proxy).
    """
    with one_torch_thread():
        return _stage2_alignment(results, run, epochs, rows)


def _stage2_alignment(results: Any, run: int, epochs: Sequence[int], rows: th.Rows) -> "Any":
    cfg = results.configs[run]
    sig = derivatives(cfg.activation)[0]
    parts, X, Y = [], None, None
    for t in epochs:
        W0, V0 = results.weights_at(run, int(t))  # computed in the snapshots' dtype (the run's)
        W1, _ = results.weights_at(run, int(t) + 1)
        dW = W1 - W0
        gE = th.energy_grad(W0.T, cfg.group, cfg.activation, rows).T  # (2M, K)
        lg = th.loss_grad(W0, V0, cfg.group, rows, cfg.activation, cfg.loss)
        tg, tl, td = (th.tangent_columns(A, W0) for A in (gE, lg.W, dW))
        if X is None:
            X, Y = (A.to(W0.dtype) for A in th.design(cfg.group, rows, dtype=W0.dtype))
        vals = {
            "gF_vs_signal": th.column_cosines(lg.F, th.signal_direction(sig(X @ W0), Y)),
            "lossgrad_vs_gradE": th.column_cosines(lg.W, gE),
            "lossgrad_vs_gradE_tangent": th.column_cosines(tl, tg),
            "update_vs_gradE": th.column_cosines(dW, gE),
            "update_vs_gradE_tangent": th.column_cosines(td, tg),
            "update_vs_lossgrad": th.column_cosines(dW, lg.W),
            "update_vs_lossgrad_tangent": th.column_cosines(td, tl),
            "gradE_tangent_share": tg.norm(dim=0) / gE.norm(dim=0).clamp_min(torch.finfo(gE.dtype).tiny),
            "purity": torch.as_tensor(dominant_component(W0.T.numpy(), cfg.group)[1]),
        }
        K = W0.shape[1]
        for name, c in vals.items():
            parts.append(pd.DataFrame({"epoch": int(t), "node": range(K), "measure": name, "value": c.numpy()}))
        parts.append(pd.DataFrame({"epoch": [int(t)], "node": [-1], "measure": ["independence"],
                                   "value": [th.median_abs_offdiag_cos(lg.F)]}))
    return pd.concat(parts, ignore_index=True)


def stage2_configs(
    group: str,
    train_frac: float,
    width: int,
    activation: str,
    loss: str,
    eval_every: int,
    seeds: int,
    *,
    adam_lr: float,
    adam_weight_decay: float,
    adam_epochs: int,
    sgd_lr: float,
    sgd_weight_decay: float,
    sgd_epochs: int,
) -> list[TrainConfig]:
    """The chapter's training runs for part (b) (Eq. 6 in a real run): ``seeds`` Adam runs (seeds
    ``0..seeds-1``), then ``seeds`` SGD runs (``optimizer="sgd"``: momentum 0.9), on the same task, width,
    activation and loss. :class:`li2core.TrainConfig` validates every parameter (``ValueError`` naming it)."""
    base = dict(group=group, train_frac=train_frac, width=width, activation=activation, loss=loss,
                eval_every=eval_every)
    return (
        [TrainConfig(optimizer="adam", lr=adam_lr, weight_decay=adam_weight_decay, epochs=adam_epochs, seed=s, **base)
         for s in range(seeds)]
        + [TrainConfig(optimizer="sgd", lr=sgd_lr, weight_decay=sgd_weight_decay, epochs=sgd_epochs, seed=s, **base)
           for s in range(seeds)]
    )


class GradCheck(NamedTuple):
    """Output of :func:`gradcheck_frame`: the long ``frame`` of gradient entries and, per activation,
    ``errors[activation] = (finite differences, Eq. 6)`` maximum relative errors."""

    frame: pd.DataFrame
    errors: dict[str, tuple[float, float]]


def gradcheck_frame(
    group: str,
    activations: Sequence[str],
    rows: th.Rows,
    nodes: int,
    fd_step: float,
    seed: int = 123,
) -> GradCheck:
    """Theorem 1 as an identity: ``grad E`` (Eq. 7, :func:`th.energy_grad`) against central finite differences
    of ``E`` (:func:`th.energy_grad_fd`, step ``fd_step``) and against Eq. 6's right-hand side with the explicit
    one-hot ``X`` (:func:`th.eq6_rhs`), on ``nodes`` random unit nodes (:func:`th.random_starts` with ``seed``,
    the same nodes for every activation) and the training ``rows``.

    ``frame``: one row per activation, node and coordinate, columns ``activation, node, coord, analytic, fd,
    eq6``; ``errors``: per activation the maxima over nodes of :func:`th.rel_err` (fd, eq6) against ``grad E``.
    """
    M = make_task(group).M
    parts, gc = [], {}
    for act in activations:
        W_nodes = th.random_starts(nodes, M, seed=seed)  # (B, 2M), one node per row
        G = th.energy_grad(W_nodes, group, act, rows)
        G_fd = th.energy_grad_fd(W_nodes, group, act, rows, h=fd_step)
        G_eq6 = th.eq6_rhs(W_nodes.T, group, act, rows).T  # Eq. 6 with the explicit X (n x 2M), node by node
        gc[act] = (float(th.rel_err(G_fd, G).max()), float(th.rel_err(G_eq6, G).max()))
        B, d = G.shape
        parts.append(pd.DataFrame({"activation": act, "node": np.repeat(np.arange(B), d),
                                   "coord": np.tile(np.arange(d), B), "analytic": G.reshape(-1).numpy(),
                                   "fd": G_fd.reshape(-1).numpy(), "eq6": G_eq6.reshape(-1).numpy()}))
    return GradCheck(pd.concat(parts, ignore_index=True), gc)


def snapshot_epochs(configs: Sequence[TrainConfig], align_every: int) -> list[int]:
    """The weight snapshots :func:`alignment_frame` needs: every ``t`` in ``range(0, epochs, align_every)`` of
    each config and ``t + 1`` (for the update ``W(t+1) - W(t)``), sorted, without repeats."""
    snap: set[int] = set()
    for c in configs:
        ep = range(0, c.epochs, align_every)
        snap |= set(ep) | {e + 1 for e in ep}
    return sorted(snap)


def alignment_frame(
    results: Any,
    configs: Sequence[TrainConfig],
    align_every: int,
    train_rows: dict[int, th.Rows],
    windows: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Eq. 6 in training: :func:`stage2_alignment` for every run of ``results`` (``configs`` in run order) at
    the epochs ``range(0, epochs, align_every)``, on the run's training rows ``train_rows[seed]``; with
    ``windows`` (:func:`stage2_windows`), only at each run's Stage-II epochs ``start <= epoch < end`` (none for a run
    without a window).

    Columns ``epoch, node, measure, value`` (as :func:`stage2_alignment`) plus ``run, optimizer, seed``.
    """
    aligns = []
    for i, c in enumerate(configs):
        epochs = range(0, c.epochs, align_every)
        if windows is not None:
            w = windows.set_index("run").loc[i]
            epochs = [t for t in epochs if w["start"] <= t < w["end"]]  # NaN bounds: no epoch
            if not epochs:
                continue
        a = stage2_alignment(results, i, epochs, train_rows[c.seed])
        a["run"], a["optimizer"], a["seed"] = i, c.optimizer, c.seed
        aligns.append(a)
    if not aligns:
        return pd.DataFrame(columns=["epoch", "node", "measure", "value", "run", "optimizer", "seed"])
    return pd.concat(aligns, ignore_index=True)


def stage2_windows(frame: pd.DataFrame, configs: Sequence[TrainConfig], train_thr: float, rise: float,
                   grok_thr: float = 0.95) -> pd.DataFrame:
    """Stage II per run, from the paper's description of the stages (Fig. 2, Sec. 1).

    ``start`` (the end of Stage I, "once the output layer overfits the data"): the first evaluated epoch with
    ``train_acc >= train_thr``. ``end`` (the start of Stage III, "the hidden layer learns some features"): the
    first evaluated epoch after ``start`` at which ``test_acc`` has risen by at least ``rise`` above its value at
    ``start`` (test accuracy leaves the memorisation plateau). The window is ``start <= epoch < end``; NaN when
    never reached. Also ``test_at_start`` and ``grok`` (the first epoch with ``test_acc >= grok_thr``, for the
    figure). Columns ``run, start, end, test_at_start, grok, optimizer, seed`` (``frame``: the runs'
    :meth:`Results.frame`, ``configs`` in run order).
    """
    rows = []
    for run, d in frame.sort_values("epoch").groupby("run", sort=True):
        fit = d.loc[d["train_acc"] >= train_thr, "epoch"]
        start = float(fit.iloc[0]) if len(fit) else float("nan")
        test0 = float(d.loc[d["epoch"] == start, "test_acc"].iloc[0]) if len(fit) else float("nan")
        up = d.loc[(d["epoch"] > start) & (d["test_acc"] >= test0 + rise), "epoch"] if len(fit) else []
        grok = d.loc[d["test_acc"] >= grok_thr, "epoch"]
        rows.append(dict(run=int(run), start=start, end=float(up.iloc[0]) if len(up) else float("nan"),
                         test_at_start=test0, grok=float(grok.iloc[0]) if len(grok) else float("nan"),
                         optimizer=configs[int(run)].optimizer, seed=configs[int(run)].seed))
    return pd.DataFrame(rows)


def accuracy_curves(frame: pd.DataFrame) -> pd.DataFrame:
    """The accuracy curves that :func:`thm1_alignment` draws: columns ``run, epoch, train_acc, test_acc,
    optimizer`` of a :meth:`Results.frame`."""
    return frame[["run", "epoch", "train_acc", "test_acc"]].assign(optimizer=frame["optimizer"])


def optimizer_titles(adam_lr: float, adam_weight_decay: float, sgd_lr: float, sgd_weight_decay: float) -> dict[str, str]:
    """Column titles of :func:`thm1_alignment`: ``{"adam": ..., "sgd": ...}`` with the learning rates and
    weight decays."""
    return {"adam": f"Adam (lr {adam_lr:g}, wd {adam_weight_decay:g})",
            "sgd": f"SGD, momentum 0.9 (lr {sgd_lr:g}, wd {sgd_weight_decay:g})"}


class Stage2Summary(NamedTuple):
    """Output of :func:`stage2_summary`."""

    stage2: pd.DataFrame
    peak: pd.DataFrame
    peak_epoch: pd.DataFrame


def stage2_summary(align: pd.DataFrame, windows: pd.DataFrame) -> Stage2Summary:
    """The numbers the chapter's Eq. 6 checks are about, from :func:`alignment_frame` and :func:`stage2_windows`.

    ``stage2``: per optimizer (rows) and measure (columns), the median of ``value`` over nodes, runs and the
    Stage-II epochs ``start <= epoch < end`` of each run (the independence proxy included); ``peak`` and
    ``peak_epoch``: per optimizer and per-node measure, the maximum over epochs of the per-epoch median (over
    nodes and runs) and the epoch where it is reached.
    """
    in_win = align.merge(windows[["run", "start", "end"]], on="run")
    in_win = in_win[(in_win["epoch"] >= in_win["start"]) & (in_win["epoch"] < in_win["end"])]
    stage2 = in_win.groupby(["optimizer", "measure"])["value"].median().unstack("measure")
    per_epoch = align[align["measure"] != "independence"].groupby(["optimizer", "measure", "epoch"])["value"].median()
    peak = per_epoch.groupby(["optimizer", "measure"]).max().unstack("measure")
    peak_epoch = per_epoch.groupby(["optimizer", "measure"]).idxmax().map(lambda k: k[-1]).unstack("measure")
    return Stage2Summary(stage2, peak, peak_epoch)


#: Short row labels of :func:`summary_table`.
SHORT_LABELS = {
    "gF_vs_signal": "premise in F space: cos(g_j, Ỹ Ỹᵀ σ(X w_j))",
    "lossgrad_vs_gradE": "cos(−∂L/∂w_j, ∇E(w_j)), raw",
    "lossgrad_vs_gradE_tangent": "cos(−∂L/∂w_j, ∇E(w_j)), tangent",
    "update_vs_gradE": "cos(Δw_j, ∇E(w_j)), raw",
    "update_vs_gradE_tangent": "cos(Δw_j, ∇E(w_j)), tangent",
    "update_vs_lossgrad": "cos(Δw_j, −∂L/∂w_j), raw",
    "update_vs_lossgrad_tangent": "cos(Δw_j, −∂L/∂w_j), tangent",
    "gradE_tangent_share": "‖∇⊥E‖ / ‖∇E‖ (0 at a critical point)",
    "purity": "Fourier purity of w_j",
    "independence": "median |cos(g_j, g_j')| (independence proxy)",
}


def summary_table(stages: dict[str, pd.DataFrame], measures: Sequence[str], digits: int = 2) -> str:
    """A Markdown table of Stage-II medians (:func:`stage2_summary`'s ``stage2``): one row per measure (labelled by
    :data:`SHORT_LABELS`), one column per (label of ``stages``, optimizer), e.g. ``{"mse_sample": stage2}``."""
    cols = [(lab, opt) for lab, st in stages.items() for opt in st.index]
    header = ["Stage-II median"] + [f"{'Adam' if o == 'adam' else 'SGD'}{f' ({lab})' if lab else ''}" for lab, o in cols]
    rows = [[SHORT_LABELS.get(m, m)] + [f"{float(stages[lab].loc[o, m]):.{digits}f}" for lab, o in cols]
            for m in measures]
    return markdown_table(header, rows)


def thm1_gradcheck_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The entries behind :func:`thm1_gradcheck`: ``frame`` (columns ``activation, node, coord,
    analytic, fd, eq6``) sorted, with the per-activation relative errors
    ``max|fd - analytic| / max|analytic|`` and ``max|eq6 - analytic| / max|analytic|`` (over each node's
    coordinates, then the max over nodes) as columns ``rel_err_fd, rel_err_eq6``."""
    d = frame.sort_values(["activation", "node", "coord"]).reset_index(drop=True)

    def per_node(col: str) -> pd.Series:
        err = (d[col] - d["analytic"]).abs().groupby([d["activation"], d["node"]]).max()
        ref = d["analytic"].abs().groupby([d["activation"], d["node"]]).max()
        return (err / ref).groupby(level=0).max()

    for col in ("fd", "eq6"):
        d[f"rel_err_{col}"] = d["activation"].map(per_node(col))
    return d


def thm1_gradcheck(frame: pd.DataFrame) -> plt.Figure:
    """Theorem 1, numerically. Left: central finite differences of ``E`` and Eq. 6's right-hand side built
    with the explicit one-hot ``X`` against the analytic ``grad E`` (every coordinate of every node). Right:
    their differences from ``grad E`` relative to the node's ``max |grad E|`` (log scale), per activation.
    8 in wide, legends below the panels."""
    theme()
    d = thm1_gradcheck_data(frame)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 4.0))
    colors = sns.color_palette("colorblind")
    comps = [("fd", "finite differences of E"), ("eq6", r"Eq. 6 with explicit $X$")]
    ref = d.groupby(["activation", "node"])["analytic"].transform(lambda x: x.abs().max())
    markers = ["o", "^", "s", "D"]
    for c, (col, lab) in enumerate(comps):
        axes[0].scatter(d["analytic"], d[col], s=10, alpha=0.6, color=colors[c], label=lab)
        for k, (act, da) in enumerate(d.groupby("activation", sort=True)):
            rel = ((da[col] - da["analytic"]).abs() / ref[da.index]).clip(lower=1e-18)
            axes[1].scatter(da["analytic"], rel, s=10, alpha=0.6, color=colors[c], marker=markers[k % 4],
                            label=f"{'FD' if col == 'fd' else 'Eq. 6'}, σ = {act} (max {da[f'rel_err_{col}'].iloc[0]:.0e})")
    lo, hi = float(d["analytic"].min()), float(d["analytic"].max())
    axes[0].plot([lo, hi], [lo, hi], color="0.3", lw=0.8, ls="--", label="y = x")
    axes[0].set_xlabel(r"analytic $\nabla\mathcal{E}(w)$ entry", fontsize=10.5)
    axes[0].set_ylabel("other computation", fontsize=10.5)
    axes[0].set_title("agreement", fontsize=11)
    axes[1].set_yscale("log")
    axes[1].set_xlabel(r"analytic $\nabla\mathcal{E}(w)$ entry", fontsize=10.5)
    axes[1].set_ylabel("relative difference", fontsize=10.5)
    axes[1].set_title("relative differences (per node)", fontsize=11)
    for ax in axes:
        ax.tick_params(labelsize=9.5)
        ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=1, frameon=False)
    fig.suptitle(r"Theorem 1: Eq. 6's drift is $\nabla\mathcal{E}$ (random unit nodes, training pairs)", y=1.0,
                 fontsize=12)
    fig.tight_layout()
    return fig


#: The panels of :func:`thm1_alignment`: (title, [(series, legend label)], y label). The legend labels are short;
#: the caption says what each series is (:data:`ALIGNMENT_MEASURES`).
_THM1_PANELS: list[tuple[str, list[tuple[str, str]], str]] = [
    ("accuracy", [("train_acc", "train"), ("test_acc", "test")], "accuracy"),
    (r"loss gradient vs Eq. 6",
     [("gF_vs_signal", r"$F$ space"), ("lossgrad_vs_gradE", "raw"), ("lossgrad_vs_gradE_tangent", "tangent")],
     "cosine"),
    (r"optimizer update vs $\nabla\mathcal{E}$",
     [("update_vs_gradE", "raw"), ("update_vs_gradE_tangent", "tangent"),
      ("update_vs_lossgrad_tangent", r"vs $-\partial L$, tangent")], "cosine"),
    ("nodes and their signals",
     [("gradE_tangent_share", "tangent share"), ("purity", "purity"), ("independence", "independence")], "value"),
]


def thm1_alignment_data(align: pd.DataFrame, curves: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm1_alignment`, long form: ``optimizer, panel, series, epoch, center,
    low, high, band``.

    * per-node measures (``align``: columns ``optimizer, run, epoch, node, measure, value`` from
      :func:`stage2_alignment`): median and quartiles over nodes and runs;
    * ``independence`` (one value per run and epoch) and accuracies (``curves``: ``optimizer, run,
      epoch, train_acc, test_acc``): mean, min and max over runs;
    * the Stage-II window and grokking (``windows`` of :func:`stage2_windows`: ``optimizer, run, start, end,
      grok``): ``series`` ``start``/``end``/``grok``, ``center`` the mean over runs, ``low``/``high`` the min/max.
    """
    out = []
    nodes = align[align["measure"] != "independence"]
    g = nodes.groupby(["optimizer", "measure", "epoch"])["value"]
    q = pd.DataFrame({"center": g.median(), "low": g.quantile(0.25), "high": g.quantile(0.75)}).reset_index()
    q["band"] = "quartiles over nodes and runs"
    out.append(q.rename(columns={"measure": "series"}))
    ind = align[align["measure"] == "independence"].groupby(["optimizer", "epoch"])["value"]
    qi = pd.DataFrame({"center": ind.mean(), "low": ind.min(), "high": ind.max()}).reset_index()
    qi["series"], qi["band"] = "independence", "min..max over runs"
    out.append(qi)
    for m in ("train_acc", "test_acc"):
        ga = curves.groupby(["optimizer", "epoch"])[m]
        qa = pd.DataFrame({"center": ga.mean(), "low": ga.min(), "high": ga.max()}).reset_index()
        qa["series"], qa["band"] = m, "min..max over runs"
        out.append(qa)
    for m in ("start", "end", "grok"):
        if m not in windows:
            continue
        gw = windows.groupby("optimizer")[m]
        qw = pd.DataFrame({"center": gw.mean(), "low": gw.min(), "high": gw.max()}).reset_index()
        qw["series"], qw["band"], qw["epoch"] = m, "min..max over runs", np.nan
        out.append(qw)
    d = pd.concat(out, ignore_index=True)
    panel_of = {s: title for title, series, _ in _THM1_PANELS for s, _ in series}
    panel_of.update(start="stage II window", end="stage II window", grok="stage II window")
    d["panel"] = d["series"].map(panel_of)
    d = d[d["panel"].notna()]  # only what the figure draws
    return d[["optimizer", "panel", "series", "epoch", "center", "low", "high", "band"]].reset_index(drop=True)


def thm1_alignment(align: pd.DataFrame, curves: pd.DataFrame, windows: pd.DataFrame,
                   titles: dict[str, str] | None = None) -> plt.Figure:
    """Stage II in a training run: do the columns of ``W`` move along ``grad E`` (Eq. 6)?

    One column of panels per optimizer (``titles`` maps an optimizer to its column title), 8 in wide. Rows:
    accuracy; the loss gradient against Eq. 6 (in ``F`` space, and column ``j`` of ``-dL/dW`` against
    ``grad E(w_j)``, raw and tangent); the optimizer's actual update against ``grad E(w_j)`` and against the loss
    gradient; the tangent share of ``grad E``, the Fourier purity of the nodes and the independence proxy. Lines:
    medians over nodes and runs (means over runs for accuracy and the proxy); bands: quartiles (min..max over
    runs). Shaded: Stage II (:func:`stage2_windows`, means over runs); dotted: grokking (test accuracy >= 0.95).
    Legends (short labels) in the left column only: both columns draw the same series.
    """
    theme()
    d = thm1_alignment_data(align, curves, windows)
    opts = list(dict.fromkeys(curves["optimizer"]))
    fig, axes = plt.subplots(len(_THM1_PANELS), len(opts), figsize=(8.0, 2.45 * len(_THM1_PANELS)),
                             squeeze=False, sharex="col", sharey="row")
    colors = sns.color_palette("colorblind")
    for j, opt in enumerate(opts):
        do = d[d["optimizer"] == opt]
        win = do[do["panel"] == "stage II window"].set_index("series")["center"]
        for i, (title, series, ylabel) in enumerate(_THM1_PANELS):
            ax = axes[i, j]
            if {"start", "end"} <= set(win.index) and np.isfinite(win["start"]):
                end = win["end"] if np.isfinite(win["end"]) else do["epoch"].max()
                ax.axvspan(win["start"], end, color="0.85", alpha=0.6, lw=0, label="Stage II" if i == 0 else None)
            if "grok" in win.index and np.isfinite(win["grok"]):
                ax.axvline(win["grok"], color="0.35", lw=1, ls=":", label="grokking" if i == 0 else None)
            for c, (s, lab) in enumerate(series):
                ds = do[do["series"] == s].sort_values("epoch")
                ax.plot(ds["epoch"], ds["center"], color=colors[c], lw=1.6, label=lab)
                ax.fill_between(ds["epoch"], ds["low"], ds["high"], color=colors[c], alpha=0.2, lw=0)
            if ylabel == "cosine":
                ax.axhline(0, color="0.4", lw=0.7)
                ax.set_ylim(-1.02, 1.02)
            else:
                ax.set_ylim(-0.02, 1.02)
            ax.tick_params(labelsize=9.5)
            if j == 0:
                ax.set_ylabel(ylabel, fontsize=10)
                ax.legend(fontsize=9, loc="lower right" if ylabel == "cosine" else "best", framealpha=0.8)
            head = f"{titles.get(opt, opt) if titles else opt}\n" if i == 0 else ""
            ax.set_title(head + title, fontsize=10)
            if i == len(_THM1_PANELS) - 1:
                ax.set_xlabel(EPOCH_LABEL, fontsize=10)
    fig.tight_layout()
    return fig
