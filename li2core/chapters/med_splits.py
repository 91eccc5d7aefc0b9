"""Chapter ``med_splits`` (Gu et al., MED paper §6.1: Table 1, Fig. 4; §3.3: Thms 3.10 and 3.12): the training
distribution sets a ceiling on test accuracy.

* Table 1: the authors' square (``k``) and strip (``t``) dug-outs (:func:`table1_rows`, :func:`table1_configs`;
  ``d = 0``), the curve statistics U-Acc, L-Acc and GO-epoch by the rule of :func:`curve_stats`, the trivial share
  of test points outside the dug-out (:func:`run_frame`), beside the paper's row (:data:`PAPER_TABLE1`).
* Fig. 4: ``x^2+xy+y^2`` on random splits (:func:`fig4_configs`, :func:`fig4_frame`): the ceiling and
  ``Acc (1 - frac)``, beside the data-side coverage model (:func:`coverage_frame`).
* Thm 3.10: per test point of a trained run, the nearest same-class training distance against the correctness of the
  model's answer (:func:`pair_frame`, :func:`distance_accuracy`, :func:`ceiling_frame`); Thm 3.12: the threshold
  ``2 ln p / C`` (:func:`thm312_frame`) and a Monte-Carlo check of its union bound (:func:`full_coverage_mc`).

Figures (each with a ``*_data`` companion): :func:`split_maps`, :func:`table1_curves`, :func:`table1_summary`,
:func:`fig4_figure`, :func:`thm310_figure`.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from ..figures import EPOCH_LABEL, theme
from ..measures import loglog_slope
from ..models.transformer import tokens, transformer_logits
from ..tasks import Split, Task, dugout_mask, make_task, split_pairs, trivial_share
from ..theory.coverage import (
    ball_size,
    coverage_ceiling,
    full_coverage_bound,
    nearest_same_class_distance,
    thm312_threshold,
)
from ..train import Results, TrainConfig, med_config

#: The paper's Table 1 setting (paper-med §5): p = 97, addition, frac 0.3 of p^2 drawn outside the dug-out, seed 0.
PAPER_P, PAPER_FRAC = 97, 0.3
#: Table 1 verbatim (paper-med §5): (split, k or t, U-Acc %, L-Acc %, GO-epoch, its +-); GO None: "disappears".
PAPER_TABLE1 = (
    ("square", 30, 99.04, 91.27, 1500, 100), ("square", 35, 91.07, 80.73, 1500, 100),
    ("square", 40, 84.50, 81.68, 1700, 100), ("square", 45, 79.03, 76.07, 1900, 100),
    ("square", 50, 77.39, 66.02, 3400, 200), ("square", 55, 62.09, 57.69, 2600, 100),
    ("square", 60, 57.31, 55.18, 2200, 100), ("strip", 67, 7.56, 3.58, None, None),
    ("strip", 60, 33.25, 17.05, 900, 100), ("strip", 50, 80.10, 73.61, 1600, 100),
    ("strip", 40, 89.89, 84.80, 1300, 100),
)
#: The memorisation epoch of a run is its first evaluation with train accuracy >= FIT_THRESHOLD.
FIT_THRESHOLD = 0.99
#: A run "groks" when its test accuracy rises by at least RISE_MIN above the plateau it had at memorisation
#: (otherwise its GO-epoch is NaN: the paper's "disappears").
RISE_MIN = 0.1
#: Distance bins of :func:`distance_accuracy` (upper edges; L1 distances are integers >= 1).
DIST_EDGES = (2, 4, 6, 10, 20)
SPLIT_COLORS = {"square": "#1f77b4", "strip": "#d62728", "shuffle": "#2ca02c"}


def scale_dugout(size: int, p: int, p_ref: int = PAPER_P) -> int:
    """The dug-out size at ``p`` that keeps the paper's ratio ``size / p_ref`` (``k / p`` or ``t / p``): ``floor(size
    p / p_ref + 1/2)``, clipped to ``0 .. p - 1``."""
    if isinstance(size, bool) or int(size) != size or not 0 <= size < p_ref:
        raise ValueError(f"size: must be an integer in 0..{p_ref - 1}; got {size!r}")
    return int(min(p - 1, max(0, math.floor(size * p / p_ref + 0.5))))


def paper_table1() -> pd.DataFrame:
    """:data:`PAPER_TABLE1` as a frame: ``split, paper_dugout, paper_U, paper_L`` (fractions), ``paper_GO,
    paper_GO_pm`` (NaN: "disappears"), ``paper_trivial`` (the trivial share of the paper's split at p = 97, frac 0.3,
    seed 0, computed by :func:`li2core.tasks.trivial_share`)."""
    task = make_task(f"Z{PAPER_P}", op="add")
    rows = []
    for s, k, U, L, go, pm in PAPER_TABLE1:
        sp = split_pairs(task, s, PAPER_FRAC, 0, k)
        rows.append(dict(split=s, paper_dugout=k, paper_U=U / 100, paper_L=L / 100,
                         paper_GO=math.nan if go is None else float(go), paper_GO_pm=math.nan if pm is None else pm,
                         paper_trivial=trivial_share(task, sp, s, k)))
    return pd.DataFrame(rows)


def table1_rows(p: int, square: Sequence[int], strip: Sequence[int]) -> pd.DataFrame:
    """The Table 1 rows to train at ``p``: the paper's ``k`` (``square``) and ``t`` (``strip``) values, each a row of
    :data:`PAPER_TABLE1`, mapped by :func:`scale_dugout`; columns ``split, paper_dugout, dugout`` and the paper's
    numbers (:func:`paper_table1`)."""
    known = {(s, k) for s, k, *_ in PAPER_TABLE1}
    pairs = [("square", int(k)) for k in square] + [("strip", int(t)) for t in strip]
    bad = [f"{s} {k}" for s, k in pairs if (s, k) not in known]
    if bad or not pairs:
        raise ValueError(f"square, strip: need rows of the paper's Table 1; unknown {bad or 'none given'}")
    d = pd.DataFrame([dict(split=s, paper_dugout=k, dugout=scale_dugout(k, p)) for s, k in pairs])
    if d.duplicated(["split", "dugout"]).any():
        raise ValueError(f"square, strip: two rows map to the same dug-out at p = {p}: {d.to_dict('records')}")
    return d.merge(paper_table1(), on=["split", "paper_dugout"], how="left")


def table1_configs(rows: pd.DataFrame, p: int, train_frac: float, seed: int, epochs: int, eval_every: int,
                   **fields: object) -> list[TrainConfig]:
    """One :func:`li2core.train.med_config` run per row of :func:`table1_rows` (addition, ``d = 0``)."""
    return [med_config(p=p, op="add", split=r.split, dugout=int(r.dugout), train_frac=train_frac, seed=seed,
                       epochs=epochs, eval_every=eval_every, **fields) for r in rows.itertuples()]


def fig4_configs(p: int, fracs: Sequence[float], seed: int, epochs: int, eval_every: int, op: str = "x2xyy2",
                 **fields: object) -> list[TrainConfig]:
    """Fig. 4's runs: ``op`` on the authors' random split (``"shuffle"``) at each training fraction."""
    if not fracs:
        raise ValueError("fracs: need at least one training fraction")
    return [med_config(p=p, op=op, split="shuffle", train_frac=float(f), seed=seed, epochs=epochs,
                       eval_every=eval_every, **fields) for f in fracs]


def curve_stats(epochs: Sequence[int], train_acc: Sequence[float], test_acc: Sequence[float],
                fit_threshold: float = FIT_THRESHOLD, rise_min: float = RISE_MIN) -> dict[str, float]:
    """Table 1's quantities from one run's raw (unsmoothed) curves at its evaluated epochs.

    ``U`` (U-Acc) = the largest test accuracy, first reached at ``U_epoch``; ``L`` (L-Acc) = the lowest test accuracy
    at the evaluations from ``U_epoch`` on; ``fit_epoch`` = the first evaluation with train accuracy ``>=
    fit_threshold`` (memorisation); ``plateau`` = the test accuracy there; ``rise = U - plateau``; ``GO`` = the first
    evaluation from ``fit_epoch`` on with test accuracy ``>= plateau + rise / 2`` (half-way from the plateau to the
    ceiling), NaN when the run never fits or ``rise < rise_min``; ``half_epoch`` = the first evaluation with test
    accuracy ``>= U / 2`` (the other rule one could use; shown beside GO, not used by it); ``peak_late``: 1.0 when
    ``U_epoch`` lies in the last tenth of the run (the ceiling may not be reached yet), else 0.0; ``final`` = the
    last test accuracy."""
    ep = np.asarray(epochs, dtype=float)
    tr, te = np.asarray(train_acc, dtype=float), np.asarray(test_acc, dtype=float)
    if not (ep.shape == tr.shape == te.shape) or ep.size == 0:
        raise ValueError(f"epochs, train_acc, test_acc: need equal non-empty lengths; got {ep.size}, {tr.size}, "
                         f"{te.size}")
    iu = int(np.argmax(te))
    U = float(te[iu])
    out = dict(U=U, U_epoch=float(ep[iu]), L=float(te[iu:].min()), final=float(te[-1]),
               half_epoch=float(ep[np.flatnonzero(te >= U / 2)[0]]),
               peak_late=float(ep[iu] >= ep[0] + 0.9 * (ep[-1] - ep[0])), fit_epoch=math.nan, plateau=math.nan,
               rise=math.nan, GO=math.nan)
    fit = np.flatnonzero(tr >= fit_threshold)
    if fit.size:
        i0 = int(fit[0])
        b = float(te[i0])
        out.update(fit_epoch=float(ep[i0]), plateau=b, rise=U - b)
        if U - b >= rise_min:
            hit = i0 + np.flatnonzero(te[i0:] >= b + (U - b) / 2)
            out["GO"] = float(ep[hit[0]])
    return out


def split_of(cfg: TrainConfig) -> tuple[Task, Split]:
    """The task and split of a MED run (the same pure function the trainer uses)."""
    task = make_task(cfg.group, op=cfg.op)
    return task, split_pairs(task, cfg.split, cfg.p, cfg.seed, cfg.dugout)


def run_frame(res: Results) -> pd.DataFrame:
    """One row per run: ``run, op, split, dugout, train_frac, lr, p, n_train, n_test, trivial_share`` (the share of
    test points outside the dug-out; 1 for a random split) and the :func:`curve_stats` columns, plus ``max_train``
    (the largest train accuracy)."""
    rows = []
    for i, c in enumerate(res.configs):
        task, sp = split_of(c)
        m = res.metrics[i]
        kind = c.split if c.split in ("square", "strip") else "shuffle"
        rows.append(dict(run=i, op=c.op, split=c.split, dugout=c.dugout, train_frac=float(c.p), lr=float(c.lr),
                         p=c.M, n_train=res.n_train[i], n_test=int(sp.test.numel()),
                         trivial_share=trivial_share(task, sp, kind, c.dugout), max_train=float(np.max(m["train_acc"])),
                         **curve_stats(res.eval_epochs[i], m["train_acc"], m["test_acc"])))
    return pd.DataFrame(rows)


def table1_frame(runs: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The Table 1 rows (:func:`table1_rows`) with their runs' statistics (:func:`run_frame`, addition, dug-out
    splits), in the rows' order; ``gen_into`` = ``U - trivial_share`` (> 0: generalisation into the dug-out)."""
    r = runs[(runs["op"] == "add") & runs["split"].isin(["square", "strip"])].drop(columns=["op"])
    out = rows.merge(r, on=["split", "dugout"], how="left")
    out["gen_into"] = out["U"] - out["trivial_share"]
    return out


