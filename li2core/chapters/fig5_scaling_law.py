"""Chapter ``fig5_scaling_law`` (paper-li2 Thm 4, Figs. 5-7): the generalisation boundary of a sweep and the fit of
``c`` in ``p_crit = c ln M / M`` (:func:`boundary`, :func:`fit_c`), which law the boundary follows
(:func:`law_tests`), Theorem 4 directly (:func:`maxima_survival`), the energy of learned nodes
(:func:`node_energies`); the chapter's drivers (:func:`sweep_configs`, :func:`budget_fits`, :func:`lr_configs` ...)
and its figures (:func:`fig5_phase` ... :func:`fig7_energy`). The arithmetic of the law itself (the critical ratio,
crossings on a grid, the slope test against the three laws, Fig. 7's reference energies) is
:mod:`li2core.theory.scaling`; the frames here come from :mod:`li2core.sweep` stores.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from .. import fourier
from .. import theory as th
from ..figures import theme
from ..groups import make as make_group
from ..tasks import CRITICAL_C, make_task, split
from ..theory.scaling import LAWS, bootstrap_c, c_statistics, law_test
from ..train import Results, TrainConfig


def _boundary_arrays(frame: pd.DataFrame, x: str, y: str, by: Sequence[str], replicate: str):
    """Per key of ``by``: the sorted x grid and the ``(n_x, n_rep)`` matrix of ``y`` (NaN where missing)."""
    out = []
    for key, sub in frame.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        tab = sub.pivot_table(index=x, columns=replicate, values=y, aggfunc="mean").sort_index()
        out.append((key, tab.index.to_numpy(dtype=float), tab.to_numpy(dtype=float)))
    return out


_CENSOR = {0: "", 1: "above grid", 2: "below grid"}


def boundary(frame: pd.DataFrame, x: str = "p", y: str = "final_test_acc", by: Sequence[str] = ("group", "M"),
             level: float = 0.5, replicate: str = "seed") -> pd.DataFrame:
    """The generalization boundary: per key of ``by``, the ``x`` at which the replicate-mean of ``y`` crosses
    ``level`` (Fig. 5: ``x = p``, ``y`` = final test accuracy, mean over seeds, ``level = 0.5``).

    ``frame``: one row per run (e.g. :func:`li2core.sweep.load`); rows with the same key, ``x`` and ``replicate`` are
    averaged first. The crossing is the *last upward* one, interpolated linearly in ``[x_i, x_{i+1}]`` with ``i`` the
    largest grid index whose mean is below ``level``; a largest grid point still below ``level`` (above the grid)
    or no point below it (below the grid) gives ``NaN`` and says so in ``censored``. One row per key: the ``by``
    columns, ``<x>_crit``, ``censored`` (``""``, ``"above grid"``, ``"below grid"``), ``x_lo``/``x_hi`` (the bracket),
    ``n_x`` (grid size), ``n_rep`` (fewest replicates of a grid point) and, when ``M`` is in ``by``,
    ``c = <x>_crit M / ln M`` (:func:`critical_ratio`).
    """
    if not 0.0 < level < 1.0 and y.endswith("acc"):
        raise ValueError(f"level: an accuracy level must lie in (0, 1); got {level}")
    missing = [c for c in (x, y, replicate, *by) if c not in frame.columns]
    if missing:
        raise ValueError(f"frame: missing columns {missing}; have {list(frame.columns)}")
    rows = []
    for key, xs, A in _boundary_arrays(frame, x, y, by, replicate):
        xc, c, ib = th.grid_boundary(xs, A, level)
        i = None if c else ib
        row = dict(zip(by, key))
        row.update({f"{x}_crit": xc, "censored": _CENSOR[c],
                    "x_lo": float(xs[i]) if i is not None else np.nan,
                    "x_hi": float(xs[i + 1]) if i is not None else np.nan,
                    "n_x": len(xs), "n_rep": int(np.isfinite(A).sum(axis=1).min())})
        rows.append(row)
    out = pd.DataFrame(rows)
    if "M" in by and len(out):
        out["c"] = th.critical_ratio(out[f"{x}_crit"], out["M"])
    return out


@dataclass
class CFit:
    """Output of :func:`fit_c`. c: mean over the uncensored keys of ``c_M = p_crit M / ln M``; c_se: its standard
    error across keys; c_ci, c_boot_se: bootstrap percentile interval (``ci`` level) and standard deviation of that
    mean (replicates resampled within every key); c_ls: least-squares ``c`` of ``p_crit = c ln M / M``; slope,
    slope_se, slope_ci: OLS slope of ``c_M`` against ``ln M``, its standard error and bootstrap interval; n: keys
    used; n_censored: keys off the grid; per_key: the :func:`boundary` frame; n_boot: bootstrap samples."""
    c: float
    c_se: float
    c_ci: tuple[float, float]
    c_boot_se: float
    c_ls: float
    slope: float
    slope_se: float
    slope_ci: tuple[float, float]
    n: int
    n_censored: int
    per_key: pd.DataFrame
    n_boot: int


def fit_c(frame: pd.DataFrame, x: str = "p", y: str = "final_test_acc", by: Sequence[str] = ("group", "M"),
          level: float = 0.5, replicate: str = "seed", n_boot: int = 500, seed: int = 0, ci: float = 0.95) -> CFit:
    """Fit the constant of the scaling law ``p_crit = c ln M / M`` (Theorem 4, Fig. 5) from a sweep: per key (``by``
    must contain ``M``) the boundary of :func:`boundary` and ``c_M = p_crit M / ln M``; their mean over the uncensored
    keys, its spread, a bootstrap over the replicates (seeds resampled within every key), the least-squares ``c``
    and the trend of ``c_M`` against ``ln M`` (:class:`CFit`; the arithmetic is
    :func:`li2core.theory.scaling.c_statistics` and :func:`~li2core.theory.scaling.bootstrap_c`)."""
    if "M" not in by:
        raise ValueError(f"by: must contain 'M' (the group order); got {list(by)}")
    if not 0.0 < ci < 1.0:
        raise ValueError(f"ci: must lie in (0, 1); got {ci}")
    per = boundary(frame, x=x, y=y, by=by, level=level, replicate=replicate)
    ok = per["censored"] == ""
    st = c_statistics(per.loc[ok, "M"].to_numpy(dtype=float), per.loc[ok, f"{x}_crit"].to_numpy(dtype=float))
    c_ci, slope_ci, c_boot_se = (np.nan, np.nan), (np.nan, np.nan), np.nan
    if n_boot > 0 and st["n"]:
        grids = [(float(k[list(by).index("M")]), xs, A) for k, xs, A in _boundary_arrays(frame, x, y, by, replicate)]
        c_ci, c_boot_se, slope_ci = bootstrap_c(grids, level, n_boot, seed, ci)
    return CFit(c=st["c"], c_se=st["c_se"], c_ci=c_ci, c_boot_se=c_boot_se, c_ls=st["c_ls"], slope=st["slope"],
                slope_se=st["slope_se"], slope_ci=slope_ci, n=st["n"], n_censored=int((~ok).sum()), per_key=per,
                n_boot=int(n_boot))


def maxima_survival(M: int, p: float, n_subsets: int = 4, seed: int = 0, purity_min: float = 0.9, steps: int = 2000,
                    tol: float = 1e-7, activation: str = "sqr", device: str | torch.device = "cpu") -> pd.DataFrame:
    """Theorem 4 directly: do the Fourier maxima of ``E`` survive when ``E`` is built from a random subset?

    For each of ``n_subsets`` training sets of fraction ``p`` (subset ``s`` is ``split(Z_M, p, seed + s).train``,
    the rule the training runs use; nested in ``p`` for a fixed seed) and each frequency ``j = 1 .. M // 2``, start
    at the unit-norm maximum ``fourier.fourier_node(M, j, phase)`` of the full-data energy (random phase from
    ``torch.Generator().manual_seed(seed)``) and run :func:`th.project_ascent` (``steps``, ``tol``) on the
    subsampled energy ``E^(w) = 1/2 ||Y~_S^T sigma(X_S w)||^2`` (``Y~`` centred over the subset; a Horvitz-Thompson
    weight ``1/p`` would only rescale it). A start *survives* when the end node keeps at least ``purity_min`` of
    its power (:func:`li2core.fourier.purity`) in the start's real isotypic component. One row per (subset,
    frequency): ``M, p, n_train, subset, freq, E_full`` (``E`` at the start, all rows), ``E_start, E_final`` (``E^``
    at the start and end), ``purity`` (end share in the start's component), ``dominant``, ``survived``,
    ``converged``, ``steps``. ``device``: where the ascent runs (``"auto"``: CUDA when available).
    """
    for name, v, ok, want in (("M", M, isinstance(M, int) and M >= 3, "be an integer >= 3"),
                              ("p", p, 0.0 < float(p) <= 1.0, "lie in (0, 1]"),
                              ("n_subsets", n_subsets, isinstance(n_subsets, int) and n_subsets >= 1, "be >= 1"),
                              ("purity_min", purity_min, 0.0 < purity_min <= 1.0, "lie in (0, 1]")):
        if not ok:
            raise ValueError(f"{name}: must {want}; got {v!r}")
    if isinstance(device, str) and device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    group = make_group(f"Z{M}")
    task = make_task(group)
    freqs = list(range(1, M // 2 + 1))
    gen = torch.Generator().manual_seed(int(seed))
    out = []
    for s in range(n_subsets):
        rows = split(task, float(p), int(seed) + s).train
        phases = torch.rand(len(freqs), generator=gen, dtype=torch.float64) * 2 * math.pi
        w0 = torch.stack([fourier.fourier_node(M, j, phase=float(ph)) for j, ph in zip(freqs, phases)])
        comp0 = fourier.purity(w0.numpy(), group).argmax(-1)
        w0 = w0.to(dev)
        E_full = th.energy(w0, group, activation).cpu()
        E0 = th.energy(w0, group, activation, rows=rows.to(dev)).cpu()
        res = th.project_ascent(w0, group, activation, steps=steps, rows=rows.to(dev), tol=tol)
        res = th.AscentResult(*(x.cpu() for x in res))
        pur = fourier.purity(res.w.numpy(), group)
        share = pur[np.arange(len(freqs)), comp0]
        out.append(pd.DataFrame({
            "M": M, "p": float(p), "n_train": int(rows.numel()), "subset": s, "freq": freqs,
            "E_full": E_full.numpy(), "E_start": E0.numpy(), "E_final": res.E.numpy(), "purity": share,
            "dominant": pur.argmax(-1), "survived": share >= purity_min,
            "converged": res.converged.numpy(), "steps": res.steps.numpy(),
        }))
    return pd.concat(out, ignore_index=True)


def node_energies(W: torch.Tensor, group: th.GroupLike, rows: th.Rows = None, active_frac: float = 0.1,
                  activation: str = "sqr") -> pd.DataFrame:
    """Per hidden node of a trained net (Fig. 7): its norm, whether it is *active*, and the energy and Fourier
    purity of its direction.

    ``W`` is the ``(2M, K)`` hidden layer (column ``j`` is node ``w_j``, as :meth:`Results.final_weights
    <li2core.train.Results.final_weights>` returns it). Each column is normalised to unit Euclidean norm over
    all ``2M`` entries (Stage II's constraint ``||w|| = 1``) and ``E`` (Eq. 7) is evaluated on ``rows`` (the
    run's training pairs; ``Y~`` centred over them). Weight decay drives unused nodes to ~0, where the
    direction is noise: a node is ``active`` when ``||w_j|| >= active_frac * max_j ||w_j||``.
    Returns a :class:`pandas.DataFrame` with ``node, norm, active, E, purity`` (largest power share of a real
    isotypic component) and ``component`` (its index).
    """
    if W.dim() != 2:
        raise ValueError(f"W: expected the (2M, K) hidden layer; got shape {tuple(W.shape)}")
    g = fourier.as_group(group)
    if W.shape[0] != 2 * g.order:
        raise ValueError(f"W: first dimension must be 2M = {2 * g.order}; got {tuple(W.shape)}")
    w = W.detach().T.to(torch.float64).cpu()
    norm = w.norm(dim=1)
    u = w / norm.clamp_min(torch.finfo(torch.float64).tiny)[:, None]
    E = th.energy(u, g, activation, rows=rows, chunk=0)
    pur = fourier.purity(u.numpy(), g)
    active = (norm >= active_frac * norm.max()).numpy()
    return pd.DataFrame({"node": np.arange(w.shape[0]), "norm": norm.numpy(), "active": active, "E": E.numpy(),
                         "purity": pur.max(-1), "component": pur.argmax(-1)})


# --- The chapter's drivers: run grids and the frames built from them -------------------------------------------

CYCLIC_PANELS = ("Z_M, M prime", "Z_M, M composite")  # Fig. 5's two top panels, fitted together as "all cyclic Z_M"
PAPER_FIG5 = {"lr": 5e-4, "weight_decay": 2e-4, "width": 2048, "seeds": 20}  # Fig. 5's settings, as the paper states


def fig5_panels(prime: Sequence[str], composite: Sequence[str], products: Sequence[str],
                nonabelian: Sequence[str]) -> dict[str, list[str]]:
    """Fig. 5's four panels (top left, top right, bottom left, bottom right): panel title -> group names."""
    return {CYCLIC_PANELS[0]: list(prime), CYCLIC_PANELS[1]: list(composite),
            "products of cyclic groups": list(products), "non-Abelian, max irrep dim 2": list(nonabelian)}


def group_panel(panels: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Group name -> its panel title, in panel order (a group listed twice keeps its first position)."""
    return {g: pan for pan, gs in panels.items() for g in gs}


def with_panel(frame: pd.DataFrame, panel_of: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with a last column ``panel`` = its ``group`` mapped through ``panel_of`` (a copy)."""
    return frame.assign(panel=frame["group"].map(panel_of))


def grid_p(M: int, ratio: float, p_max: float) -> float:
    """Fig. 5's p grid in units of the critical ratio: ``p = ratio ln M / M``, clipped at ``p_max``, rounded to 4
    decimals (the author's code sweeps ``critical_ratio_delta`` the same way)."""
    return round(min(p_max, ratio * np.log(M) / M), 4)


def sweep_configs(groups: Iterable[str], ratios: Sequence[float], seeds: int, p_max: float,
                  **fields: Any) -> list[TrainConfig]:
    """The Fig. 5 sweep: one :class:`TrainConfig` per (group, ratio, seed ``0..seeds-1``), in that order, with
    ``train_frac = grid_p(M, ratio, p_max)`` and the other ``fields`` (width, lr, epochs, ...) shared."""
    return [TrainConfig(group=g, train_frac=grid_p(make_group(g).order, r, p_max), seed=s, **fields)
            for g in groups for r in ratios for s in range(seeds)]


def panel_fits(runs: pd.DataFrame, panels: Iterable[str], level: float = 0.5, n_boot: int = 500) -> dict[str, CFit]:
    """Fig. 5's constant ``c`` (:func:`fit_c`) per panel (bootstrap seed 1), over both cyclic panels
    (``"all cyclic Z_M"``, seed 2) and over every run (``"all groups"``, seed 3). ``runs``: :func:`with_panel`
    of the sweep's runs (one row per run, ``final_test_acc``)."""
    fits = {pan: fit_c(runs[runs["panel"] == pan], level=level, n_boot=n_boot, seed=1) for pan in panels}
    fits["all cyclic Z_M"] = fit_c(runs[runs["panel"].isin(list(CYCLIC_PANELS))], level=level, n_boot=n_boot, seed=2)
    return {**fits, "all groups": fit_c(runs, level=level, n_boot=n_boot, seed=3)}


def fits_table(fits: Mapping[str, CFit]) -> pd.DataFrame:
    """One row per fit of :func:`panel_fits`: ``set, n_groups, censored, c, c_se_across_M, boot_lo, boot_hi,
    c_least_squares, slope_vs_lnM, slope_se``."""
    return pd.DataFrame([
        dict(set=k, n_groups=f.n, censored=f.n_censored, c=f.c, c_se_across_M=f.c_se, boot_lo=f.c_ci[0],
             boot_hi=f.c_ci[1], c_least_squares=f.c_ls, slope_vs_lnM=f.slope, slope_se=f.slope_se)
        for k, f in fits.items()])


def law_tests(bnd: pd.DataFrame, panels: Iterable[str], z_max: float = 2.0,
              resolve: float = 4.0) -> dict[str, dict[str, Any] | None]:
    """Which law the boundary follows (:func:`li2core.theory.scaling.law_test` of the uncensored rows of ``bnd``, a
    :func:`boundary` frame with ``panel``): per panel, over both cyclic panels (``"all cyclic Z_M"``) and over all
    groups (``"all groups"``); ``None`` for a set with fewer than 3 boundaries or 2 distinct ``M``."""
    ok = bnd[bnd["censored"] == ""]
    sets = {pan: ok[ok["panel"] == pan] for pan in panels}
    sets.update({"all cyclic Z_M": ok[ok["panel"].isin(list(CYCLIC_PANELS))], "all groups": ok})
    return {k: law_test(d["M"], d["p_crit"], z_max, resolve) if len(d) >= 3 and d["M"].nunique() >= 2 else None
            for k, d in sets.items()}


def laws_table(tests: Mapping[str, dict[str, Any] | None]) -> pd.DataFrame:
    """One row per set of :func:`law_tests`: ``set, n, M_min, M_max, slope, se``, then per law of :data:`LAWS`
    ``slope <law>`` (predicted) and ``z <law>``, and per alternative law ``resolved <law>``."""
    return pd.DataFrame([{"set": k, "n": t["n"], "M_min": int(t["M_min"]), "M_max": int(t["M_max"]),
                          "slope": t["slope"], "se": t["se"], **{f"slope {law}": t["predicted"][law] for law in LAWS},
                          **{f"z {law}": t["z"][law] for law in LAWS},
                          **{f"resolved {law}": v for law, v in t["resolved"].items()}}
                         for k, t in tests.items() if t is not None])


def memorised(frame: pd.DataFrame, test: str = "final_test_acc", train: str = "final_train_acc",
              below: float = 0.5, fitted: float = 0.99) -> dict[str, Any]:
    """Did the runs that did not generalise memorise? Among the rows with ``test < below``: ``n``, ``n_fitted``
    (``train >= fitted``) and ``min_train`` (NaN when there is none)."""
    d = frame.loc[frame[test] < below, train]
    return {"n": int(len(d)), "n_fitted": int((d >= fitted).sum()), "min_train": float(d.min()) if len(d) else np.nan}


def budget_fits(history: pd.DataFrame, panels: Iterable[str], budget_epochs: Sequence[int], level: float = 0.5,
                n_boot: int = 200, seed: int = 4) -> pd.DataFrame:
    """The boundary read off at earlier epochs of the same runs: per epoch in ``budget_epochs`` and panel,
    :func:`fit_c` of the test accuracy then (``history``: :func:`li2core.sweep.load_history` of ``test_acc`` with
    ``panel``): ``panel, epoch, c, c_lo, c_hi, n, n_censored, slope``; ``ValueError`` for an epoch not evaluated."""
    rows = []
    for e in budget_epochs:
        at = history[history["epoch"] == e].rename(columns={"test_acc": "final_test_acc"})
        if at.empty:
            raise ValueError(f"budget_epochs: epoch {e} was not evaluated (evaluated: {sorted(set(history['epoch']))})")
        for pan in panels:
            f = fit_c(at[at["panel"] == pan], level=level, n_boot=n_boot, seed=seed)
            rows.append(dict(panel=pan, epoch=e, c=f.c, c_lo=f.c_ci[0], c_hi=f.c_ci[1], n=f.n,
                             n_censored=f.n_censored, slope=f.slope))
    return pd.DataFrame(rows)


def survival_sweep(Ms: Sequence[int], ps: Sequence[float], n_subsets: int, purity_min: float = 0.9,
                   device: str | torch.device = "cpu", seed_offset: int = 100) -> pd.DataFrame:
    """Theorem 4 directly over a grid: :func:`maxima_survival` for every ``(M, p)`` (``M`` outer), subset seed
    ``seed_offset + M``; the rows of :func:`maxima_survival`, concatenated."""
    return pd.concat([maxima_survival(int(M), float(p), n_subsets=n_subsets, seed=seed_offset + int(M),
                                      purity_min=purity_min, device=device)
                      for M in Ms for p in ps], ignore_index=True)


def survival_boundary(surv: pd.DataFrame, level: float = 0.5) -> pd.DataFrame:
    """The survival boundary ``p_s`` per ``M``: :func:`boundary` of the share of surviving maxima (replicate =
    subset) of :func:`survival_sweep`; adds ``group = "Z<M>"`` and ``pM_over_lnM`` (= ``c``)."""
    sb = boundary(surv.assign(group=surv["M"].map(lambda m: f"Z{m}")), y="survived", replicate="subset",
                  level=level)
    sb["pM_over_lnM"] = sb["c"]
    return sb


def lr_configs(group: str, train_frac: float, lrs: Sequence[float], seeds: int, **fields: Any) -> list[TrainConfig]:
    """Figs. 6-7: one :class:`TrainConfig` per (learning rate, seed ``0..seeds-1``), in that order, on ``group``
    at ``train_frac``; the other ``fields`` (width, epochs, weight decay, ...) shared."""
    return [TrainConfig(group=group, train_frac=train_frac, lr=float(lr), seed=s, **fields)
            for lr in lrs for s in range(seeds)]


def runs_at(frame: pd.DataFrame, epochs: Sequence[int]) -> pd.DataFrame:
    """Rows of a :meth:`Results.frame` at ``epochs``, columns ``epoch, lr, seed, test_acc, train_acc`` (Fig. 6)."""
    return frame[frame["epoch"].isin(epochs)][["epoch", "lr", "seed", "test_acc", "train_acc"]]


def learned_nodes(res: Results, configs: Sequence[TrainConfig], active_frac: float = 0.1,
                  gen_threshold: float = 0.95) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fig. 7: :func:`node_energies` of every run's final ``W`` on its own training rows, with ``lr, seed, test_acc``
    (final) and ``outcome`` (``"generalized"`` when ``test_acc >= gen_threshold``, else ``"not generalized"``), and
    the reference energies (:func:`li2core.theory.scaling.reference_energies`) on the same rows, averaged over runs.
    ``configs``: the runs of ``res`` (weights kept), all on one cyclic group."""
    if len({c.group for c in configs}) != 1:
        raise ValueError(f"configs: must all be on one group; got {sorted({c.group for c in configs})}")
    task = make_task(configs[0].group)
    node_rows, refs_all = [], []
    for i, c in enumerate(configs):
        W, _ = res.final_weights(i)
        rows_i = split(task, c.p, c.seed).train
        ne = node_energies(W, c.group, rows=rows_i, active_frac=active_frac)
        acc = float(res.metrics[i]["test_acc"][-1])
        node_rows.append(ne.assign(lr=c.lr, seed=c.seed, test_acc=acc,
                                   outcome="generalized" if acc >= gen_threshold else "not generalized"))
        refs_all.append(th.reference_energies(task.M, rows=rows_i))
    refs = {k: float(np.mean([r[k] for r in refs_all])) for k in refs_all[0]}
    return pd.concat(node_rows, ignore_index=True), refs


# --- Figures: every one at most 8 in wide with fonts of 9 pt or more (li2core.figures.check_legible) ----------

P_LABEL, M_LABEL, LR_LABEL = r"training fraction $p = n/M^2$", "group order M = |H|", "learning rate (Adam, log scale)"
_FS = 9.5  # legends, annotations and small titles


def _log(ax: plt.Axes, axis: str, ticks: Sequence[float] | None = None) -> None:
    """A log ``axis`` ("x" or "y") of ``ax`` with plain tick labels (0.002, 500), at ``ticks`` when given."""
    a, fmt = getattr(ax, f"{axis}axis"), FuncFormatter(lambda v, _: f"{v:g}")
    ax.set(**{f"{axis}scale": "log"})
    if ticks is not None:
        a.set_major_locator(FixedLocator(ticks)), a.set_minor_locator(NullLocator())
    a.set_major_formatter(fmt), a.set_minor_formatter(fmt)


def _panels(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["panel"]))


def _ordered(d: pd.DataFrame, panels: Sequence[str], keys: Sequence[str]) -> pd.DataFrame:
    d = d.assign(_order=d["panel"].map({k: i for i, k in enumerate(panels)}))
    return d.sort_values(["_order", *keys]).drop(columns="_order").reset_index(drop=True)


def fig5_phase_data(runs: pd.DataFrame) -> pd.DataFrame:
    """Per ``(panel, group, M, p)``: the seed-mean final test accuracy ``acc``, its min and max over seeds, the
    number of seeds ``n_seeds`` and (when ``runs`` has ``final_train_acc``) the smallest final train accuracy
    ``train_min``. ``runs``: one row per run (e.g. :func:`li2core.sweep.load` plus a ``panel`` column)."""
    g = runs.groupby(["panel", "group", "M", "p"], sort=False)
    d = g["final_test_acc"].agg(acc="mean", acc_min="min", acc_max="max", n_seeds="size").reset_index()
    if "final_train_acc" in runs:
        d["train_min"] = g["final_train_acc"].min().to_numpy()
    return _ordered(d, _panels(runs), ["M", "group", "p"])


def fig5_phase(runs: pd.DataFrame, bnd: pd.DataFrame, c: float = CRITICAL_C, level: float = 0.5) -> plt.Figure:
    """Fig. 5 re-derived: seed-mean final test accuracy over (group order M, training fraction p), one panel
    per ``panel`` value (squares coloured by accuracy), the author's curve ``p = c ln M / M`` (dotted) and the
    measured boundary ``p_crit`` (black crosses: where the seed mean crosses ``level``; ``bnd`` is
    :func:`boundary` with a ``panel`` column). 8 in wide, two panels per row."""
    theme()
    d = fig5_phase_data(runs)
    panels = _panels(runs)
    ncol = 2 if len(panels) > 1 else 1
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(8.0, 3.9 * nrow), squeeze=False, sharey=True)
    sc = None
    for k, (ax, pan) in enumerate(zip(axes.flat, panels)):
        dp = d[d["panel"] == pan]
        sc = ax.scatter(dp["M"], dp["p"], c=dp["acc"], cmap="viridis", vmin=0, vmax=1, marker="s", s=55,
                        edgecolors="0.4", linewidths=0.3)
        Ms = np.linspace(max(2.5, dp["M"].min() * 0.85), dp["M"].max() * 1.08, 200)
        ax.plot(Ms, c * np.log(Ms) / Ms, ls=":", color="tab:red", lw=1.8, label=f"p = {c:g} ln M / M (author)")
        bp = bnd[(bnd["panel"] == pan) & np.isfinite(bnd["p_crit"])]
        ax.plot(bp["M"], bp["p_crit"], "x", color="black", ms=8, mew=2, label=f"p_crit (mean crosses {level:g})")
        ax.set_title(pan, fontsize=10.5)
        ax.set_xlabel(M_LABEL if k >= len(panels) - ncol else "")
        ax.set_ylabel(P_LABEL if k % ncol == 0 else "")
        ax.set_ylim(0, 1.0)
        if k == 0:
            ax.legend(fontsize=_FS, loc="lower left")
    for ax in list(axes.flat)[len(panels):]: ax.axis("off")  # noqa: E701
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    fig.colorbar(sc, cax=fig.add_axes((0.915, 0.15, 0.018, 0.7)), label="final test accuracy (seed mean)")
    return fig


def fig5_laws_data(bnd: pd.DataFrame, fit_panels: Sequence[str] = CYCLIC_PANELS) -> pd.DataFrame:
    """The uncensored boundaries (``panel, group, M, p_crit``), ``in_fit`` (the group is in ``fit_panels``, the set
    the law test was computed on) and per law of :data:`LAWS` the curve ``fit <law>`` at ``M``:
    the law times the constant that fits the ``in_fit`` points best in log space (their geometric mean ratio)."""
    d = bnd.loc[bnd["censored"] == "", ["panel", "group", "M", "p_crit"]].reset_index(drop=True)
    d["in_fit"] = d["panel"].isin(list(fit_panels))
    f = d[d["in_fit"]]
    for law, fn in LAWS.items():
        C = float(np.exp(np.mean(np.log(f["p_crit"]) - np.log(fn(f["M"].to_numpy(float)))))) if len(f) else np.nan
        d[f"fit {law}"] = C * fn(d["M"].to_numpy(float))
    return _ordered(d, _panels(bnd), ["M", "group"])


def fig5_laws(bnd: pd.DataFrame, test: dict[str, Any], fit_panels: Sequence[str] = CYCLIC_PANELS) -> plt.Figure:
    """Which law? ``p_crit`` against ``M`` on log-log axes (colour: panel; filled: the groups of the fit), and each
    law of :data:`LAWS` through the fitted points (:func:`fig5_laws_data`), labelled with the slope it predicts;
    the title gives the measured slope and its standard error (``test``: :func:`law_tests` of the fitted set)."""
    theme()
    d = fig5_laws_data(bnd, fit_panels)
    fig, ax = plt.subplots(figsize=(7.4, 5.6))
    for col, pan in zip(sns.color_palette("colorblind", len(_panels(bnd))), _panels(bnd)):
        dp = d[d["panel"] == pan]
        fill = bool(dp["in_fit"].all()) if len(dp) else True
        ax.scatter(dp["M"], dp["p_crit"], s=36, zorder=3, label=pan, color=col if fill else "none", edgecolors=col)
    f = d[d["in_fit"]]
    if len(f):
        Ms = np.geomspace(f["M"].min(), f["M"].max(), 100)
        for (law, fn), ls in zip(LAWS.items(), ("-", "--", ":")):
            C = float(f[f"fit {law}"].iloc[0] / fn(float(f["M"].iloc[0])))
            ax.plot(Ms, C * fn(Ms), ls=ls, color="0.25", lw=1.4,
                    label=f"p ∝ {law} (slope {test['predicted'][law]:+.2f})")
    _log(ax, "x"), _log(ax, "y")
    ax.set_xlabel(M_LABEL + " (log scale)")
    ax.set_ylabel(r"boundary $p_{\rm crit}$ (log scale)")
    ax.set_title(f"measured log-log slope {test['slope']:+.2f} ± {test['se']:.2f} (filled points)", fontsize=10.5)
    ax.legend(fontsize=_FS, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2)
    fig.tight_layout()
    return fig


def fig5_collapse_data(bnd: pd.DataFrame) -> pd.DataFrame:
    """The boundary frame (``panel, group, M, p_crit, c, censored, ...``) restricted to uncensored rows."""
    return bnd[bnd["censored"] == ""].reset_index(drop=True)


def fig5_collapse(bnd: pd.DataFrame, c_fit: float, c_ci: tuple[float, float], c_paper: float = CRITICAL_C,
                  slope: float | None = None, slope_se: float | None = None) -> plt.Figure:
    """Is ``p_crit M / ln M`` flat in ``M``? One point per group (colour: panel), the fitted mean ``c`` with its
    bootstrap interval (band) and the author's constant (dotted)."""
    theme()
    d = fig5_collapse_data(bnd)
    fig, ax = plt.subplots(figsize=(7.4, 5.2))
    for col, pan in zip(sns.color_palette("colorblind", len(_panels(bnd))), _panels(bnd)):
        dp = d[d["panel"] == pan]
        ax.scatter(dp["M"], dp["c"], color=col, s=40, label=pan, zorder=3)
    if np.isfinite(c_fit):
        ax.axhspan(c_ci[0], c_ci[1], color="0.6", alpha=0.25,
                   label=f"fitted c = {c_fit:.2f} [{c_ci[0]:.2f}, {c_ci[1]:.2f}]")
        ax.axhline(c_fit, color="0.3", lw=1)
    ax.axhline(c_paper, color="tab:red", ls=":", lw=1.8, label=f"author's c = {c_paper:g}")
    if len(d):
        ax.set_xlim(d["M"].min() * 0.9, d["M"].max() * 1.05)
    ax.set_xlabel(M_LABEL)
    ax.set_ylabel(r"$c_M = p_{\rm crit}\,M/\ln M$")
    ax.set_title("critical ratio per group" + (f": slope vs ln M = {slope:+.2f} ± {slope_se:.2f}"
                                               if slope is not None and slope_se is not None else ""), fontsize=10.5)
    ax.legend(fontsize=_FS, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2)
    fig.tight_layout()
    return fig


def fig5_budget_data(fits: pd.DataFrame) -> pd.DataFrame:
    """``fits``: one row per (panel, epoch budget) with ``panel, epoch, c, c_lo, c_hi, n, n_censored``; sorted by
    panel (in order of first appearance) and epoch."""
    return _ordered(fits, _panels(fits), ["epoch"])


def fig5_budget(fits: pd.DataFrame, c_paper: float = CRITICAL_C) -> plt.Figure:
    """The fitted ``c`` when the boundary is read off at an earlier epoch (same runs; test accuracy at that
    epoch): the boundary of a fixed-epoch sweep moves with the epoch budget."""
    theme()
    d = fig5_budget_data(fits)
    fig, ax = plt.subplots(figsize=(6.6, 4.2))
    pan = _panels(d)
    if not np.isfinite(d["c"]).any():
        ax.text(0.5, 0.5, "no boundary on the p grid at any epoch", ha="center", transform=ax.transAxes)
    for k, (col, p) in enumerate(zip(sns.color_palette("colorblind", len(pan)), pan)):
        dp = d[(d["panel"] == p) & np.isfinite(d["c"])]
        if not dp.empty:
            err = [dp["c"] - dp["c_lo"], dp["c_hi"] - dp["c"]]
            ax.errorbar(dp["epoch"] * (1 + 0.015 * (k - 1.5)), dp["c"], yerr=err, fmt="o-", color=col, ms=5, capsize=3,
                        label=p)
    ax.axhline(c_paper, color="tab:red", ls=":", lw=1.8, label=f"author's c = {c_paper:g}")
    if np.isfinite(d["c"]).any():
        _log(ax, "x", sorted(d["epoch"].unique()))
    ax.set_xlabel("epoch at which the boundary is read off (log scale)")
    ax.set_ylabel(r"fitted $c$ (mean of $c_M$, 95% CI)")
    ax.legend(fontsize=_FS)
    fig.tight_layout()
    return fig


def thm4_survival_data(frame: pd.DataFrame) -> pd.DataFrame:
    """Per ``(M, p)``: the share of Fourier maxima that survive (``share``, over subsets and frequencies), its
    min and max over subsets, ``x = p M / ln M``, mean purity and the number of starts. ``frame``:
    :func:`survival_sweep` (:func:`maxima_survival` for several ``M`` and ``p``)."""
    per_sub = frame.groupby(["M", "p", "subset"])["survived"].mean().rename("s").reset_index()
    sub = per_sub.groupby(["M", "p"])["s"].agg(share_min="min", share_max="max").reset_index()
    g = frame.groupby(["M", "p"]).agg(share=("survived", "mean"), purity=("purity", "mean"),
                                       n_starts=("survived", "size"), n_train=("n_train", "first")).reset_index()
    d = g.merge(sub, on=["M", "p"]).assign(x=lambda t: t["p"] * t["M"] / np.log(t["M"]))
    return d.sort_values(["M", "p"]).reset_index(drop=True)


def thm4_survival(frame: pd.DataFrame, c: float = CRITICAL_C, purity_min: float = 0.9) -> plt.Figure:
    """Theorem 4 directly: share of Fourier maxima that stay single-frequency (purity >= ``purity_min``) after
    projected ascent on the subsampled energy, against ``p`` (top) and against ``p M / ln M`` (bottom: the
    curves collapse if the survival boundary scales as ``ln M / M``)."""
    theme()
    d = thm4_survival_data(frame)
    Ms = sorted(d["M"].unique())
    fig, axes = plt.subplots(2, 1, figsize=(7.0, 6.4), sharey=True)
    for col, M in zip(sns.color_palette("viridis", len(Ms)), Ms):
        dm = d[d["M"] == M]
        for ax, xc in zip(axes, ("p", "x")):
            ax.plot(dm[xc], dm["share"], "o-", color=col, ms=4, label=f"M = {M}")
            ax.fill_between(dm[xc], dm["share_min"], dm["share_max"], color=col, alpha=0.15, lw=0)
    axes[0].set_xlabel(P_LABEL)
    axes[1].set_xlabel(r"$p\,M/\ln M$ (log scale)")
    axes[1].axvline(c, color="tab:red", ls=":", lw=1.8, label=f"author's c = {c:g}")
    _log(axes[1], "x")
    for ax, loc in zip(axes, ("upper left", "lower right")):
        ax.set_ylabel(f"share surviving\n(purity ≥ {purity_min:g})")
        ax.legend(fontsize=_FS, loc=loc, ncol=2)
    axes[0].set_title(r"ascent of the subsampled $\hat{\mathcal{E}}$ from the Fourier maxima", fontsize=10.5)
    fig.tight_layout()
    return fig


def fig6_lr_data(runs: pd.DataFrame, threshold: float = 0.95) -> pd.DataFrame:
    """Per ``(epoch, lr)``: the share of seeds with test accuracy >= ``threshold`` (``p_gen``), the mean and
    min/max test accuracy, the number of seeds and (when ``runs`` has ``train_acc``) the smallest train accuracy
    ``train_min``. ``runs``: tidy rows ``epoch, lr, seed, test_acc[, train_acc]`` (:func:`runs_at`)."""
    agg = dict(p_gen=("gen", "mean"), acc=("test_acc", "mean"), acc_min=("test_acc", "min"),
               acc_max=("test_acc", "max"), n_seeds=("gen", "size"))
    if "train_acc" in runs:
        agg["train_min"] = ("train_acc", "min")
    return runs.assign(gen=runs["test_acc"] >= threshold).groupby(["epoch", "lr"]).agg(**agg).reset_index()


def fig6_lr(runs: pd.DataFrame, threshold: float = 0.95, title: str = "") -> plt.Figure:
    """Fig. 6 re-derived: the chance of a generalizing solution (test accuracy >= ``threshold``) against the
    learning rate, read off at each epoch in ``runs`` (left), and each run's test accuracy (right, last epoch)."""
    theme()
    d = fig6_lr_data(runs, threshold)
    epochs = sorted(d["epoch"].unique())
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.8))
    for col, e in zip(sns.color_palette("crest", len(epochs)), epochs):
        de = d[d["epoch"] == e]
        axes[0].plot(de["lr"], de["p_gen"], "o-", color=col, label=f"epoch {e}")
    axes[0].set_ylim(-0.05, 1.05)
    axes[0].set_ylabel(f"share of seeds with\ntest accuracy ≥ {threshold:g}")
    axes[0].legend(fontsize=_FS, loc="best")
    last = runs[runs["epoch"] == epochs[-1]]
    jit = np.exp(np.random.default_rng(0).uniform(-0.08, 0.08, len(last)))
    axes[1].scatter(last["lr"] * jit, last["test_acc"], s=22, color="0.25", label="one run")
    de = d[d["epoch"] == epochs[-1]]
    axes[1].plot(de["lr"], de["acc"], "-", color="tab:blue", label="seed mean")
    axes[1].axhline(threshold, color="0.5", ls="--", lw=1)
    axes[1].set_ylabel(f"test accuracy at epoch {epochs[-1]}")
    axes[1].legend(fontsize=_FS)
    for ax in axes:
        _log(ax, "x", sorted(d["lr"].unique()))
        ax.set_xlabel(LR_LABEL)
    if title:
        fig.suptitle(title, fontsize=10.5)
    fig.tight_layout()
    return fig


def fig7_energy_data(nodes: pd.DataFrame) -> pd.DataFrame:
    """Per ``(lr, outcome)``: active nodes' energy ``E`` (mean, median, quartiles), mean purity, number of runs
    and of active nodes. ``nodes``: :func:`learned_nodes` (:func:`node_energies` rows with ``lr, seed, outcome``)."""
    a = nodes[nodes["active"]]
    return a.groupby(["lr", "outcome"]).agg(
        E_mean=("E", "mean"), E_median=("E", "median"), E_q25=("E", lambda s: s.quantile(0.25)),
        E_q75=("E", lambda s: s.quantile(0.75)), purity=("purity", "mean"), n_nodes=("E", "size"),
        n_runs=("seed", "nunique")).reset_index()


def fig7_energy(nodes: pd.DataFrame, refs: dict[str, float]) -> plt.Figure:
    """Fig. 7 re-derived: the energy ``E`` (Eq. 7, each active node normalised to ``||w_j|| = 1``, on the run's
    training rows) of the learned nodes per learning rate (boxes; colour: whether the run generalized), with the
    energies of the Fourier maxima and of Theorem 5's memorization nodes on the same rows as references (top);
    the nodes' Fourier purity (bottom)."""
    theme()
    a = nodes[nodes["active"]].copy()
    a["lr_label"] = a["lr"].map(lambda v: f"{v:g}")
    order = [f"{v:g}" for v in sorted(a["lr"].unique())]
    hue_order = [h for h in ("generalized", "not generalized") if h in set(a["outcome"])]
    pal = dict(zip(("generalized", "not generalized"), sns.color_palette("colorblind", 2)))
    fig, axes = plt.subplots(2, 1, figsize=(7.0, 6.6), sharex=True)
    for ax, y in zip(axes, ("E", "purity")):
        sns.boxplot(data=a, x="lr_label", y=y, hue="outcome", order=order, hue_order=hue_order, palette=pal,
                    ax=ax, fliersize=1.5, linewidth=0.8)
    axes[0].axhline(refs["fourier"], color="tab:green", ls="--", lw=1.3, label="Fourier maxima (mean over j)")
    axes[0].axhline(refs["memorization"], color="tab:red", ls=":", lw=1.6, label="memorization nodes (Thm 5)")
    axes[0].set_ylabel(r"$\mathcal{E}(w_j/\|w_j\|)$, training rows")
    axes[0].set_xlabel("")
    axes[0].legend(fontsize=_FS, loc="upper left", ncol=2)
    axes[0].set_ylim(0, max(refs["memorization"], float(a["E"].max()) if len(a) else 0) * 1.35)
    axes[1].set_xlabel("learning rate (Adam)")
    axes[1].set_ylabel("Fourier purity of the node")
    axes[1].set_ylim(0, 1.02)
    axes[1].get_legend().remove()
    fig.tight_layout()
    return fig
