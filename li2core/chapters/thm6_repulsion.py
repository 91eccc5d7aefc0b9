"""Chapter ``thm6_repulsion`` (paper-li2 Stage III, Thm 6, Eq. 9): the Schur-complement identity for the entries of
``B = (F~^T F~ + eta I)^{-1}`` on random and trained features, its sign rule on the most similar pairs of hidden
nodes through training, the ``P_eta`` shortcut, and feature diversity over epochs.

Drivers, in the order the notebook calls them: :func:`random_identity` (§1, seeded Gaussian features);
:func:`repulsion_configs`, :func:`effective_ridge`, :func:`training_features` and :func:`snapshot_measures` (§2, the
runs and, per snapshot, the pair statistics); :func:`trained_identity` (the identity on trained features);
:func:`pair_frame` (the pairs drawn in :func:`thm6_pairs`); :func:`eta_frame` (§3, the ridge's effect); the checks'
summary :func:`run_summary`. Figures: :func:`thm6_identity`, :func:`thm6_pairs`, :func:`thm6_training`,
:func:`thm6_diversity`, :func:`thm6_eta`, each with its ``*_data``.
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .. import measures
from .. import theory as th
from ..activations import derivatives
from ..figures import EPOCH_LABEL, band_data, theme
from ..tasks import make_task, split
from ..train import TrainConfig

ACTIVATION_LABELS = {"sqr": r"$\sigma(x)=x^2$", "relu": "ReLU", "silu": "SiLU", "relusqr": r"ReLU$(x)^2$"}
#: The same as plain text, for strings glued into the prose (glued Markdown is not parsed for math).
ACTIVATION_TEXT = {"sqr": "σ(x) = x²", "relu": "ReLU", "silu": "SiLU", "relusqr": "ReLU(x)²"}


def _scaled_error(b: torch.Tensor, B: torch.Tensor, j: torch.Tensor, l: torch.Tensor) -> torch.Tensor:
    """``|b - B_jl| / sqrt(B_jj B_ll)``: the error on the scale of the entry (``|B_jl| <= sqrt(B_jj B_ll)``)."""
    return (b - B[j, l]).abs() / (B[j, j] * B[l, l]).sqrt()


# --- §1 random features -------------------------------------------------------------------------------------------

def random_identity(n: int, K: int, eta: float, seed: int = 0) -> dict[str, Any]:
    """Theorem 6 and Eq. 9 on seeded Gaussian features ``F (n, K)`` (``torch.Generator().manual_seed(seed)``),
    float64, every pair ``j < l``.

    Returns ``schur_err`` (largest ``|b_Schur - B_jl| / sqrt(B_jj B_ll)``, ``b_Schur`` from the exact
    ``P_{eta,-jl}`` solved per pair, :func:`li2core.theory.schur_pairs` ``method="direct"``, against ``B`` from
    ``torch.linalg.inv``), ``downdate_err`` (largest relative difference of ``alpha, beta, gamma`` between the
    ``downdate`` and ``direct`` methods), ``sign_rule`` (share of pairs with ``sign b_jl = -sign beta``),
    ``det_min`` (smallest ``alpha gamma - beta^2``), ``eq9_fixed`` / ``eq9_printed`` (relative error of Eq. 9 with
    the sum over ``l != j`` / over ``l = 1..K``, :func:`li2core.theory.eq9_rhs`, against ``F~ B``), ``peta_err``
    (largest ``|f~_j^T P_eta f~_l - beta_{P_eta}| / (||f~_j|| ||f~_l||)``, ``P_eta`` the literal ``n x n``
    :func:`li2core.theory.P_eta` against :func:`li2core.theory.schur_pairs_P_eta`'s ``-eta^2 b_jl``), ``pairs``,
    and the frame ``points`` (``b_inv, b_schur, scale`` per pair) for :func:`thm6_identity`.
    """
    for name, v in (("n", n), ("K", K)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 2:
            raise ValueError(f"{name}: must be an integer >= 2; got {v!r}")
    g = torch.Generator().manual_seed(int(seed))
    F = torch.randn(n, K, generator=g, dtype=torch.float64)
    Ft = F - F.mean(0)
    B = torch.linalg.inv(Ft.T @ Ft + eta * torch.eye(K, dtype=torch.float64))
    pairs = torch.triu_indices(K, K, offset=1).T
    d = th.schur_pairs(Ft, eta, pairs, method="direct")
    u = th.schur_pairs(Ft, eta, pairs, method="downdate", B=B)
    rel = max(float(((getattr(u, k) - getattr(d, k)).abs() / getattr(d, k).abs().clamp_min(1e-300)).max())
              for k in ("alpha", "gamma")) if len(pairs) else 0.0
    rel = max(rel, float(((u.beta - d.beta).abs() / (d.alpha * d.gamma).sqrt()).max()))
    FB = Ft @ B
    Pn = th.P_eta(Ft, eta)
    pe = th.schur_pairs_P_eta(Ft, eta, pairs, B=B)
    lit = (Ft[:, d.j] * (Pn @ Ft[:, d.l])).sum(0)
    nrm = Ft.norm(dim=0)
    scale = (B[d.j, d.j] * B[d.l, d.l]).sqrt()
    return dict(
        schur_err=float(_scaled_error(d.b, B, d.j, d.l).max()), downdate_err=rel,
        sign_rule=float((torch.sign(d.b) == th.repulsion_sign(d.beta)).double().mean()),
        det_min=float((d.alpha * d.gamma - d.beta ** 2).min()),
        eq9_fixed=float((th.eq9_rhs(Ft, eta) - FB).norm() / FB.norm()),
        eq9_printed=float((th.eq9_rhs(Ft, eta, printed=True) - FB).norm() / FB.norm()),
        peta_err=float(((lit - pe.beta).abs() / (nrm[d.j] * nrm[d.l])).max()), pairs=int(len(pairs)),
        points=pd.DataFrame({"features": "random", "b_inv": (B[d.j, d.l] / scale).numpy(),
                             "b_schur": (d.b / scale).numpy()}),
    )


# --- §2 training ---------------------------------------------------------------------------------------------------

def repulsion_configs(M: int, width: int, train_frac: float, seeds: int, activations: Sequence[str],
                      weight_decay: float, epochs: int, lr: float, loss: str = "mse_class", optimizer: str = "adam",
                      eval_every: int = 4) -> list[TrainConfig]:
    """The chapter's runs on ``Z_M``: one :class:`TrainConfig` per (activation, seed ``0..seeds-1``), activations
    outer. Validated by :class:`TrainConfig` (``ValueError`` naming a bad field)."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValueError(f"seeds: must be an integer >= 1; got {seeds!r}")
    if not activations:
        raise ValueError("activations: need at least one activation")
    return [TrainConfig(group=f"Z{M}", train_frac=train_frac, width=width, activation=a, loss=loss,
                        optimizer=optimizer, lr=lr, weight_decay=weight_decay, epochs=epochs, seed=s,
                        eval_every=eval_every)
            for a in activations for s in range(seeds)]


def effective_ridge(n_train: int, weight_decay: float) -> float:
    """The ridge ``eta`` that the trained loss's weight decay puts on ``V``: ``n wd / 2`` (``mse_class`` is a mean
    over the ``n`` samples without the paper's ``1/2``, so ``L + wd/2 ||V||^2`` has the minimiser of
    ``J + (n wd / 2)/2 ||V||^2`` up to the centring axis; paper-li2 §4.3)."""
    return float(n_train) * float(weight_decay) / 2.0


def training_features(W: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """``F = sigma(X W) (n, K)`` on the run's training rows (:func:`li2core.tasks.split` of ``cfg``), float64."""
    rows = split(make_task(cfg.group), cfg.train_frac, cfg.seed).train
    X, _ = th.design(cfg.group, rows, dtype=torch.float64)
    return derivatives(cfg.activation)[0](X @ W.to(torch.float64))


#: The per-snapshot columns of :func:`snapshot_measures`.
SNAPSHOT_MEASURES = {
    "share_negative": "share of the top pairs with b_jl < 0 (= -sign cos: 'similar features repel')",
    "share_rule": "share of the top pairs with sign b_jl = -sign beta (Theorem 6, exact P_{eta,-jl})",
    "share_peta_sign": "share of the top pairs whose beta with P_eta has the sign of the exact beta",
    "peta_ratio_median": "median of |beta_{P_eta}| / |beta| over the top pairs",
    "peta_formula_err": "largest |beta_{P_eta} / beta - eta^2 / (alpha gamma - beta^2)| over the top pairs",
    "top_cos_mean": "mean cosine of the top pairs",
    "top_cos_min": "smallest cosine among the top pairs",
    "top_cos_max": "largest cosine among the top pairs (of all pairs)",
    "top_same_freq": "share of the top pairs whose two nodes have the same dominant frequency",
    "mean_abs_cos": "mean |cos| over all pairs of nonzero columns",
    "near_duplicates": "pairs with cos >= near_dup",
    "diversity": "distinct dominant frequencies (li2core.measures.feature_diversity)",
    "repelled_next": "share of the top pairs whose cosine is lower at the next snapshot",
}


def _pair_stats(Ft: torch.Tensor, eta: float, top: torch.Tensor, cos_top: torch.Tensor) -> dict[str, Any]:
    B = th.B_matrix(Ft, eta)
    ex = th.schur_pairs(Ft, eta, top, B=B)
    pe = th.schur_pairs_P_eta(Ft, eta, top, B=B)
    b = B[ex.j, ex.l]
    ratio = (pe.beta / ex.beta)
    pred = eta ** 2 / (ex.alpha * ex.gamma - ex.beta ** 2)
    return dict(B=B, ex=ex, b=b,
                share_negative=float((torch.sign(b) == -torch.sign(cos_top)).double().mean()),
                share_rule=float((torch.sign(b) == th.repulsion_sign(ex.beta)).double().mean()),
                share_peta_sign=float((torch.sign(pe.beta) == torch.sign(ex.beta)).double().mean()),
                peta_ratio_median=float(ratio.abs().median()),
                peta_formula_err=float((ratio - pred).abs().max()))


def snapshot_measures(results: Any, run: int, epochs: Sequence[int], eta: float, top_pairs: int,
                      near_dup: float = 0.9, min_purity: float = 0.5) -> pd.DataFrame:
    """Per snapshot epoch of run ``run`` of ``results`` (:func:`li2core.train` with ``snapshots=epochs``), the
    :data:`SNAPSHOT_MEASURES` of the ``top_pairs`` most cosine-similar pairs of hidden nodes
    (:func:`li2core.theory.top_similar_pairs` on the centred training features :func:`training_features`) with
    ``B`` at ridge ``eta``. ``repelled_next`` follows the top pairs of one snapshot to the next (NaN at the last).
    One row per epoch: ``run, activation, seed, epoch`` and the measures."""
    cfg = results.configs[run]
    rows, prev = [], None
    for t in sorted(int(e) for e in epochs):
        W, _ = results.weights_at(run, t)
        F = training_features(W, cfg)
        Fc = F - F.mean(0)
        C = th.feature_cosines(Fc)
        top, cos_top = th.top_similar_pairs(Fc, top_pairs)
        s = _pair_stats(Fc, eta, top, cos_top)
        iu = torch.triu_indices(C.shape[0], C.shape[0], offset=1)
        cu = C[iu[0], iu[1]]
        cu = cu[~torch.isnan(cu)]
        comp, _ = measures.node_components(W, cfg.group)
        comp = torch.as_tensor(comp)
        r = dict(run=run, activation=cfg.activation, seed=cfg.seed, epoch=t,
                 **{k: s[k] for k in ("share_negative", "share_rule", "share_peta_sign", "peta_ratio_median",
                                      "peta_formula_err")},
                 top_cos_mean=float(cos_top.mean()), top_cos_min=float(cos_top.min()),
                 top_cos_max=float(cos_top.max()),
                 top_same_freq=float((comp[top[:, 0]] == comp[top[:, 1]]).double().mean()),
                 mean_abs_cos=float(cu.abs().mean()), near_duplicates=int((cu >= near_dup).sum()),
                 diversity=measures.feature_diversity(W, cfg.group, min_purity), repelled_next=float("nan"))
        if prev is not None:
            pt, pc = prev
            now = C[pt[:, 0], pt[:, 1]]
            rows[-1]["repelled_next"] = float((now < pc).double().mean())
        prev = (top, cos_top)
        rows.append(r)
    return pd.DataFrame(rows)


def trained_identity(results: Any, run: int, epoch: int, eta: float, n_pairs: int) -> dict[str, float]:
    """The identity on trained features: ``b_jl`` of ``torch.linalg.inv(F~^T F~ + eta I)`` against Theorem 6's
    formula with the exact ``P_{eta,-jl}`` solved per pair (:func:`li2core.theory.schur_pairs` ``"direct"``),
    on the ``n_pairs`` most similar pairs at ``epoch``. Returns ``err`` (largest ``|b_Schur - B_jl| /
    sqrt(B_jj B_ll)``), ``cond`` (condition number of ``F~^T F~ + eta I``), ``sign_rule`` and ``pairs``."""
    cfg = results.configs[run]
    W, _ = results.weights_at(run, int(epoch))
    F = training_features(W, cfg)
    Ft = F - F.mean(0)
    A = Ft.T @ Ft + eta * torch.eye(Ft.shape[1], dtype=torch.float64)
    B = torch.linalg.inv(A)
    top, _ = th.top_similar_pairs(Ft, n_pairs)
    d = th.schur_pairs(Ft, eta, top, method="direct")
    ev = torch.linalg.eigvalsh(A)
    return dict(err=float(_scaled_error(d.b, B, d.j, d.l).max()), cond=float(ev[-1] / ev[0]),
                sign_rule=float((torch.sign(d.b) == th.repulsion_sign(d.beta)).double().mean()),
                pairs=int(len(top)), points=pd.DataFrame({
                    "features": f"trained, {ACTIVATION_LABELS.get(cfg.activation, cfg.activation)}", "b_inv": (B[d.j, d.l] / (B[d.j, d.j] * B[d.l, d.l]).sqrt()).numpy(),
                    "b_schur": (d.b / (B[d.j, d.j] * B[d.l, d.l]).sqrt()).numpy()}))


def pair_frame(results: Any, run: int, epochs: Sequence[int], eta: float, top_pairs: int, sample: int,
               seed: int = 0) -> pd.DataFrame:
    """The pairs drawn in :func:`thm6_pairs` for run ``run`` at each of ``epochs``: the ``top_pairs`` most similar
    pairs (``kind = "top"``) and ``sample`` pairs ``j < l`` drawn uniformly (``kind = "sample"``, seeded), with their
    cosine ``cos`` and ``rho = -b_jl / sqrt(b_jj b_ll) = beta / sqrt(alpha gamma)`` (the overlap left after the other
    features are regressed out; ``rho > 0`` iff ``b_jl < 0``), and the exact ``beta`` and ``beta_peta`` (with
    ``P_eta``) of each pair (:func:`li2core.theory.schur_pairs`, :func:`li2core.theory.schur_pairs_P_eta`)."""
    cfg = results.configs[run]
    parts = []
    for t in epochs:
        W, _ = results.weights_at(run, int(t))
        F = training_features(W, cfg)
        Ft = F - F.mean(0)
        K = Ft.shape[1]
        C = th.feature_cosines(Ft)
        B = th.B_matrix(Ft, eta)
        top, _ = th.top_similar_pairs(Ft, top_pairs)
        g = torch.Generator().manual_seed(int(seed) * 7919 + int(t))
        j = torch.randint(0, K, (sample,), generator=g)
        l = (j + torch.randint(1, K, (sample,), generator=g)) % K
        for kind, (a, c) in (("sample", (j, l)), ("top", (top[:, 0], top[:, 1]))):
            ab = torch.stack([a, c], 1)
            ex = th.schur_pairs(Ft, eta, ab, B=B)
            pe = th.schur_pairs_P_eta(Ft, eta, ab, B=B)
            rho = -B[a, c] / (B[a, a] * B[c, c]).sqrt()
            parts.append(pd.DataFrame({"activation": cfg.activation, "seed": cfg.seed, "epoch": int(t), "kind": kind,
                                       "j": a.numpy(), "l": c.numpy(), "cos": C[a, c].numpy(), "rho": rho.numpy(),
                                       "beta": ex.beta.numpy(), "beta_peta": pe.beta.numpy()}))
    return pd.concat(parts, ignore_index=True).dropna()


def eta_frame(results: Any, run: int, epoch: int, etas: Sequence[float], top_pairs: int) -> pd.DataFrame:
    """How the ridge changes the picture at one snapshot: per ``eta`` of ``etas``, the :func:`snapshot_measures`
    shares and the median ``|beta_{P_eta}| / |beta|`` on the same top pairs (the cosines do not depend on
    ``eta``). Columns ``run, activation, seed, eta`` and the measures."""
    cfg = results.configs[run]
    W, _ = results.weights_at(run, int(epoch))
    F = training_features(W, cfg)
    Ft = F - F.mean(0)
    top, cos_top = th.top_similar_pairs(Ft, top_pairs)
    rows = []
    for eta in etas:
        s = _pair_stats(Ft, float(eta), top, cos_top)
        rows.append(dict(run=run, activation=cfg.activation, seed=cfg.seed, eta=float(eta),
                         **{k: s[k] for k in ("share_negative", "share_rule", "share_peta_sign",
                                              "peta_ratio_median")}))
    return pd.DataFrame(rows)


def run_summary(snap: pd.DataFrame, frame: pd.DataFrame, fit: float = 0.99) -> pd.DataFrame:
    """Per activation, the numbers the checks are about, from :func:`snapshot_measures` frames ``snap`` (all runs)
    and the training frame ``frame`` (:meth:`li2core.Results.frame`): ``share_rule_min``, ``peta_sign_min``,
    ``peta_formula_err`` (worst over runs and snapshots), ``share_negative_min`` (worst over runs and
    snapshots), ``share_negative_final`` (worst over runs, last snapshot), ``ratio_median_final`` (median over runs
    of ``peta_ratio_median`` at the last snapshot), ``diversity_first`` / ``diversity_final`` (smallest over runs),
    ``dups_final`` / ``dups_peak`` (per-run final and largest ``near_duplicates``, summed over runs), ``fit_epoch``
    (first epoch at which the run-mean train accuracy reaches ``fit``), ``repelled_after_fit`` (mean
    ``repelled_next`` over the snapshots at or after ``fit_epoch``), ``repelled_last`` (its run mean over the last
    interval), ``top_cos_first`` / ``top_cos_final`` (run-mean ``top_cos_mean`` at the first / last snapshot),
    ``top_cos_low`` and ``top_cos_low_epoch`` (its smallest value from ``fit_epoch`` on, and where),
    ``top_cos_max_final`` (the largest cosine of any pair at the end), ``same_freq_final`` (run-mean
    ``top_same_freq`` at the end), ``mean_abs_cos_first`` / ``mean_abs_cos_final``, ``test_final`` (mean final
    test accuracy)."""
    out = []
    last = int(snap["epoch"].max())
    for act, d in snap.groupby("activation", sort=False):
        fr = frame[frame["activation"] == act]
        tr = fr.groupby("epoch")["train_acc"].mean()
        fitted = tr[tr >= fit]
        fit_epoch = float(fitted.index.min()) if len(fitted) else float("nan")
        fin = d[d["epoch"] == last]
        first = d[d["epoch"] == int(d["epoch"].min())]
        after = d[(d["epoch"] >= fit_epoch) & d["repelled_next"].notna()] if np.isfinite(fit_epoch) else d.iloc[:0]
        per_run = d.groupby("run")["near_duplicates"]
        cos_curve = d.groupby("epoch")["top_cos_mean"].mean()
        late = cos_curve[cos_curve.index >= fit_epoch] if np.isfinite(fit_epoch) else cos_curve
        rep = d.groupby("epoch")["repelled_next"].mean().dropna()
        out.append(dict(
            activation=act, share_rule_min=float(d["share_rule"].min()), peta_sign_min=float(d["share_peta_sign"].min()),
            peta_formula_err=float(d["peta_formula_err"].max()), share_negative_min=float(d["share_negative"].min()),
            share_negative_min_epoch=int(d.loc[d["share_negative"].idxmin(), "epoch"]),
            share_negative_final=float(fin["share_negative"].min()),
            ratio_median_final=float(fin["peta_ratio_median"].median()),
            diversity_first=int(first["diversity"].min()), diversity_final=int(fin["diversity"].min()),
            dups_final=int(fin["near_duplicates"].sum()), dups_peak=int(per_run.max().sum()),
            fit_epoch=fit_epoch, repelled_after_fit=float(after["repelled_next"].mean()) if len(after) else float("nan"),
            repelled_last=float(rep.iloc[-1]) if len(rep) else float("nan"),
            top_cos_first=float(cos_curve.iloc[0]), top_cos_final=float(cos_curve.iloc[-1]),
            top_cos_low=float(late.min()), top_cos_low_epoch=int(late.idxmin()),
            top_cos_max_final=float(fin["top_cos_max"].max()), same_freq_final=float(fin["top_same_freq"].mean()),
            mean_abs_cos_first=float(first["mean_abs_cos"].mean()), mean_abs_cos_final=float(fin["mean_abs_cos"].mean()),
            test_final=float(fr[fr["epoch"] == fr["epoch"].max()]["test_acc"].mean())))
    return pd.DataFrame(out).set_index("activation")


def pair_sign_shares(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per ``activation, epoch, kind`` of a :func:`pair_frame`: the share of pairs with ``sign b_jl = -sign cos``
    (``sign rho = sign cos``), i.e. how often "similar features repel, dissimilar ones attract" holds in words."""
    d = pairs.assign(agree=(np.sign(pairs["rho"]) == np.sign(pairs["cos"])).astype(float))
    return d.groupby(["activation", "epoch", "kind"], sort=False)["agree"].mean().rename("share").reset_index()


# --- figures -------------------------------------------------------------------------------------------------------

def thm6_identity_data(points: pd.DataFrame, peta: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm6_identity`: ``points`` (columns ``features, b_inv, b_schur``: entries over
    ``sqrt(b_jj b_ll)``) as ``panel = "identity"`` and ``peta`` (``activation, beta, beta_peta``) as
    ``panel = "P_eta"``, in one long frame."""
    a = points.assign(panel="identity")
    b = peta.assign(panel="P_eta")
    return pd.concat([a, b], ignore_index=True)


def thm6_identity(points: pd.DataFrame, peta: pd.DataFrame) -> plt.Figure:
    """Left: Theorem 6's Schur formula against the entries of the inverse (both over ``sqrt(b_jj b_ll)``), per
    feature set. Right: ``|beta|`` with ``P_eta`` against the exact ``|beta|`` (log-log), per activation, with the
    diagonal: the shortcut keeps the sign and shrinks the size."""
    theme()
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.7))
    colors = sns.color_palette("colorblind")
    ax = axes[0]
    for c, (name, d) in enumerate(points.groupby("features", sort=False)):
        ax.plot(d["b_inv"], d["b_schur"], "o", ms=3.5, alpha=0.6, color=colors[c], label=name)
    lim = float(np.nanmax(np.abs(points[["b_inv", "b_schur"]].to_numpy()))) * 1.05 if len(points) else 1.0
    ax.plot([-lim, lim], [-lim, lim], ":", color="0.4", lw=1)
    ax.set_xlabel(r"$b_{jl}/\sqrt{b_{jj}b_{ll}}$, from the inverse", fontsize=10)
    ax.set_ylabel(r"$-\beta/(\alpha\gamma-\beta^2)$, same scale", fontsize=10)
    ax.set_title("(a) the Schur-complement identity", fontsize=11)
    ax.legend(fontsize=9, loc="upper left")
    ax = axes[1]
    for c, (act, d) in enumerate(peta.groupby("activation", sort=False)):
        ax.loglog(d["beta"].abs(), d["beta_peta"].abs(), "o", ms=3.5, alpha=0.6, color=colors[c + 3],
                  label=ACTIVATION_LABELS.get(act, act))
    if len(peta):
        lo = float(np.nanmin(peta[["beta", "beta_peta"]].abs().to_numpy()))
        hi = float(np.nanmax(peta[["beta", "beta_peta"]].abs().to_numpy()))
        ax.loglog([lo, hi], [lo, hi], ":", color="0.4", lw=1, label="equal")
    ax.set_xlabel(r"$|\beta|$ with the exact $P_{\eta,-jl}$", fontsize=10)
    ax.set_ylabel(r"$|\beta|$ with $P_\eta$", fontsize=10)
    ax.set_title(r"(b) the shortcut $P_{\eta,-jl}\approx P_\eta$", fontsize=11)
    ax.legend(fontsize=9, loc="upper left")
    for a in axes:
        a.tick_params(labelsize=9.5)
    fig.tight_layout()
    return fig


def thm6_pairs_data(pairs: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm6_pairs`: one row per drawn pair (``activation, seed, epoch, kind, cos,
    rho``)."""
    return pairs.reset_index(drop=True)


def thm6_pairs(pairs: pd.DataFrame) -> plt.Figure:
    """The overlap left after the other features are regressed out, ``rho = -b_jl / sqrt(b_jj b_ll)``, against the
    plain cosine, for uniformly drawn pairs (grey) and the most similar pairs (colour): one row per activation, one
    column per epoch. Points above the axis have ``b_jl < 0`` (repulsion)."""
    theme()
    d = thm6_pairs_data(pairs)
    acts = list(dict.fromkeys(d["activation"]))
    eps = sorted(d["epoch"].unique())
    fig, axes = plt.subplots(len(acts), len(eps), figsize=(8.0, 2.9 * len(acts) + 0.4), squeeze=False,
                             sharex=True, sharey=True)
    colors = sns.color_palette("colorblind")
    for i, act in enumerate(acts):
        for k, t in enumerate(eps):
            ax = axes[i, k]
            dd = d[(d["activation"] == act) & (d["epoch"] == t)]
            s, tp = dd[dd["kind"] == "sample"], dd[dd["kind"] == "top"]
            ax.plot(s["cos"], s["rho"], ".", ms=3, color="0.6", alpha=0.5, label="uniform pairs")
            ax.plot(tp["cos"], tp["rho"], "o", ms=3.5, color=colors[i], alpha=0.7, label="most similar pairs")
            ax.axhline(0, color="0.3", lw=0.8)
            ax.axvline(0, color="0.3", lw=0.8)
            ax.set_title(f"{ACTIVATION_LABELS.get(act, act)}, epoch {t}", fontsize=10.5)
            if i == len(acts) - 1:
                ax.set_xlabel(r"$\cos(\tilde f_j, \tilde f_l)$", fontsize=10)
            if k == 0:
                ax.set_ylabel(r"$-b_{jl}/\sqrt{b_{jj}b_{ll}}$", fontsize=10)
            ax.tick_params(labelsize=9.5)
            if i == 0 and k == 0:
                ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


#: Rows of :func:`thm6_training` and :func:`thm6_diversity`: (y label, [(column, legend label)], y scale).
TRAINING_PANELS = [
    ("accuracy", [("train_acc", "train"), ("test_acc", "test")], "linear"),
    ("share of the\nmost similar pairs", [("share_rule", r"sign $b_{jl}=-$sign $\beta$ (Thm 6)"),
                                          ("share_negative", r"$b_{jl}<0$ (similar repel)"),
                                          ("repelled_next", "less similar at the next snapshot")], "linear"),
    (r"$|\beta_{P_\eta}|/|\beta|$" "\n(median)", [("peta_ratio_median", r"$P_\eta$ shortcut")], "log"),
]
DIVERSITY_PANELS = [
    ("most similar pairs:\ncosine; share", [("top_cos_max", "largest cosine"), ("top_cos_mean", "mean cosine"),
                                             ("top_cos_min", "smallest cosine"),
                                             ("top_same_freq", "same dominant frequency")], "linear"),
    ("all pairs:\nmean |cosine|", [("mean_abs_cos", "mean |cos|")], "linear"),
    ("distinct dominant\nfrequencies", [("diversity", "frequencies")], "linear"),
]


def _long(snap: pd.DataFrame, frame: pd.DataFrame | None, panels: Sequence[tuple[str, list, str]]) -> pd.DataFrame:
    cols = [c for _, ms, _ in panels for c, _ in ms]
    parts = []
    s_cols = [c for c in cols if c in snap.columns]
    if s_cols:
        parts.append(band_data(snap.assign(diverged=False), s_cols, by=["activation"]))
    if frame is not None:
        f_cols = [c for c in cols if c in frame.columns and c not in snap.columns]
        if f_cols:
            parts.append(band_data(frame, f_cols, by=["activation"]))
    return pd.concat(parts, ignore_index=True)


def _grid(data: pd.DataFrame, panels: Sequence[tuple[str, list, str]], title: str,
          order: Sequence[str] | None = None) -> plt.Figure:
    theme()
    acts = [a for a in (order or []) if a in set(data["activation"])] or list(dict.fromkeys(data["activation"]))
    fig, axes = plt.subplots(len(panels), len(acts), figsize=(8.0, 2.5 * len(panels) + 0.5), squeeze=False,
                             sharex=True)
    colors = sns.color_palette("colorblind")
    for k, act in enumerate(acts):
        d = data[data["activation"] == act]
        for i, (ylab, metrics, yscale) in enumerate(panels):
            ax = axes[i, k]
            for c, (m, lab) in enumerate(metrics):
                dm = d[(d["metric"] == m) & np.isfinite(d["mean"])]
                style = dict(ls="-", marker="o", ms=3.5, lw=1.6) if len(dm) < 40 else dict(ls="-", lw=1.6)
                if c == 0 and m == "share_rule":  # drawn under the b < 0 line when both are 1: make it visible
                    style = dict(ls="--", marker="s", ms=7, mfc="none", mew=1.4, lw=1.6)
                ax.plot(dm["epoch"], dm["mean"], color=colors[c], label=lab, **style)
                ax.fill_between(dm["epoch"], dm["min"], dm["max"], color=colors[c], alpha=0.2, lw=0)
            ax.set_yscale(yscale)
            if ylab.startswith("share") or ylab.startswith("most similar"):
                ax.set_ylim(-0.03, 1.05)
            if i == 0:
                ax.set_title(ACTIVATION_LABELS.get(act, act), fontsize=11)
            if k == 0:
                ax.set_ylabel(ylab, fontsize=10)
            if i == len(panels) - 1:
                ax.set_xlabel(EPOCH_LABEL, fontsize=10)
            ax.tick_params(labelsize=9.5)
            if k == len(acts) - 1 and len(metrics) > 1:  # the last column: the fewest curves in the way
                ax.legend(fontsize=9, loc="best", framealpha=0.9)
    fig.suptitle(title, y=1.0, fontsize=11.5)
    fig.tight_layout()
    return fig


def thm6_training_data(snap: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm6_training`: :func:`li2core.figures.band_data` (mean, min, max over seeds) of
    its columns per activation and epoch (accuracy from the training frame, the rest from the snapshots)."""
    return _long(snap, frame, TRAINING_PANELS)


def thm6_training(snap: pd.DataFrame, frame: pd.DataFrame) -> plt.Figure:
    """Through training, per activation (columns): accuracy; the shares of the most similar pairs that follow
    Theorem 6's sign rule, that have ``b_jl < 0`` and that are less similar at the next snapshot; the median
    ``|beta_{P_eta}| / |beta|``. Lines: means over seeds; bands: min..max."""
    return _grid(thm6_training_data(snap, frame), TRAINING_PANELS,
                 "Theorem 6 through training (mean over seeds, band = min..max)", list(dict.fromkeys(snap["activation"])))


def thm6_diversity_data(snap: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`thm6_diversity` (as :func:`thm6_training_data`)."""
    return _long(snap, None, DIVERSITY_PANELS)


def thm6_diversity(snap: pd.DataFrame) -> plt.Figure:
    """Feature diversity through training, per activation: the largest, mean and smallest cosine of the most similar
    pairs and the share of them whose nodes share their dominant frequency; the mean ``|cos|`` over all pairs; the
    number of distinct dominant frequencies."""
    return _grid(thm6_diversity_data(snap), DIVERSITY_PANELS,
                 "Feature diversity through training (mean over seeds, band = min..max)",
                 list(dict.fromkeys(snap["activation"])))


def thm6_eta_data(frame: pd.DataFrame, eta0: float) -> pd.DataFrame:
    """The numbers behind :func:`thm6_eta`: ``frame`` (:func:`eta_frame` rows of all runs) with ``eta_ratio =
    eta / eta0``, summarised by :func:`li2core.figures.band_data` over runs."""
    d = frame.assign(eta_ratio=frame["eta"] / eta0, epoch=frame["eta"] / eta0, diverged=False)
    out = band_data(d, ["share_negative", "share_rule", "peta_ratio_median"], by=["activation"])
    return out.rename(columns={"epoch": "eta_ratio"})


def thm6_eta(frame: pd.DataFrame, eta0: float) -> plt.Figure:
    """The ridge ``eta`` of ``B`` against the chosen ``eta0``, at the last snapshot: the shares of the most similar
    pairs with the predicted signs (left) and the median ``|beta_{P_eta}| / |beta|`` (right), per activation."""
    theme()
    d = thm6_eta_data(frame, eta0)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.5))
    colors = sns.color_palette("colorblind")
    for c, act in enumerate(dict.fromkeys(frame["activation"])):
        da = d[d["activation"] == act]
        lab = ACTIVATION_LABELS.get(act, act)
        for m, ls, what in (("share_negative", "-o", r"$b_{jl}<0$"), ("share_rule", ":s", r"$-$sign $\beta$")):
            dm = da[da["metric"] == m]
            axes[0].semilogx(dm["eta_ratio"], dm["mean"], ls, color=colors[c], ms=4, label=f"{lab}: {what}")
        dm = da[da["metric"] == "peta_ratio_median"]
        axes[1].loglog(dm["eta_ratio"], dm["mean"], "-o", color=colors[c], ms=4, label=lab)
    axes[0].set_ylabel("share of the most similar pairs", fontsize=10)
    axes[0].set_ylim(-0.03, 1.05)
    axes[1].set_ylabel(r"median $|\beta_{P_\eta}|/|\beta|$", fontsize=10)
    for ax in axes:
        ax.set_xlabel(r"$\eta/\eta_0$ ($\eta_0 = n\,\mathrm{wd}/2$)", fontsize=10)
        ax.tick_params(labelsize=9.5)
        ax.legend(fontsize=9, loc="best")
    fig.tight_layout()
    return fig


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if np.isfinite(x) else "NaN"