def fig4_frame(runs: pd.DataFrame, op: str = "x2xyy2") -> pd.DataFrame:
    """Fig. 4: the random-split runs of ``op`` (:func:`run_frame`), by training fraction, with ``acc_x = U (1 -
    frac)`` (the paper's Acc (1 - frac)) and ``n_correct = U n_test`` (correctly answered test points at the
    ceiling)."""
    d = runs[(runs["op"] == op) & (runs["split"] == "shuffle")].sort_values("train_frac").copy()
    d["acc_x"] = d["U"] * (1 - d["train_frac"])
    d["n_correct"] = d["U"] * d["n_test"]
    return d.reset_index(drop=True)


def frac_slope(fracs: Sequence[float], acc: Sequence[float]) -> float:
    """The log-log slope of ``acc`` against ``1 - frac`` (:func:`li2core.measures.loglog_slope`): -1 when ``acc (1 -
    frac)`` is constant (a fixed number of correct test points), 0 when ``acc`` is constant."""
    return loglog_slope(1 - np.asarray(fracs, dtype=float), np.asarray(acc, dtype=float))


def coverage_frame(p: int, fracs: Sequence[float], Ds: Sequence[int], op: str = "x2xyy2", seed: int = 0,
                   kind: str = "shuffle") -> pd.DataFrame:
    """The data-side model of Fig. 4 (paper-med §3.4): per training fraction, grid or torus and radius ``D``, the
    number of test points with a same-class training pair within L1 distance ``D`` (``covered``) and their share
    ``UB`` (:func:`li2core.theory.coverage.coverage_ceiling`); ``UB_x = UB (1 - frac)``."""
    task = make_task(f"Z{p}", op=op)
    rows = []
    for f in fracs:
        sp = split_pairs(task, kind, float(f), seed)
        train = torch.zeros(task.N, dtype=torch.bool)
        train[sp.train] = True
        for torus in (False, True):
            dist = nearest_same_class_distance(task.a, task.b, task.y, train, p, torus=torus)
            for D in Ds:
                ub = coverage_ceiling(dist, ~train, D)
                rows.append(dict(p=p, op=op, train_frac=float(f), torus=torus, D=int(D), n_test=int(sp.test.numel()),
                                 covered=int(round(ub * sp.test.numel())), UB=ub, UB_x=ub * (1 - float(f))))
    return pd.DataFrame(rows)


