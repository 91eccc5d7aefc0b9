"""Chapter ``deep_networks`` (paper-li2 Sec. 6, Figs. 9 and 17, Eq. 11): 2-, 3- and 4-layer ReLU nets on modular
addition, with the author's residual blocks ``x <- relu(x + x U_l)`` (``TrainConfig(extra_layers=L)``).

Frame builders: the runs (:func:`deep_configs`, one batched :func:`li2core.train` call per depth), one row per run
with its grokking epoch, lowest-layer purity and per-layer onsets (:func:`run_frame`, :func:`grok_epoch`,
:func:`layer_onsets`), Eq. 11 and ``W_L W_L^T ~ I`` on the trained weights (:func:`eq11_frame`), the lowest layer's
spectrum (:func:`spectrum_frame`), the per-depth summary (:func:`depth_summary`). Figures :func:`deep_curves`,
:func:`deep_layers`, :func:`deep_features`, :func:`deep_grok`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from ..figures import theme
from ..fourier import purity
from ..losses import center
from ..models.deep import hidden_outputs, init_layers
from ..tasks import make_task, split
from ..theory import deep as thd
from ..train import Results, TrainConfig

#: A run has grokked at the first evaluated epoch with test accuracy at least this (the sweep store's rule).
GROK_THRESHOLD = 0.95
#: A run has fitted its training pairs at the first evaluated epoch with train accuracy at least this.
FIT_THRESHOLD = 0.999
#: The metrics the chapter's runs record.
RUN_METRICS = ("train_acc", "test_acc", "train_loss", "test_loss", "W_purity", "layer_cos_dist")


def depth_label(L: int) -> str:
    """``"2 layers"`` for ``extra_layers = 0``, ``"3 layers"`` for 1, ... (weight layers W, U_1 .. U_L, V)."""
    return f"{L + 2} layers"


def deep_configs(M: int, K: int, extra_layers: Sequence[int], seeds: int, init_multipliers: Sequence[float],
                 epochs: int, train_frac: float, lr: float, weight_decay: float, eval_every: int = 10,
                 loss: str = "mse_class", dtype: str = "float32") -> list[TrainConfig]:
    """Every depth x V-init multiplier x seed ``0..seeds-1``: ReLU, Adam, on ``Z_M``, the ``deep`` family (so the
    two-layer net has per-layer metrics too)."""
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    if not extra_layers or any(not isinstance(L, int) or L < 0 for L in extra_layers):
        raise ValueError(f"extra_layers: must be a non-empty list of integers >= 0; got {extra_layers!r}")
    return [TrainConfig(group=f"Z{M}", width=K, train_frac=train_frac, activation="relu", loss=loss, optimizer="adam",
                        lr=lr, weight_decay=weight_decay, epochs=epochs, seed=s, eval_every=eval_every,
                        extra_layers=L, family="deep", top_layer_init_multiplier=float(z), dtype=dtype)
            for L in extra_layers for z in init_multipliers for s in range(seeds)]


def grok_epoch(epochs: np.ndarray, values: np.ndarray, threshold: float = GROK_THRESHOLD) -> float:
    """The first evaluated epoch with ``values >= threshold`` (``inf`` if never: a censored run)."""
    hit = np.nonzero(np.asarray(values) >= threshold)[0]
    return float(np.asarray(epochs)[hit[0]]) if hit.size else math.inf


def layer_onsets(layer_frame: pd.DataFrame, run: int, after: float) -> dict[str, float]:
    """Per hidden weight layer (``W, U1 .. UL``; not ``V``) of ``run``: the onset of feature change, the first
    evaluated epoch ``> after`` at which ``layer_cos_dist`` reaches half of its maximum over the epochs ``> after``
    (NaN when ``after`` is infinite or no epoch follows it)."""
    d = layer_frame[(layer_frame["run"] == run) & (layer_frame["layer_name"] != "V") & (layer_frame["epoch"] > after)]
    out: dict[str, float] = {}
    for name, dl in d.groupby("layer_name", sort=False):
        c = dl["layer_cos_dist"].to_numpy()
        if not len(c) or not np.isfinite(c).any():
            out[str(name)] = math.nan
            continue
        k = int(np.argmax(c >= 0.5 * np.nanmax(c)))
        out[str(name)] = float(dl["epoch"].to_numpy()[k])
    return out


def drift_frame(res: Results) -> pd.DataFrame:
    """Each weight layer's drift from its initialisation, from the snapshots of :func:`li2core.train`
    (``snapshots=...``): one row per (run, snapshot epoch, layer) with ``drift = 1 - cos(P_t, P_0)`` (flattened
    weights; ``P_0`` the snapshot at epoch 0, which must be present)."""
    rows = []
    for i, c in enumerate(res.configs):
        snaps = res.snapshots[i] if i < len(res.snapshots) else {}
        if 0 not in snaps:
            raise ValueError("res: drift_frame needs a snapshot at epoch 0 (train(..., snapshots=[0, ...]))")
        names = ("W", *(f"U{l}" for l in range(1, c.extra_layers + 1)), "V")
        P0 = [t.double().flatten() for t in snaps[0]]
        for e in sorted(snaps):
            for name, p0, pt in zip(names, P0, snaps[e]):
                pt = pt.double().flatten()
                cos = float(p0 @ pt / (p0.norm() * pt.norm())) if pt.norm() > 0 and p0.norm() > 0 else math.nan
                rows.append(dict(run=i, L=c.extra_layers, init=c.top_layer_init_multiplier, seed=c.seed, epoch=int(e),
                                 layer_name=name, drift=1.0 - cos))
    return pd.DataFrame(rows)


def drift_onsets(drift: pd.DataFrame, run: int) -> dict[str, float]:
    """Per hidden weight layer of ``run`` (not ``V``): the first snapshot epoch at which its drift from the
    initialisation (:func:`drift_frame`) reaches half of its value at the last snapshot."""
    d = drift[(drift["run"] == run) & (drift["layer_name"] != "V")]
    out: dict[str, float] = {}
    for name, dl in d.groupby("layer_name", sort=False):
        dl = dl.sort_values("epoch")
        v = dl["drift"].to_numpy()
        k = int(np.argmax(v >= 0.5 * v[-1]))
        out[str(name)] = float(dl["epoch"].to_numpy()[k])
    return out


def _order_flags(on: dict[str, float], L: int) -> tuple[object, object]:
    """``(lowest_first, strictly_first)``: whether ``W``'s onset is no later / strictly earlier than every ``U_l``'s
    (``None`` for two-layer nets or missing onsets)."""
    if L < 1 or not on:
        return None, None
    w, others = on["W"], [on[f"U{l}"] for l in range(1, L + 1)]
    if not np.isfinite([w, *others]).all():
        return None, None
    return bool(all(w <= o for o in others)), bool(all(w < o for o in others))


def run_frame(res: Results, drift: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per run: ``L`` (extra layers), ``depth`` (weight layers), ``init`` (V's init multiplier), ``seed``,
    ``fit_epoch`` and ``grok_epoch`` (:data:`FIT_THRESHOLD`, :data:`GROK_THRESHOLD`; ``inf`` if never),
    ``final_train_acc``, ``final_test_acc``, ``purity_init`` and ``purity_final`` (``W_purity`` at epoch 0 and at
    the end), and ``onset_<layer>`` (:func:`layer_onsets` after the fit epoch) with ``lowest_first`` (the lowest
    layer's onset is no later than every other hidden layer's; ``None`` for two-layer nets) and ``strictly_first``
    (strictly earlier); with ``drift`` (:func:`drift_frame`) also ``drift_onset_<layer>`` (:func:`drift_onsets`) and
    ``drift_lowest_first`` / ``drift_strictly_first``."""
    lf = res.layer_frame()
    rows = []
    for i, c in enumerate(res.configs):
        m, ep = res.metrics[i], np.asarray(res.eval_epochs[i])
        fit = grok_epoch(ep, m["train_acc"], FIT_THRESHOLD)
        row = dict(run=i, L=c.extra_layers, depth=c.extra_layers + 2, init=c.top_layer_init_multiplier, seed=c.seed,
                   fit_epoch=fit, grok_epoch=grok_epoch(ep, m["test_acc"]), final_train_acc=float(m["train_acc"][-1]),
                   final_test_acc=float(m["test_acc"][-1]), purity_init=float(m["W_purity"][0]),
                   purity_final=float(m["W_purity"][-1]))
        on = layer_onsets(lf, i, fit) if len(lf) else {}
        row.update({f"onset_{k}": v for k, v in on.items()})
        row["lowest_first"], row["strictly_first"] = _order_flags(on, c.extra_layers)
        if drift is not None:
            don = drift_onsets(drift, i)
            row.update({f"drift_onset_{k}": v for k, v in don.items()})
            row["drift_lowest_first"], row["drift_strictly_first"] = _order_flags(don, c.extra_layers)
        rows.append(row)
    return pd.DataFrame(rows)


