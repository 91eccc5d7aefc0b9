"""Chapter ``thm7_topdown`` (paper-li2 Thm 7, App. B.2; Eq. 20): top-down modulation. Once the hidden layer has
learned a set ``S`` of irreps, the backpropagated gradient carries only the residual, and each node ascends the
modified energy ``E_S``, whose maxima lie on the irreps not yet learned.

Frame builders over :mod:`li2core.theory.topdown`:

* :func:`energy_table`: ``E_S`` at unit Fourier nodes of ``Z_M``, frequency by frequency, before (``S`` empty) and
  after ``S`` is learned; literally with the residual of the proof, in the paper's closed form, and with the
  least-squares residual of constructed learned nodes (four phase-offset maxima per learned frequency, and the
  paper's exact maxima ``[u; +-P u]``).
* :func:`missing_maxima`: where projected ascent of ``E_S`` from random starts ends (any group).
* :func:`closed_form_errors`: the printed closed form against the literal ``E_S`` on non-Abelian groups.
* Real training: :func:`topdown_configs`, :func:`snapshot_epochs`, :func:`spectrum_frame` (per run, snapshot and
  frequency: the ``G_F`` spectrum of :func:`li2core.measures.gf_spectrum`, the training-row residual left on each
  frequency, the nodes there, ``E_ls`` = ``E_S / E`` from the least-squares residual of the current nodes over all
  pairs, which defines "learned", :func:`learned_mask`) and its summaries :func:`tracking_frame`,
  :func:`covered_share_frame`, :func:`learning_order`, :func:`order_table`, :func:`summary_numbers`;
  :func:`gf_is_the_loss_gradient`.

Figures: :func:`thm7_energy` (``E_S`` per frequency), :func:`thm7_spectrum` (``E_ls`` and the ``G_F`` spectrum
through training), :func:`thm7_tracking` (how closely the ``G_F`` spectrum follows ``E_ls``; ``E_S`` at the
end against the nodes per frequency).
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
from ..activations import derivatives
from ..figures import EPOCH_LABEL, theme
from ..fourier import fourier_node, real_fourier_nodes
from ..groups import Group, make
from ..losses import center
from ..tasks import make_task, split
from ..train import Results, TrainConfig

#: Kinds of residual in :func:`energy_table` (column ``residual``).
RESIDUALS = {
    "none": "Ỹ (S empty): Theorem 1's E",
    "irrep": "Ỹ without the learned irreps (the proof's residual)",
    "ls_offset": "least squares on 4 phase-offset maxima per learned frequency",
    "ls_exact": "least squares on 4 exact maxima [u; ±Pu] per learned frequency",
}


def draw_learned(M: int, n_learned: int, seed: int) -> list[int]:
    """``n_learned`` distinct frequencies of ``Z_M`` out of ``1 .. M // 2``, drawn with ``seed`` (sorted): the set
    ``S`` of part (a). ``ValueError`` unless ``1 <= n_learned < M // 2`` (something learned, something missing)."""
    L = M // 2
    if not isinstance(n_learned, int) or not 1 <= n_learned < L:
        raise ValueError(f"n_learned: must be an integer in 1..{L - 1} for Z{M}; got {n_learned!r}")
    perm = torch.randperm(L, generator=torch.Generator().manual_seed(int(seed)))
    return sorted(int(j) + 1 for j in perm[:n_learned])