@torch.no_grad()
def pair_frame(res: Results, i: int) -> pd.DataFrame:
    """Every pair of run ``i`` (a transformer): ``a, b, y``, ``train`` / ``test``, ``in_dugout``, the final model's
    ``pred`` and ``correct``, and the nearest same-class training distance on the grid (``dist_grid``) and on the
    torus (``dist_torus``; :func:`li2core.theory.coverage.nearest_same_class_distance`, ``inf``: none)."""
    c = res.configs[i]
    if c.model_family != "transformer":
        raise ValueError(f"i: run {i} is a {c.model_family!r} run; pair_frame reads transformers")
    task, sp = split_of(c)
    params = [w[None] for w in res.final_weights(i)]
    logits = transformer_logits(params, tokens(task.a, task.b, c.M, c.token_offset), c.n_layers, c.n_heads,
                                c.activation)[0]
    pred = logits.argmax(-1)
    train = torch.zeros(task.N, dtype=torch.bool)
    train[sp.train] = True
    kind = c.split if c.split in ("square", "strip") else "random"
    return pd.DataFrame(dict(
        run=i, a=task.a.numpy(), b=task.b.numpy(), y=task.y.numpy(), train=train.numpy(), test=(~train).numpy(),
        in_dugout=dugout_mask(task, kind, c.dugout).numpy(), pred=pred.numpy(), correct=(pred == task.y).numpy(),
        dist_grid=nearest_same_class_distance(task.a, task.b, task.y, train, c.M).numpy(),
        dist_torus=nearest_same_class_distance(task.a, task.b, task.y, train, c.M, torus=True).numpy()))