def _median(x: pd.Series) -> float:
    """The median with ``inf`` for runs that never reached the threshold (so the median is censored honestly)."""
    return float(np.median(x.to_numpy(dtype=float)))


def depth_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per ``(depth, init)``: ``runs``, ``grokked`` (runs that reached :data:`GROK_THRESHOLD`), the ``median``,
    ``min`` and ``max`` grokking epoch (``inf`` counted as never), the seed-mean lowest-layer purity at init and at
    the end."""
    out = []
    for (depth, init), d in runs.groupby(["depth", "init"]):
        g = d["grok_epoch"].to_numpy(dtype=float)
        out.append(dict(depth=int(depth), init=float(init), runs=len(d), grokked=int(np.isfinite(g).sum()),
                        grok_median=_median(d["grok_epoch"]), grok_min=float(g.min()), grok_max=float(g.max()),
                        purity_init=float(d["purity_init"].mean()), purity_final=float(d["purity_final"].mean())))
    return pd.DataFrame(out)


def zero_init_ratios(summary: pd.DataFrame) -> pd.DataFrame:
    """Per depth: the median grokking epoch with the default init (``init = 1``) over that with V(0) = 0
    (``init = 0``); ``inf`` when only the default never grokked, NaN when neither did."""
    rows = []
    for depth, d in summary.groupby("depth"):
        a = d.loc[d["init"] == 1.0, "grok_median"]
        z = d.loc[d["init"] == 0.0, "grok_median"]
        if len(a) and len(z):
            a0, z0 = float(a.iloc[0]), float(z.iloc[0])
            ratio = math.nan if math.isinf(a0) and math.isinf(z0) else a0 / z0
            rows.append(dict(depth=int(depth), default=a0, zero=z0, ratio=ratio))
    return pd.DataFrame(rows)


def _train_pairs(cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The training indices (make_task order) and one-hot labels ``(n, M)`` of ``cfg``'s split, float64."""
    task = make_task(cfg.group)
    idx = split(task, float(cfg.train_frac), cfg.seed).train
    return idx, torch.nn.functional.one_hot(task.y[idx], cfg.M).double()