def summary_markdown(s: pd.Series, label: str, top_pairs: int, n_freq: int, uniform_share: float) -> str:
    """The chapter's reading of one activation's :func:`run_summary` row ``s`` as Markdown (every number computed;
    the wording follows the numbers): accuracy, the sign shares, the dynamics of the most similar pairs, diversity."""
    test = s["test_final"]
    acc = f"final test accuracy {test:.2f}" + (
        " (it fits the training set but does not generalise within the run: the setting is Fig. 3's, not tuned "
        "for this activation)" if test < 0.5 else "")
    if s["share_negative_min"] == 1.0:
        neg = f"every one of the {top_pairs} most similar pairs has $b_{{jl}} < 0$ at every snapshot"
    else:
        neg = (f"at least {_pct(s['share_negative_min'])} of the {top_pairs} most similar pairs have $b_{{jl}} < 0$ "
               f"at every snapshot (least at epoch {int(s['share_negative_min_epoch'])})")
    trend = s["top_cos_final"] - s["top_cos_low"]
    if trend > 0.02:
        dyn = (f"After the training set is fitted (epoch {s['fit_epoch']:g}), {_pct(s['repelled_after_fit'])} of the "
               f"most similar pairs are less similar at the next snapshot on average, but only "
               f"{_pct(s['repelled_last'])} over the last interval: their mean cosine falls to {s['top_cos_low']:.2f} "
               f"(epoch {int(s['top_cos_low_epoch'])}) and then **rises** to {s['top_cos_final']:.2f} at the end, "
               f"and {_pct(s['same_freq_final'])} of them then join two nodes with the same dominant frequency. "
               "Repulsion has the predicted sign throughout, but it does not keep nodes that settle on the same "
               "frequency from growing more alike.")
    else:
        dyn = (f"After the training set is fitted (epoch {s['fit_epoch']:g}), {_pct(s['repelled_after_fit'])} of the "
               f"most similar pairs are less similar at the next snapshot on average ({_pct(s['repelled_last'])} over "
               f"the last interval); their mean cosine goes from {s['top_cos_first']:.2f} at epoch 0 to "
               f"{s['top_cos_final']:.2f}, and {_pct(s['same_freq_final'])} of them join two nodes with the same "
               "dominant frequency at the end.")
    div = (f"Distinct dominant frequencies go from {int(s['diversity_first'])} to {int(s['diversity_final'])} of "
           f"{n_freq}; no pair ever reaches the near-duplicate cosine (largest cosine of any pair at the end: "
           f"{s['top_cos_max_final']:.2f})" if s["dups_peak"] == 0 else
           f"Distinct dominant frequencies go from {int(s['diversity_first'])} to {int(s['diversity_final'])} of "
           f"{n_freq}; near-duplicate pairs peak at {int(s['dups_peak'])} and end at {int(s['dups_final'])} (summed "
           "over seeds)")
    rule = ("holds on every pair examined" if s["share_rule_min"] == 1.0 else
            f"holds on {_pct(s['share_rule_min'])} of the pairs examined (least over snapshots)")
    return (f"**{label}**: {acc}. The theorem's sign rule, sign $b_{{jl}} = -$sign $\\beta$, {rule}; in words, {neg}, "
            f"and over uniformly drawn pairs at the end sign $b_{{jl}} = -$sign cos for {_pct(uniform_share)} of them. "
            f"The $P_\\eta$ shortcut keeps every sign but its median $|\\beta_{{P_\\eta}}|/|\\beta|$ at the end is "
            f"{s['ratio_median_final']:.2g}. {dyn} {div}; the mean $|\\cos|$ over all pairs goes from "
            f"{s['mean_abs_cos_first']:.3f} to {s['mean_abs_cos_final']:.3f}.")