def dugout_accuracy(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per run, the final model's accuracy on its test points inside the dug-out (``acc_in``; NaN for a random
    split) and outside it (``acc_out``; NaN when every test point lies inside), with their counts ``n_in, n_out``."""
    rows = []
    for run, d in pairs[pairs["test"]].groupby("run"):
        inside = d["in_dugout"].to_numpy()
        c = d["correct"].to_numpy()
        rows.append(dict(run=run, n_in=int(inside.sum()), n_out=int((~inside).sum()),
                         acc_in=float(c[inside].mean()) if inside.any() else math.nan,
                         acc_out=float(c[~inside].mean()) if (~inside).any() else math.nan))
    return pd.DataFrame(rows)


def _bin_label(d: float) -> str:
    if not math.isfinite(d):
        return "none"
    lo = 1
    for e in DIST_EDGES:
        if d <= e:
            return f"{lo}–{e}" if lo < e else str(e)
        lo = e + 1
    return f">{DIST_EDGES[-1]}"


def bin_order() -> list[str]:
    """The distance-bin labels of :func:`distance_accuracy`, nearest first, ``"none"`` last."""
    return [_bin_label(e) for e in DIST_EDGES] + [f">{DIST_EDGES[-1]}", "none"]


def distance_accuracy(pairs: pd.DataFrame, torus: bool = True) -> pd.DataFrame:
    """Accuracy of the test points of each run by their nearest same-class training distance (bins
    :data:`DIST_EDGES`, ``"none"``: no same-class training pair): ``run, bin, bin_rank, n, accuracy``."""
    col = "dist_torus" if torus else "dist_grid"
    t = pairs[pairs["test"]].copy()
    t["bin"] = t[col].map(_bin_label)
    order = {b: k for k, b in enumerate(bin_order())}
    g = t.groupby(["run", "bin"])["correct"].agg(n="size", accuracy="mean").reset_index()
    g["bin_rank"] = g["bin"].map(order)
    return g.sort_values(["run", "bin_rank"]).reset_index(drop=True)


def ceiling_frame(pairs: pd.DataFrame, Ds: Sequence[int]) -> pd.DataFrame:
    """Per run, grid or torus and radius ``D``: ``UB`` (the coverage ceiling UB_D of the run's split) beside the
    final model's measured test accuracy ``acc``, and ``D_star``: the smallest ``D`` of ``Ds`` with ``UB >= acc``
    (NaN: none)."""
    rows = []
    for run, d in pairs.groupby("run"):
        acc = float(d.loc[d["test"], "correct"].mean())
        for torus in (False, True):
            dist = torch.tensor(d["dist_torus" if torus else "dist_grid"].to_numpy(copy=True))
            test = torch.tensor(d["test"].to_numpy(copy=True))
            ubs = [coverage_ceiling(dist, test, D) for D in Ds]
            star = next((D for D, u in zip(Ds, ubs) if u >= acc), math.nan)
            rows += [dict(run=run, torus=torus, D=int(D), UB=u, acc=acc, D_star=star) for D, u in zip(Ds, ubs)]
    return pd.DataFrame(rows)


def thm312_frame(ps: Sequence[int], Ds: Sequence[int]) -> pd.DataFrame:
    """Thm 3.12's training fraction for full coverage, ``alpha > 2 ln p / C`` with ``C`` the L1 ball of radius ``D``
    (:func:`li2core.theory.coverage.ball_size`): ``p, D, C, alpha``."""
    rows = [dict(p=int(p), D=int(D), C=ball_size(int(D))) for p in ps for D in Ds]
    return pd.DataFrame([dict(r, alpha=thm312_threshold(r["p"], r["C"])) for r in rows])


def full_coverage_mc(p: int, D: int, alphas: Sequence[float], trials: int, seed: int = 0) -> pd.DataFrame:
    """Monte Carlo of Thm 3.12 on the torus ``Z_p^2``: ``m = round(alpha p^2)`` training points drawn without
    replacement (``torch.Generator().manual_seed(seed)``); a point is covered when a training point lies in its L1
    ball of radius ``D`` (``C = 2D^2 + 2D + 1`` points). Per ``alpha``: ``P_full`` (the share of ``trials`` draws
    covering all ``p^2`` points), its standard error ``se`` (floored at ``1 / (2 trials)``), and the union bound
    ``bound = 1 - N (1 - C/N)^m`` (:func:`li2core.theory.coverage.full_coverage_bound`; sampling without replacement
    only helps it)."""
    if trials < 1:
        raise ValueError(f"trials: must be >= 1; got {trials!r}")
    N, C = p * p, ball_size(D)
    g = torch.Generator().manual_seed(int(seed))
    offs = [(i, j) for i in range(-D, D + 1) for j in range(-D, D + 1) if abs(i) + abs(j) <= D]
    rows = []
    for a in alphas:
        m = int(round(float(a) * N))
        if not 1 <= m <= N:
            raise ValueError(f"alphas: {a} gives {m} training points of {N}")
        pick = torch.rand(trials, N, generator=g).argsort(dim=1)[:, :m]
        mask = torch.zeros(trials, N, dtype=torch.bool)
        mask.scatter_(1, pick, True)
        mask = mask.view(trials, p, p)
        cov = torch.zeros_like(mask)
        for i, j in offs:
            cov |= torch.roll(mask, shifts=(i, j), dims=(1, 2))
        full = cov.flatten(1).all(dim=1).double()
        P = float(full.mean())
        rows.append(dict(p=p, D=D, C=C, alpha=float(a), m=m, trials=trials, P_full=P,
                         se=math.sqrt(max(P * (1 - P), 0.25 / trials) / trials), bound=full_coverage_bound(N, C, m)))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ figures
_STATUS = ("train", "test, answered right", "test, answered wrong")
_STATUS_COLORS = ("#d9d9d9", "#4c72b0", "#dd8452")


def split_maps_data(pairs: pd.DataFrame, titles: dict[int, str]) -> pd.DataFrame:
    """The numbers behind :func:`split_maps`: per shown run and pair, ``a, b``, ``status`` (0 train, 1 test answered
    right, 2 test answered wrong), ``in_dugout`` and the panel ``title``."""
    d = pairs[pairs["run"].isin(list(titles))][["run", "a", "b", "train", "correct", "in_dugout"]].copy()
    d["status"] = np.where(d["train"], 0, np.where(d["correct"], 1, 2))
    d["title"] = d["run"].map(titles)
    return d.drop(columns=["train", "correct"])


def split_maps(pairs: pd.DataFrame, titles: dict[int, str], dugouts: dict[int, tuple[str, int | None]],
               ncol: int = 3) -> plt.Figure:
    """One ``p x p`` map per run of ``titles`` (first operand ``a`` down, second ``b`` across): training pairs grey,
    test pairs blue where the final model answers right and orange where it answers wrong; the dug-out region
    (``dugouts[run] = (split, size)``) outlined."""
    theme()
    d = split_maps_data(pairs, titles)
    runs = list(titles)
    if not runs:
        raise ValueError("titles: no run to show")
    nrow = math.ceil(len(runs) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(8.0, 2.9 * nrow + 0.6), squeeze=False)
    cmap = ListedColormap(_STATUS_COLORS)
    for k, run in enumerate(runs):
        ax = axes[k // ncol][k % ncol]
        dr = d[d["run"] == run]
        p = int(dr["a"].max()) + 1
        img = np.zeros((p, p))
        img[dr["a"].to_numpy(), dr["b"].to_numpy()] = dr["status"].to_numpy()
        ax.imshow(img, cmap=cmap, vmin=-0.5, vmax=2.5, interpolation="nearest", origin="upper")
        kind, size = dugouts.get(run, ("shuffle", None))
        if kind in ("square", "strip") and size is not None:
            w = size + 1 if kind == "square" else p
            ax.add_patch(Rectangle((-0.5, -0.5), w, size + 1, fill=False, ec="black", lw=1.4))
        ax.set_title(titles[run], fontsize=10)
        ax.set_xlabel("b (second operand)")
        ax.set_ylabel("a (first operand)")
        ax.grid(False)
    for k in range(len(runs), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    handles = [Patch(color=c, label=s) for c, s in zip(_STATUS_COLORS, _STATUS)]
    handles.append(Patch(fill=False, ec="black", label="dug-out region"))
    fig.tight_layout(rect=(0, 0.045 if nrow > 1 else 0.1, 1, 1))
    fig.legend(handles=handles, fontsize=9, ncol=4, loc="lower center")
    return fig


def table1_curves_data(frame: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`table1_curves`: ``split, dugout, epoch, train_acc, test_acc`` of the Table 1 runs
    (``Results.frame()`` rows of the runs in ``table``)."""
    runs = table.dropna(subset=["run"])["run"].astype(int).tolist()
    return frame[frame["run"].isin(runs)][["run", "split", "dugout", "epoch", "train_acc", "test_acc"]].copy()


def shades(n: int, name: str) -> list:
    """``n`` colours from the matplotlib colormap ``name``, light to dark (0.45 .. 0.95 of its range)."""
    return list(plt.get_cmap(name)(np.linspace(0.45, 0.95, max(n, 1))))


def table1_curves(frame: pd.DataFrame, table: pd.DataFrame) -> plt.Figure:
    """Table 1's runs: test accuracy (raw curves) against the epoch, one panel per split kind, one line per row; a
    dashed line at the row's trivial share, a marker at its U-Acc and a cross at its GO-epoch."""
    theme()
    d = table1_curves_data(frame, table)
    kinds = [k for k in ("square", "strip") if (table["split"] == k).any()]
    fig, axes = plt.subplots(1, len(kinds), figsize=(8.0, 4.2), squeeze=False, sharey=True)
    for j, kind in enumerate(kinds):
        ax = axes[0][j]
        rows = table[table["split"] == kind].sort_values("dugout")
        for col, r in zip(shades(len(rows), "Blues" if kind == "square" else "Reds"), rows.itertuples()):
            dr = d[d["run"] == r.run]
            ax.plot(dr["epoch"], dr["test_acc"], color=col, lw=1.3, label=f"{'k' if kind == 'square' else 't'} = "
                    f"{r.dugout} (paper {r.paper_dugout})")
            ax.axhline(r.trivial_share, color=col, lw=0.9, ls="--")
            ax.plot([r.U_epoch], [r.U], "o", color=col, ms=5)
            if r.GO == r.GO:
                ax.plot([r.GO], [float(dr.loc[dr["epoch"] == r.GO, "test_acc"].iloc[0])], "x", color="black", ms=6)
        ax.set_title(f"{kind} dug-out")
        ax.set_xlabel(EPOCH_LABEL if len(kinds) == 1 else "epoch")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=9, loc="upper left")
    fig.suptitle("Table 1 runs: test accuracy; dashed: trivial share; dot: U-Acc; cross: GO-epoch", fontsize=10)
    fig.tight_layout()
    return fig