def eq11_frame(res: Results) -> pd.DataFrame:
    """Eq. 11 on the trained weights of every run with extra layers, one row per (run, extra layer ``l``):
    ``F_{l-1}`` (the hidden layer below ``U_l``) on the training pairs and ``W_L = I + U_l``
    (:func:`li2core.theory.deep.residual_layer_matrix`), in float64. ``eq11_rel_err``: ``||eq11_G - grad||_F /
    ||grad||_F`` against autograd of ``E = 1/2 ||Y~^T relu(F_{l-1} W_L)||_F^2``; ``gram_gap_init`` and
    ``gram_gap_final``: :func:`li2core.theory.deep.gram_identity_gap` of ``W_L`` at initialisation (redrawn by
    :func:`li2core.models.deep.init_layers` from the run's seed) and after training; ``active_share``: the share of
    ``relu``'s active entries in ``F_{l-1} W_L``."""
    rows = []
    for i, c in enumerate(res.configs):
        if c.extra_layers < 1:
            continue
        ps = [t.double()[None] for t in res.final_weights(i)]
        p0 = [t.double() for t in init_layers(c.M, c.width, c.extra_layers, c.seed, c.top_layer_init_multiplier)]
        idx, Y = _train_pairs(c)
        hs = [h[0, idx] for h in hidden_outputs(ps, "relu")]
        for l in range(1, c.extra_layers + 1):
            WL = thd.residual_layer_matrix(ps[l][0])
            F = hs[l - 1].clone().requires_grad_(True)
            E = 0.5 * (center(Y).T @ torch.relu(F @ WL)).pow(2).sum()
            (grad,) = torch.autograd.grad(E, F)
            G = thd.eq11_G(hs[l - 1], WL, Y, "relu")
            rows.append(dict(run=i, L=c.extra_layers, depth=c.extra_layers + 2, init=c.top_layer_init_multiplier,
                             seed=c.seed, layer=f"U{l}",
                             eq11_rel_err=float((G - grad).norm() / grad.norm()),
                             gram_gap_init=float(thd.gram_identity_gap(thd.residual_layer_matrix(p0[l]))),
                             gram_gap_final=float(thd.gram_identity_gap(WL)),
                             active_share=float((hs[l - 1] @ WL > 0).double().mean())))
    return pd.DataFrame(rows)