def probe_nodes(M: int, per_freq: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``per_freq`` unit Fourier nodes :func:`li2core.fourier.fourier_node` per frequency ``1 .. M // 2`` of
    ``Z_M``, each with a uniform phase and offset between its halves and a random sign (seeded). Every one is a
    maximum of ``E`` with ``sigma = x^2``. Returns ``(W (B, 2M), freq (B,))``, frequency-major."""
    if not isinstance(per_freq, int) or per_freq < 1:
        raise ValueError(f"per_freq: must be an integer >= 1; got {per_freq!r}")
    gen = torch.Generator().manual_seed(int(seed))
    rows, freq = [], []
    for j in range(1, M // 2 + 1):
        for _ in range(per_freq):
            ph, off = (2 * math.pi * torch.rand(2, generator=gen, dtype=torch.float64)).tolist()
            sign = 1 if float(torch.rand(1, generator=gen)) < 0.5 else -1
            rows.append(fourier_node(M, j, phase=ph, offset=off, sign=sign))
            freq.append(j)
    return torch.stack(rows), torch.tensor(freq)


def _learned_nodes(M: int, learned: Sequence[int], offset: float, seed: int) -> torch.Tensor:
    """Four real maxima per learned frequency (quadrature layout: two phase pairs), ``W (2M, 4 |S|)``."""
    W, fr = real_fourier_nodes(M, 4, offset=offset, seed=seed, layout="quadrature")
    return W[:, torch.isin(fr, torch.tensor(list(learned)))]


def energy_table(M: int, learned: Sequence[int], per_freq: int = 3, seed: int = 0, offset: float = 0.5,
                 activation: str = "sqr") -> pd.DataFrame:
    """``E_S`` at unit Fourier nodes of ``Z_M`` (:func:`probe_nodes`), frequency by frequency, for each residual of
    :data:`RESIDUALS`: ``Y~`` itself (``S`` empty), ``Y~`` without the learned irreps (:func:`th.irrep_residual`),
    and the least-squares residual (:func:`th.ls_residual`) of four maxima per learned frequency, with the halves'
    phases offset by ``offset * N(0, 1)`` (``ls_offset``) and exact (``ls_exact``). One row per (residual, node):
    ``residual, freq, node, learned, E`` (Theorem 1's energy), ``E_S`` (literal, :func:`th.energy_residual`),
    ``ratio = E_S / E``; for ``none`` and ``irrep`` also the closed forms ``closed_paper`` and ``closed_frobenius``
    (:func:`th.energy_missing_closed_form`, from ``S = sigma(u_i + v_j)`` alone; ``NaN`` otherwise)."""
    g = make(f"Z{M}")
    S = th.learned_components(g, learned)
    W, fr = probe_nodes(M, per_freq, seed)
    E = th.energy(W, g, activation)
    residuals = {
        "none": (th.irrep_residual(g, []), []),
        "irrep": (th.irrep_residual(g, S), S),
        "ls_offset": (th.ls_residual(_learned_nodes(M, S, offset, seed), g, activation), None),
        "ls_exact": (th.ls_residual(_learned_nodes(M, S, 0.0, seed), g, activation), None),
    }
    parts = []
    for name, (R, S_closed) in residuals.items():
        ES = th.energy_residual(W, R, g, activation)
        d = pd.DataFrame({"residual": name, "freq": fr.numpy(), "node": np.arange(len(fr)) % per_freq,
                          "learned": np.isin(fr.numpy(), S), "E": E.numpy(), "E_S": ES.numpy()})
        d["ratio"] = d["E_S"] / d["E"]
        if S_closed is not None:
            d["closed_paper"] = th.energy_missing_closed_form(W, g, S_closed, activation).numpy()
            d["closed_frobenius"] = th.energy_missing_closed_form(W, g, S_closed, activation, form="frobenius").numpy()
        else:
            d["closed_paper"] = d["closed_frobenius"] = np.nan
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def energy_numbers(table: pd.DataFrame) -> dict[str, float]:
    """The checks' numbers from :func:`energy_table`: ``closed_err`` (largest ``|closed - literal| / E`` over both
    forms, ``none`` and ``irrep``), ``none_err`` (``S`` empty against Theorem 1's ``E``), ``learned_max`` (largest
    ``E_S / E`` at learned frequencies, proof's residual), ``missing_err`` (largest ``|E_S / E - 1|`` at missing
    ones), ``ls_offset_err`` (largest ``|E_S(ls_offset) - E_S(irrep)| / E``), ``ls_exact_min`` / ``ls_exact_max``
    (``E_S / E`` at learned frequencies with the exact maxima's residual), ``E_lit`` (``E`` at the nodes, one value
    on ``Z_M`` with ``M`` odd)."""
    cl = table[table["residual"].isin(["none", "irrep"])]
    err = max(float(((cl["closed_paper"] - cl["E_S"]).abs() / cl["E"]).max()),
              float(((cl["closed_frobenius"] - cl["E_S"]).abs() / cl["E"]).max()))
    none = table[table["residual"] == "none"]
    irr = table[table["residual"] == "irrep"].reset_index(drop=True)
    off = table[table["residual"] == "ls_offset"].reset_index(drop=True)
    ex = table[(table["residual"] == "ls_exact") & table["learned"]]
    return dict(
        closed_err=err, none_err=float(((none["E_S"] - none["E"]).abs() / none["E"]).max()),
        learned_max=float(irr.loc[irr["learned"], "ratio"].max()),
        missing_err=float((irr.loc[~irr["learned"], "ratio"] - 1).abs().max()),
        ls_offset_err=float(((off["E_S"] - irr["E_S"]).abs() / irr["E"]).max()),
        ls_exact_min=float(ex["ratio"].min()), ls_exact_max=float(ex["ratio"].max()),
        E_lit=float(none["E"].mean()),
    )


def missing_maxima(group: str | Group, learned: Sequence[int], n_starts: int, seed: int = 0, steps: int = 3000,
                   activation: str = "sqr") -> pd.DataFrame:
    """Projected ascent of ``E_S`` (:func:`th.ascend_missing`) from ``n_starts`` seeded Gaussian starts
    (:func:`th.random_starts`). One row per start: ``component`` (dominant real component of the end point,
    :func:`measures.node_components`), ``purity``, ``in_S`` (the component is learned), ``E_S``, ``E`` (Theorem 1's
    energy there), ``closed_paper``, ``closed_frobenius``, ``dim`` (``d_k`` of the component), ``converged``."""
    g = make(group) if isinstance(group, str) else group
    S = th.learned_components(g, learned)
    w0 = th.random_starts(n_starts, g.order, seed=seed)
    w, ES, conv = th.ascend_missing(w0, g, S, activation, steps=steps)
    comp, pur = measures.node_components(w.T, g)
    dims = {c.index: c.dim for c in g.real_isotypic_projectors()}
    return pd.DataFrame({
        "start": np.arange(n_starts), "component": comp, "purity": pur, "in_S": np.isin(comp, S),
        "E_S": ES.numpy(), "E": th.energy(w, g, activation).numpy(),
        "closed_paper": th.energy_missing_closed_form(w, g, S, activation).numpy(),
        "closed_frobenius": th.energy_missing_closed_form(w, g, S, activation, form="frobenius").numpy(),
        "dim": [dims.get(int(c), 0) for c in comp], "converged": conv.numpy(),
    })


def closed_form_errors(group_names: Sequence[str], n_random: int = 16, n_starts: int = 16, seed: int = 0,
                       steps: int = 3000) -> pd.DataFrame:
    """For each group and each non-trivial real component ``c`` taken as the learned set ``S = {c}``: the largest
    relative error ``|closed - literal| / literal`` of the printed closed form (``paper_random``) and of the
    Frobenius form (``frobenius_random``) at ``n_random`` seeded random unit nodes, and of the printed form at the
    maxima of ``E_S`` reached from ``n_starts`` starts (``paper_maxima``); ``max_dim_missing`` (largest ``d_k``
    among the missing irreps), ``share_in_S`` (share of the maxima dominated by a learned component; Theorem 7:
    0), ``min_purity`` and the dominant components reached (``reached``)."""
    rows = []
    for name in group_names:
        g = make(name)
        comps = g.real_isotypic_projectors()
        w = th.random_starts(n_random, g.order, seed=seed + 1)
        for c in comps[1:]:
            S = [c.index]
            lit = th.energy_missing(w, g, S)
            pr = (th.energy_missing_closed_form(w, g, S) - lit).abs() / lit
            fr = (th.energy_missing_closed_form(w, g, S, form="frobenius") - lit).abs() / lit
            mx = missing_maxima(g, S, n_starts, seed=seed, steps=steps)
            pm = ((mx["closed_paper"] - mx["E_S"]).abs() / mx["E_S"]).max()
            rows.append(dict(group=name, learned=c.index, label=str(c.label), dim=c.dim,
                             max_dim_missing=max(x.dim for x in comps[1:] if x.index != c.index),
                             paper_random=float(pr.max()), frobenius_random=float(fr.max()), paper_maxima=float(pm),
                             share_in_S=float(mx["in_S"].mean()), min_purity=float(mx["purity"].min()),
                             reached=", ".join(str(int(x)) for x in sorted(set(mx["component"])))))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------- real training
def topdown_configs(M: int, widths: Sequence[int], train_frac: float, seeds: int, epochs: int, lr: float,
                    weight_decay: float, loss: str = "mse_sample", activation: str = "sqr",
                    optimizer: str = "adam") -> list[TrainConfig]:
    """One :class:`TrainConfig` on ``Z_M`` per (width, seed ``0 .. seeds - 1``), widths outer. Validated by
    :class:`TrainConfig` (``ValueError`` naming a bad field); ``seeds`` and ``widths`` here."""
    if not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    if not widths:
        raise ValueError("widths: need at least one width")
    return [TrainConfig(group=f"Z{M}", train_frac=train_frac, width=int(K), activation=activation, loss=loss,
                        optimizer=optimizer, lr=lr, weight_decay=weight_decay, epochs=epochs, seed=s,
                        eval_every=max(1, epochs // 100))
            for K in widths for s in range(seeds)]


def snapshot_epochs(epochs: int, every: int) -> list[int]:
    """``0, every, 2 every, ...`` and ``epochs``: the epochs at which :func:`spectrum_frame` reads the weights."""
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every: must be an integer >= 1; got {every!r}")
    return sorted(set(range(0, epochs + 1, every)) | {epochs})


def spectrum_frame(results: Results, epochs: Sequence[int], min_purity: float = 0.5, probes: int = 2,
                   seed: int = 0) -> pd.DataFrame:
    """Per run, snapshot epoch and non-trivial frequency ``c`` of ``Z_M`` (one row each):

    * ``gf_share``: the share of ``G_F`` (Eq. 2 on the run's training rows, :func:`th.G_F`; the gradient of the
      paper's loss) in frequency ``c``, from :func:`measures.gf_spectrum`;
    * ``fit_residual``: the residual left on ``c`` on the *training rows*, the same reduction applied to
      ``P_1^perp (Y - F V)`` divided by that of ``Y~`` (1: nothing of ``c`` fitted; 0: fitted). The lazy readout
      fits the training rows with random features long before any feature is learned (Stage I), so this is not
      what Theorem 7 means by "learned";
    * ``nodes``: hidden nodes whose dominant component is ``c`` with purity at least ``min_purity``
      (:func:`measures.node_components`), ``covered`` (``nodes > 0``);
    * ``E_ls``: ``E_S / E`` at ``probes`` seeded unit Fourier nodes of frequency ``c`` (mean), with the residual of a
      least-squares readout on the current nodes over all ``M^2`` pairs (:func:`th.ls_residual`): 0 when the nodes
      can reconstruct ``c``, about 1 when they cannot. This is Theorem 7's "the hidden layer has learned ``c``"
      made a number: ``c`` counts as learned at a snapshot when ``E_ls <= level`` (:func:`learned_mask`);
    * ``label_share``: the share of ``||G_F||^2`` that is a function of the target (the part the spectrum sees).

    Columns ``run, width, seed, epoch, freq`` first. The weights come from ``results.weights_at`` (train with
    ``snapshots=epochs``), in float64."""
    parts = []
    for r, cfg in enumerate(results.configs):
        g = make(cfg.group)
        M = g.order
        L = len(g.real_isotypic_projectors()) - 1
        rows = split(make_task(g), cfg.p, cfg.seed).train
        a, b = rows // M, rows % M
        y = torch.as_tensor(g.table)[a, b]
        Y = torch.nn.functional.one_hot(y, M).double()
        Yt = center(Y)
        ref = measures.gf_spectrum(Yt, y, g)[1:]
        probe_w, probe_f = probe_nodes(M, probes, seed)
        E_probe = th.energy(probe_w, g, cfg.activation)
        sig = derivatives(cfg.activation)[0]
        for t in epochs:
            if t > cfg.epochs:
                continue
            W, V = (x.double() for x in results.weights_at(r, int(t)))
            F = sig(W[a] + W[M + b])
            G = th.G_F(F, V, Y)
            spec = measures.gf_spectrum(G, y, g)
            E = Yt - center(F) @ V
            res = measures.gf_spectrum(E, y, g)[1:] / ref
            comp, pur = measures.node_components(W, g)
            nodes = np.array([int(((comp == c) & (pur >= min_purity)).sum()) for c in range(1, L + 1)])
            R = th.ls_residual(W, g, cfg.activation)
            E_ls = (th.energy_residual(probe_w, R, g, cfg.activation) / E_probe).numpy()
            E_ls = np.array([E_ls[probe_f.numpy() == c].mean() for c in range(1, L + 1)])
            Gn = float(G.pow(2).sum())
            cnt = Y.sum(0)
            lab = float((((Y.T @ G) ** 2).sum(-1) / cnt.clamp_min(1)).sum()) / Gn if Gn > 0 else float("nan")
            parts.append(pd.DataFrame({
                "run": r, "width": cfg.width, "seed": cfg.seed, "epoch": int(t), "freq": np.arange(1, L + 1),
                "gf_share": spec[1:] / spec[1:].sum(), "fit_residual": res, "nodes": nodes, "covered": nodes > 0,
                "E_ls": E_ls, "label_share": lab}))
    return pd.concat(parts, ignore_index=True)


def learned_mask(frame: pd.DataFrame, level: float = 0.5) -> pd.Series:
    """``E_ls <= level``: the frequencies the current nodes can reconstruct on all pairs (:func:`spectrum_frame`)."""
    if not 0 < level < 1:
        raise ValueError(f"level: must lie in (0, 1); got {level!r}")
    return frame["E_ls"] <= level


def tracking_frame(frame: pd.DataFrame, level: float = 0.5) -> pd.DataFrame:
    """Per run and snapshot: ``spearman``, the rank correlation across frequencies of the ``G_F`` share with
    ``E_ls`` (how much of the frequency the nodes still miss; Theorem 7: positive, the top-down signal goes to the
    missing irreps), ``spearman_fit`` (the same against the training-row residual ``fit_residual``), ``n_learned``
    (frequencies with ``E_ls <= level``) and ``in_window`` (some but not all learned: the snapshots where Theorem
    7 says something beyond Theorem 1)."""
    rows = []
    learned = learned_mask(frame, level)
    for (run, width, epoch), d in frame.groupby(["run", "width", "epoch"], sort=True):
        n, L = int(learned[d.index].sum()), len(d)
        rows.append(dict(run=run, width=width, epoch=epoch, spearman=measures.spearman(d["E_ls"], d["gf_share"]),
                         spearman_fit=measures.spearman(d["fit_residual"], d["gf_share"]), n_learned=n,
                         in_window=0 < n < L))
    return pd.DataFrame(rows)


def covered_share_frame(frame: pd.DataFrame, level: float = 0.5) -> pd.DataFrame:
    """Per run and snapshot with some but not all frequencies learned (``E_ls <= level``): ``n_learned``, ``fair``
    (``n_learned / L``, the share of a spectrum spread evenly), ``learned_share`` (the ``G_F`` share on the learned
    frequencies) and ``ratio = learned_share / fair`` (Theorem 7: 0, the learned irreps drop out of ``G_F``; 1: no
    modulation at all)."""
    rows = []
    learned = learned_mask(frame, level)
    for (run, width, epoch), d in frame.groupby(["run", "width", "epoch"], sort=True):
        m = learned[d.index]
        n, L = int(m.sum()), len(d)
        if 0 < n < L:
            cs = float(d.loc[m, "gf_share"].sum())
            rows.append(dict(run=run, width=width, epoch=epoch, n_learned=n, fair=n / L, learned_share=cs,
                             ratio=cs / (n / L)))
    return pd.DataFrame(rows, columns=["run", "width", "epoch", "n_learned", "fair", "learned_share", "ratio"])


def learning_order(frame: pd.DataFrame, level: float = 0.5) -> pd.DataFrame:
    """Per run and frequency: ``learned_epoch``, the first snapshot with ``E_ls <= level`` (NaN if never),
    ``covered_epoch``, the first snapshot with a node there (NaN if never), and ``fitted_epoch``, the first with the
    training-row residual at most ``level``; ``rank`` orders the frequencies of a run by ``learned_epoch``."""
    rows = []
    learned = learned_mask(frame, level)
    for (run, width, freq), d in frame.groupby(["run", "width", "freq"], sort=True):
        d = d.sort_values("epoch")
        hit = d.loc[learned[d.index], "epoch"]
        cov = d.loc[d["covered"], "epoch"]
        fit = d.loc[d["fit_residual"] <= level, "epoch"]
        rows.append(dict(run=run, width=width, freq=freq, learned_epoch=float(hit.min()) if len(hit) else np.nan,
                         covered_epoch=float(cov.min()) if len(cov) else np.nan,
                         fitted_epoch=float(fit.min()) if len(fit) else np.nan))
    out = pd.DataFrame(rows)
    out["rank"] = out.groupby("run")["learned_epoch"].rank(method="min")
    return out


def gf_is_the_loss_gradient(results: Results, run: int, epoch: int) -> float:
    """Largest ``|G_F - (-dL/dF)| / max |G_F|`` at one snapshot of run ``run``: Eq. 2 (:func:`th.G_F`) against the
    trainer's own backward for the run's loss (:func:`th.loss_grad`), on its training rows. 0 up to round-off when
    the run trains on the paper's loss ``mse_sample`` (Eq. 1)."""
    cfg = results.configs[run]
    g = make(cfg.group)
    M = g.order
    rows = split(make_task(g), cfg.p, cfg.seed).train
    W, V = (x.double() for x in results.weights_at(run, int(epoch)))
    a, b = rows // M, rows % M
    F = derivatives(cfg.activation)[0](W[a] + W[M + b])
    Y = torch.nn.functional.one_hot(torch.as_tensor(g.table)[a, b], M).double()
    G = th.G_F(F, V, Y)
    lg = th.loss_grad(W, V, g, rows=rows, activation=cfg.activation, loss=cfg.loss)
    return float((G - lg.F).abs().max() / G.abs().max())


# --------------------------------------------------------------------------------------------- figures
def thm7_energy_data(table: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm7_energy`: per residual and frequency, the mean ``E_S / E`` over the nodes and
    its min and max, whether the frequency is learned, and the mean closed forms over ``E``."""
    d = table.assign(paper=table["closed_paper"] / table["E"], frobenius=table["closed_frobenius"] / table["E"])
    return (d.groupby(["residual", "freq", "learned"], sort=True)
            .agg(ratio=("ratio", "mean"), ratio_min=("ratio", "min"), ratio_max=("ratio", "max"),
                 closed_paper=("paper", "mean"), closed_frobenius=("frobenius", "mean"))
            .reset_index())


def thm7_energy(table: pd.DataFrame) -> plt.Figure:
    """``E_S / E`` per frequency at unit Fourier nodes (bars: mean over the nodes; ticks: min..max), for ``S`` empty
    and ``S`` learned (the proof's residual, with the closed form as markers), and for the least-squares residuals
    of constructed learned nodes. Learned frequencies are shaded."""
    theme()
    d = thm7_energy_data(table)
    order = [k for k in RESIDUALS if k in set(d["residual"])]
    fig, axes = plt.subplots(len(order), 1, figsize=(8.0, 1.9 * len(order) + 0.6), sharex=True, squeeze=False)
    colors = sns.color_palette("colorblind")
    for i, name in enumerate(order):
        ax = axes[i, 0]
        dm = d[d["residual"] == name]
        for f in dm.loc[dm["learned"], "freq"]:
            ax.axvspan(f - 0.5, f + 0.5, color="0.85", lw=0, zorder=0)
        ax.bar(dm["freq"], dm["ratio"], width=0.6, color=colors[i], zorder=2, label="literal $\\mathcal{E}_S$")
        ax.errorbar(dm["freq"], dm["ratio"], yerr=[(dm["ratio"] - dm["ratio_min"]).clip(lower=0),
                                                    (dm["ratio_max"] - dm["ratio"]).clip(lower=0)],
                    fmt="none", ecolor="0.2", lw=1, capsize=2, zorder=3)
        if dm["closed_paper"].notna().any():
            ax.plot(dm["freq"], dm["closed_paper"], "kx", ms=7, mew=1.6, zorder=4, label="closed form (Eq. 20)")
            ax.legend(loc="upper right", fontsize=9, ncol=2, framealpha=0.9)
        ax.set_ylim(0, max(1.35, float(dm["ratio_max"].max()) * 1.15))
        ax.set_ylabel("$\\mathcal{E}_S / \\mathcal{E}$", fontsize=10)
        ax.set_title(RESIDUALS[name], fontsize=10)
    axes[-1, 0].set_xlabel("frequency $j$ of the unit Fourier node (shaded: learned)")
    axes[-1, 0].set_xticks(sorted(d["freq"].unique()))
    fig.tight_layout()
    return fig


def thm7_spectrum_data(frame: pd.DataFrame, run: int) -> pd.DataFrame:
    """The numbers behind :func:`thm7_spectrum`: run ``run``'s rows of :func:`spectrum_frame`, with ``gf_rel``,
    the ``G_F`` share times the number of frequencies (1 = an even spread)."""
    d = frame[frame["run"] == run].copy()
    d["gf_rel"] = d["gf_share"] * d["freq"].nunique()
    return d[["run", "width", "seed", "epoch", "freq", "gf_share", "gf_rel", "E_ls", "fit_residual", "nodes"]]


def thm7_spectrum(frame: pd.DataFrame, run: int, order: pd.DataFrame | None = None) -> plt.Figure:
    """Run ``run`` through training: ``E_S / E`` from the least-squares residual of the current nodes on each
    frequency (top: how much of it the nodes still miss) and the ``G_F`` share relative to an even spread (bottom),
    frequency against epoch; white dots mark the epoch each frequency is learned (:func:`learning_order`)."""
    theme()
    d = thm7_spectrum_data(frame, run)
    ep = np.sort(d["epoch"].unique())
    fq = np.sort(d["freq"].unique())
    fig, axes = plt.subplots(2, 1, figsize=(8.0, 6.4), sharex=True)
    panels = [("E_ls", "$\\mathcal{E}_S/\\mathcal{E}$ with the current nodes' least-squares residual "
                       "(1: missing, 0: learned)", "mako", (0.0, 1.0)),
              ("gf_rel", "$G_F$ share × number of frequencies", "rocket", (0.0, None))]
    for ax, (col, title, cmap, (lo, hi)) in zip(axes, panels):
        Z = d.pivot(index="freq", columns="epoch", values=col).reindex(index=fq, columns=ep).to_numpy()
        vmax = hi if hi is not None else float(np.nanquantile(Z, 0.99))
        mesh = ax.pcolormesh(ep, fq, Z, cmap=cmap, vmin=lo, vmax=vmax, shading="nearest")
        cb = fig.colorbar(mesh, ax=ax, pad=0.01)
        cb.ax.tick_params(labelsize=9)
        if order is not None:
            o = order[(order["run"] == run) & order["learned_epoch"].notna()]
            ax.scatter(o["learned_epoch"], o["freq"], s=22, c="white", edgecolors="black", lw=0.8, zorder=3,
                       label="learned ($\\mathcal{E}_S/\\mathcal{E}$ ≤ 0.5)")
        ax.set_ylabel("frequency $j$")
        ax.set_yticks(fq)
        ax.tick_params(axis="y", labelsize=9)
        ax.set_title(title, fontsize=10.5)
    if order is not None:
        axes[0].legend(loc="upper right", fontsize=9, framealpha=0.9)
    axes[-1].set_xlabel(EPOCH_LABEL)
    w, s = int(d["width"].iloc[0]), int(d["seed"].iloc[0])
    fig.suptitle(f"One run (K = {w}, seed {s}): residual and top-down signal per frequency", fontsize=11)
    fig.tight_layout()
    return fig


def thm7_tracking_data(track: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm7_tracking`: the Spearman correlations per run and snapshot (``panel =
    "tracking"``) and, per run and frequency at the last snapshot, ``E_ls`` against the nodes there (``panel =
    "end"``)."""
    a = track.assign(panel="tracking")
    last = frame[frame["epoch"] == frame.groupby("run")["epoch"].transform("max")]
    b = last[["run", "width", "seed", "epoch", "freq", "nodes", "E_ls", "fit_residual"]].assign(panel="end")
    return pd.concat([a, b], ignore_index=True)


def thm7_tracking(track: pd.DataFrame, frame: pd.DataFrame) -> plt.Figure:
    """Left: the rank correlation across frequencies between the ``G_F`` share and ``E_ls``, per run
    against the epoch (the window of :func:`tracking_frame` drawn solid). Right: at the last snapshot, ``E_S / E``
    from the least-squares residual of the trained nodes against the number of nodes at the frequency."""
    theme()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(8.0, 3.9), gridspec_kw={"width_ratios": [1.4, 1]})
    widths = sorted(track["width"].unique())
    colors = dict(zip(widths, sns.color_palette("colorblind")))
    for run, d in track.groupby("run"):
        c = colors[d["width"].iloc[0]]
        ax.plot(d["epoch"], d["spearman"], color=c, lw=0.6, alpha=0.35)
        w = d[d["in_window"]]
        ax.plot(w["epoch"], w["spearman"], color=c, lw=1.3, marker=".", ms=3, ls="none")
    for K in widths:
        ax.plot([], [], color=colors[K], marker=".", ls="none", label=f"K = {K}")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(EPOCH_LABEL, fontsize=10)
    ax.set_ylabel("rank correlation, $G_F$ share\nvs $\\mathcal{E}_S/\\mathcal{E}$", fontsize=10)
    ax.legend(fontsize=9, loc="lower right")
    ax.set_title("dots: some but not all frequencies learned", fontsize=10)
    last = frame[frame["epoch"] == frame.groupby("run")["epoch"].transform("max")]
    rng = np.random.default_rng(0)
    for K in widths:
        d = last[last["width"] == K]
        bx.scatter(d["nodes"] + rng.uniform(-0.15, 0.15, len(d)), d["E_ls"], s=16, color=colors[K], alpha=0.8,
                   label=f"K = {K}")
    bx.axhline(1, color="0.3", lw=0.8, ls="--")
    bx.set_xlabel("nodes at the frequency (end)", fontsize=10)
    bx.set_ylabel("$\\mathcal{E}_S/\\mathcal{E}$ (least-squares residual)", fontsize=10)
    bx.set_title("end of training", fontsize=10)
    bx.legend(fontsize=9)
    fig.tight_layout()
    return fig


def order_table(order: pd.DataFrame) -> pd.DataFrame:
    """Per run: the frequencies in the order they are learned, with the epochs (``"j@epoch"``), those never learned,
    and the spread of the learning epochs."""
    rows = []
    for run, o in order.groupby("run"):
        o = o.sort_values(["learned_epoch", "freq"])
        done = o[o["learned_epoch"].notna()]
        never = o[o["learned_epoch"].isna()]
        rows.append({"run": int(run), "K": int(o["width"].iloc[0]),
                     "order (frequency@epoch)": ", ".join(f"{int(r.freq)}@{int(r.learned_epoch)}"
                                                          for r in done.itertuples()),
                     "never": ", ".join(str(int(f)) for f in never["freq"]) or "—",
                     "spread (epochs)": float(done["learned_epoch"].max() - done["learned_epoch"].min())
                     if len(done) else float("nan")})
    return pd.DataFrame(rows)


def summary_numbers(track: pd.DataFrame, cov: pd.DataFrame, frame: pd.DataFrame, many: int = 4) -> dict[str, Any]:
    """The numbers of the training checks: ``spearman_median`` (median over the runs of each run's median rank
    correlation inside the window) with ``spearman_runs`` (per run), ``window_n`` (snapshots in the window),
    ``positive_share`` (share of window snapshots with a positive correlation), ``spearman_fit_median`` (the same
    median against the training-row residual); ``learned_ratio`` (median of :func:`covered_share_frame`'s ratio),
    ``learned_ratio_max`` and ``learned_n`` (its snapshots); at the end
    ``E_many_max`` (largest ``E_ls`` over frequencies with at least ``many`` nodes, NaN if none), ``E_many_n``,
    ``E_none_min`` (smallest over frequencies without a node), ``E_none_n``, ``E_one_range`` (min, max over
    frequencies with one node) and ``label_share_min`` (smallest share of ``G_F`` that is a function of the target,
    in the window)."""
    w = track[track["in_window"]]
    per_run = w.groupby("run")["spearman"].median()
    last = frame[frame["epoch"] == frame.groupby("run")["epoch"].transform("max")]
    many_ = last[last["nodes"] >= many]
    none_ = last[last["nodes"] == 0]
    one_ = last[last["nodes"] == 1]
    win = frame.merge(w[["run", "epoch"]], on=["run", "epoch"])
    return dict(
        spearman_median=float(per_run.median()) if len(per_run) else float("nan"),
        spearman_runs=per_run.to_dict(), window_n=int(len(w)),
        positive_share=float((w["spearman"] > 0).mean()) if len(w) else float("nan"),
        spearman_fit_median=float(w.groupby("run")["spearman_fit"].median().median()) if len(w) else float("nan"),
        learned_ratio=float(cov["ratio"].median()) if len(cov) else float("nan"),
        learned_ratio_max=float(cov["ratio"].max()) if len(cov) else float("nan"), learned_n=int(len(cov)),
        E_many_max=float(many_["E_ls"].max()) if len(many_) else float("nan"), E_many_n=int(len(many_)),
        E_none_min=float(none_["E_ls"].min()) if len(none_) else float("nan"), E_none_n=int(len(none_)),
        E_one_range=(float(one_["E_ls"].min()), float(one_["E_ls"].max())) if len(one_) else (np.nan, np.nan),
        label_share_min=float(win["label_share"].min()) if len(win) else float("nan"),
    )