def table1_summary_data(table: pd.DataFrame, p: int) -> pd.DataFrame:
    """The numbers behind :func:`table1_summary`: per row, ``ratio = dugout / p`` and ``paper_ratio = paper_dugout /
    97`` beside U-Acc, L-Acc and the trivial share of this build and of the paper."""
    d = table[["split", "dugout", "paper_dugout", "U", "L", "trivial_share", "paper_U", "paper_L",
               "paper_trivial"]].copy()
    d["ratio"] = d["dugout"] / p
    d["paper_ratio"] = d["paper_dugout"] / PAPER_P
    return d


def table1_summary(table: pd.DataFrame, p: int) -> plt.Figure:
    """U-Acc (filled) and L-Acc (open) against the dug-out size relative to ``p``, this build (colour) beside the
    paper's Table 1 (grey squares, at ``k / 97``), with the trivial shares (lines: this build solid, the paper's
    dashed), one panel per split kind."""
    theme()
    d = table1_summary_data(table, p)
    kinds = [k for k in ("square", "strip") if (d["split"] == k).any()]
    fig, axes = plt.subplots(1, len(kinds), figsize=(8.0, 4.3), squeeze=False, sharey=True)
    for j, kind in enumerate(kinds):
        ax = axes[0][j]
        dk = d[d["split"] == kind].sort_values("ratio")
        c = SPLIT_COLORS[kind]
        ax.plot(dk["ratio"], dk["U"], "o-", color=c)
        ax.plot(dk["ratio"], dk["L"], "o", mfc="none", color=c)
        ax.plot(dk["ratio"], dk["trivial_share"], "-", color=c, lw=0.9, alpha=0.6)
        pk = paper_table1()
        pk = pk[pk["split"] == kind].sort_values("paper_dugout")
        x = pk["paper_dugout"] / PAPER_P
        ax.plot(x, pk["paper_U"], "s-", color="0.35", ms=5, label="U-Acc, paper (p = 97)")
        ax.plot(x, pk["paper_L"], "s", mfc="none", color="0.35", ms=5, label="L-Acc, paper")
        ax.plot(x, pk["paper_trivial"], "--", color="0.35", lw=0.9, label="trivial share, p = 97")
        ax.set_title(f"{kind}: {'k' if kind == 'square' else 't'} / p")
        ax.set_xlabel(f"dug-out size / p ({'k' if kind == 'square' else 't'} / p)")
        ax.set_ylabel("test accuracy")
        ax.set_ylim(-0.02, 1.02)
    mine = [Line2D([], [], color="black", marker="o", label=f"U-Acc, p = {p} (colour)"),
            Line2D([], [], color="black", marker="o", mfc="none", ls="none", label=f"L-Acc, p = {p}"),
            Line2D([], [], color="black", lw=0.9, alpha=0.6, label=f"trivial share, p = {p}")]
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    fig.legend(mine + handles, [h.get_label() for h in mine] + labels, fontsize=9, ncol=3, loc="lower center")
    return fig