def spectrum_frame(res: Results, runs: Sequence[int], nodes: int) -> pd.DataFrame:
    """The lowest layer's Fourier spectrum: for each run in ``runs`` and its first ``nodes`` hidden nodes sorted by
    dominant frequency, the share of the node's power in each frequency ``0 .. M // 2`` of ``Z_M``
    (:func:`li2core.fourier.purity` of the final ``W``). Long form: ``run, depth, seed, node, frequency, share``."""
    rows = []
    for i in runs:
        c = res.configs[i]
        W = res.final_weights(i)[0].double()
        P = purity(W.T.numpy(), c.group)[:nodes]  # (nodes, M // 2 + 1)
        order = np.lexsort((-P.max(1), P.argmax(1)))
        for r, j in enumerate(order):
            for f in range(P.shape[1]):
                rows.append(dict(run=i, depth=c.extra_layers + 2, seed=c.seed, node=r, frequency=f,
                                 share=float(P[j, f])))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ figures
def deep_curves_data(res: Results) -> pd.DataFrame:
    """The numbers behind :func:`deep_curves`: per depth, init and epoch the seed mean, min and max of the
    training and test accuracy, the training loss and the lowest layer's purity."""
    f = res.frame()
    f = f.assign(depth=f["extra_layers"] + 2, init=f["top_layer_init_multiplier"])
    cols = ["train_acc", "test_acc", "train_loss", "W_purity"]
    out = f.groupby(["depth", "init", "epoch"])[cols].agg(["mean", "min", "max"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    return out.reset_index()


def deep_curves(res: Results, init: float = 1.0) -> plt.Figure:
    """Fig. 9 (left): training and test accuracy, training loss and the lowest layer's Fourier purity against the
    epoch, one colour per depth (seed means, bands min..max), for V's init multiplier ``init``."""
    theme()
    d = deep_curves_data(res)
    d = d[d["init"] == init]
    fig, axes = plt.subplots(2, 2, figsize=(8.0, 6.4), sharex=True)
    c = sns.color_palette("colorblind")
    panels = [("train_acc", "training accuracy"), ("test_acc", "test accuracy"),
              ("train_loss", "training loss (MSE)"), ("W_purity", "Fourier purity of W")]
    for ax, (col, label) in zip(axes.flat, panels):
        for k, (depth, dd) in enumerate(d.groupby("depth")):
            ax.plot(dd["epoch"], dd[f"{col}_mean"], color=c[k], lw=1.6, label=f"{depth} layers")
            ax.fill_between(dd["epoch"], dd[f"{col}_min"], dd[f"{col}_max"], color=c[k], alpha=0.2, lw=0)
        ax.set_ylabel(label)
        if col == "train_loss":
            ax.set_yscale("log")
    for ax in axes[1]:
        ax.set_xlabel("epoch (full-batch Adam steps)")
    axes[0, 1].axhline(GROK_THRESHOLD, color="0.4", lw=0.8, ls=":")
    axes[0, 0].legend(fontsize=9, loc="lower right")
    fig.suptitle("2-, 3- and 4-layer ReLU nets (seed means, bands min..max)", fontsize=11)
    fig.tight_layout()
    return fig


def deep_layers_data(res: Results, runs: Sequence[int], drift: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`deep_layers`: per run in ``runs``, epoch and weight layer, ``layer_cos_dist``
    (``kind = "step"``) and the drift from the initialisation (``kind = "drift"``, :func:`drift_frame`)."""
    lf = res.layer_frame()
    a = lf[lf["run"].isin(list(runs))][["run", "epoch", "layer_name", "layer_cos_dist"]]
    a = a.rename(columns={"layer_cos_dist": "value"}).assign(kind="step")
    b = drift[drift["run"].isin(list(runs))][["run", "epoch", "layer_name", "drift"]]
    b = b.rename(columns={"drift": "value"}).assign(kind="drift")
    return pd.concat([a, b], ignore_index=True)


def deep_layers(res: Results, runs: Sequence[int], frame: pd.DataFrame, drift: pd.DataFrame) -> plt.Figure:
    """Per-layer feature change, one row per run in ``runs`` (one colour per layer): left, ``1 - cos`` between
    consecutive weights (log scale) with the hidden layers' onsets (:func:`layer_onsets`) dotted; right, the drift
    from the initialisation ``1 - cos(P_t, P_0)`` with its half-final onsets (:func:`drift_onsets`) dotted; the
    grokking epoch dashed grey. ``frame``: :func:`run_frame` (with ``drift``)."""
    theme()
    d = deep_layers_data(res, runs, drift)
    fig, axes = plt.subplots(len(runs), 2, figsize=(8.0, 3.0 * len(runs)), sharex=True, squeeze=False)
    c = sns.color_palette("colorblind")
    for row, i in enumerate(runs):
        fr = frame[frame["run"] == i].iloc[0]
        for col, (kind, prefix, ylabel) in enumerate([("step", "onset_", "1 − cos(P_t−1, P_t)"),
                                                      ("drift", "drift_onset_", "1 − cos(P_t, P_0)")]):
            ax = axes[row, col]
            di = d[(d["run"] == i) & (d["kind"] == kind) & (d["epoch"] > 0)]
            for k, (name, dl) in enumerate(di.groupby("layer_name", sort=False)):
                ax.plot(dl["epoch"], dl["value"], color=c[k], lw=1.3, label=str(name))
                on = fr.get(f"{prefix}{name}", math.nan)
                if isinstance(on, float) and np.isfinite(on):
                    ax.axvline(on, color=c[k], ls=":", lw=1.6)
            if kind == "step":
                ax.set_yscale("log")
            if np.isfinite(fr["grok_epoch"]):
                ax.axvline(fr["grok_epoch"], color="0.4", lw=1.0, ls="--")
            ax.set_ylabel(ylabel)
            ax.set_title(f"{int(fr['depth'])} layers, seed {int(fr['seed'])}: "
                         + ("step to step" if kind == "step" else "from the init"), fontsize=10)
        axes[row, 1].legend(fontsize=9, ncol=2, loc="lower right")
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    fig.tight_layout()
    return fig


def deep_features(spec: pd.DataFrame) -> plt.Figure:
    """Fig. 9 (right): the share of each lowest-layer node's power per frequency (heat maps, nodes sorted by
    dominant frequency), one panel per run of ``spec`` (:func:`spectrum_frame`)."""
    theme()
    runs = list(dict.fromkeys(spec["run"]))
    fig, axes = plt.subplots(1, len(runs), figsize=(8.0, 4.2), squeeze=False, sharey=True)
    for ax, i in zip(axes[0], runs):
        d = spec[spec["run"] == i]
        P = d.pivot(index="node", columns="frequency", values="share").to_numpy()
        im = ax.imshow(P, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{int(d['depth'].iloc[0])} layers", fontsize=10)
        ax.set_xticks(range(0, P.shape[1], 2))
        ax.set_xlabel("frequency k of Z_M")
        ax.grid(False)
    axes[0, 0].set_ylabel("hidden node of W (sorted)")
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    cax = fig.add_axes((0.91, 0.2, 0.02, 0.65))
    fig.colorbar(im, cax=cax, label="share of node power")
    return fig


def deep_grok_data(runs: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`deep_grok`: per run its depth, init, seed and grokking epoch (``inf``: never)."""
    return runs[["depth", "init", "seed", "fit_epoch", "grok_epoch"]].copy()


def deep_grok(runs: pd.DataFrame, epochs: int) -> plt.Figure:
    """Grokking epoch per seed against depth, default init and V(0) = 0 side by side; runs that never grokked are
    drawn as open markers at the last epoch; seed medians as bars."""
    theme()
    d = deep_grok_data(runs)
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    c = sns.color_palette("colorblind")
    for k, (init, label) in enumerate([(1.0, "default init of V"), (0.0, "V(0) = 0 (zero-init)")]):
        di = d[d["init"] == init]
        if not len(di):
            continue
        x = di["depth"] + (k - 0.5) * 0.25
        g = di["grok_epoch"].to_numpy(dtype=float)
        fin = np.isfinite(g)
        ax.plot(x[fin], g[fin], "o", color=c[k], ms=6, label=label)
        ax.plot(x[~fin], np.full((~fin).sum(), epochs), "o", mfc="none", color=c[k], ms=7)
        med = di.groupby("depth")["grok_epoch"].median()
        ax.bar(med.index + (k - 0.5) * 0.25, np.minimum(med.to_numpy(dtype=float), epochs), width=0.22,
               color=c[k], alpha=0.25)
    ax.axhline(epochs, color="0.4", lw=0.8, ls=":")
    ax.set_xticks(sorted(d["depth"].unique()))
    ax.set_xlabel("weight layers (2 = the two-layer net)")
    ax.set_ylabel(f"grokking epoch (test acc ≥ {GROK_THRESHOLD})")
    ax.set_title("Grokking epoch per seed (bars: medians; open: not by the last epoch)", fontsize=10)
    ax.legend(fontsize=9, loc="upper left")
    fig.tight_layout()
    return fig