def fig4_data(frame: pd.DataFrame, fig4: pd.DataFrame, cov: pd.DataFrame) -> pd.DataFrame:
    """The numbers behind :func:`fig4_figure` in long form: ``kind`` ``curve`` (``train_frac, epoch, value`` = test
    accuracy), ``ceiling`` (U), ``acc_x`` (U (1 - frac)), ``n_correct`` (U n_test) and ``covered_D<D>`` (the torus
    coverage count of :func:`coverage_frame`)."""
    parts = []
    cur = frame[frame["run"].isin(fig4["run"])][["train_frac", "epoch", "test_acc"]]
    parts.append(cur.rename(columns={"test_acc": "value"}).assign(kind="curve"))
    for col in ("U", "acc_x", "n_correct"):
        parts.append(fig4[["train_frac"]].assign(value=fig4[col].to_numpy(), kind="ceiling" if col == "U" else col))
    ct = cov[cov["torus"]]
    for D, g in ct.groupby("D"):
        parts.append(g[["train_frac"]].assign(value=g["covered"].astype(float).to_numpy(), kind=f"covered_D{D}"))
    return pd.concat(parts, ignore_index=True)[["kind", "train_frac", "epoch", "value"]]


def fig4_figure(frame: pd.DataFrame, fig4: pd.DataFrame, cov: pd.DataFrame) -> plt.Figure:
    """Fig. 4 at this build's size: (top) test accuracy of ``x^2+xy+y^2`` per training fraction; (bottom left) the
    ceiling U and U (1 - frac) against frac; (bottom right) correctly answered test points at the ceiling against the
    data-side model, the torus coverage counts of :func:`coverage_frame` (log axis)."""
    theme()
    d = fig4_data(frame, fig4, cov)
    fig = plt.figure(figsize=(8.0, 7.0))
    gs = fig.add_gridspec(2, 2, height_ratios=(1.0, 1.0))
    ax0 = fig.add_subplot(gs[0, :])
    cols = shades(len(fig4), "Greens")
    for col, f in zip(cols, fig4["train_frac"]):
        c = d[(d["kind"] == "curve") & (d["train_frac"] == f)]
        ax0.plot(c["epoch"], c["value"], color=col, lw=1.4, label=f"frac = {f:g}")
    ax0.set_xlabel(EPOCH_LABEL)
    ax0.set_ylabel("test accuracy")
    ax0.set_title("x^2+xy+y^2, random splits: test accuracy")
    ax0.legend(fontsize=9, loc="lower right")
    ax1 = fig.add_subplot(gs[1, 0])
    ax1.plot(fig4["train_frac"], fig4["U"], "o-", color="#2ca02c", label="ceiling (max test acc)")
    ax1.plot(fig4["train_frac"], fig4["acc_x"], "s-", color="black", label="ceiling × (1 − frac)")
    ax1.set_xlabel("training fraction")
    ax1.set_ylabel("accuracy")
    ax1.set_ylim(0, 1.02)
    ax1.legend(fontsize=9)
    ax2 = fig.add_subplot(gs[1, 1])
    ax2.plot(fig4["train_frac"], fig4["n_correct"], "o-", color="#2ca02c", label="right at the ceiling")
    for k, (D, g) in enumerate(cov[cov["torus"]].groupby("D")):
        ax2.plot(g["train_frac"], g["covered"], "^--", color=str(0.2 + 0.3 * k), label=f"covered, D = {D}")
    ax2.set_yscale("log")
    ax2.set_xlabel("training fraction")
    ax2.set_ylabel("test points")
    ax2.legend(fontsize=9)
    fig.tight_layout()
    return fig


def thm310_data(dacc: pd.DataFrame, ceil: pd.DataFrame, labels: dict[int, str]) -> pd.DataFrame:
    """The numbers behind :func:`thm310_figure`: the accuracy by distance bin (``kind = "bin"``: ``run, label, bin,
    n, accuracy``) and, on the torus, each run's ``UB`` at every ``D`` beside its measured ``acc`` (``kind =
    "ceiling"``)."""
    a = dacc[dacc["run"].isin(list(labels))].assign(kind="bin")
    c = ceil[ceil["torus"] & ceil["run"].isin(list(labels))].assign(kind="ceiling")
    out = pd.concat([a, c], ignore_index=True)
    out["label"] = out["run"].map(labels)
    return out[["kind", "run", "label", "bin", "n", "accuracy", "D", "UB", "acc"]]


def thm310_figure(dacc: pd.DataFrame, ceil: pd.DataFrame, labels: dict[int, str], colors: dict[int, str],
                  Ds: Sequence[int] = (2, 4)) -> plt.Figure:
    """Thm 3.10: (left) test accuracy against the nearest same-class training distance on the torus (bins), one line
    per run; (right) each run's measured test accuracy against the coverage ceiling UB_D (torus) at the radii
    ``Ds`` (markers), with the line acc = UB_D: points above it exceed that ceiling."""
    theme()
    d = thm310_data(dacc, ceil, labels)
    order = bin_order()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(8.0, 4.6), gridspec_kw=dict(width_ratios=(1.3, 1.0)))
    for run, lab in labels.items():
        g = d[(d["kind"] == "bin") & (d["run"] == run)]
        ax0.plot(g["bin"].map(order.index), g["accuracy"], "o-", color=colors[run], lw=1.1, ms=4, label=lab)
    ax0.set_xticks(range(len(order)), order, rotation=35)
    ax0.set_xlabel("nearest same-class training distance (torus L1)")
    ax0.set_ylabel("test accuracy in the bin")
    ax0.set_ylim(-0.03, 1.03)
    marks = ("o", "^", "s", "D")
    for k, D in enumerate(Ds):
        g = d[(d["kind"] == "ceiling") & (d["D"] == D)]
        ax1.scatter(g["UB"], g["acc"], c=[colors[r] for r in g["run"]], marker=marks[k % 4], s=30)
        ax1.scatter([], [], color="0.3", marker=marks[k % 4], s=30, label=f"UB_D, D = {D}")
    ax1.plot([0, 1], [0, 1], color="0.4", lw=0.9, ls="--")
    ax1.set_xlim(0, 1)
    ax1.set_ylim(0, 1.02)
    ax1.set_xlabel("coverage ceiling UB_D (torus)")
    ax1.set_ylabel("measured test accuracy")
    ax1.legend(fontsize=9, loc="lower right")
    handles, labs = ax0.get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    fig.legend(handles, labs, fontsize=9, ncol=3, loc="lower center")
    return fig
