# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Generalization versus memorization: the scaling law (Theorem 4, Figs. 5–7)
#
# **Claim (Tian, Li₂, §4.5, Theorem 4, Figs. 5–7).** The Fourier (irrep) local maxima of the energy
# $\mathcal E$ (Eq. 7) that carry generalizing features survive when $\mathcal E$ is built from a random
# subset of the $M^2$ pairs only if the subset is large enough; the sample size needed grows like
# $d_k^2\,M\log M$, so the training fraction that separates generalization from memorization shrinks like
# $p \sim \ln M / M$. Fig. 5 shows this as a phase diagram of test accuracy over $(M, p)$ for four families of
# groups with the dotted curve $p \propto \ln M/M$; the author's code uses $p = 2.7482\,\ln M/M$ for it
# (its `critical_ratio_multiplier`). Near the boundary, generalizing and memorizing maxima
# coexist; a small learning rate keeps training in the basin of the generalizing ones (Fig. 6) and a large
# one ends in memorization solutions with a *higher* energy (Fig. 7).
#
# :::{prf:theorem} Samples needed to keep the local maxima (Li₂ Thm 4)
# :label: thm-scaling-law
# If $n \gtrsim d_k^2\, M \log(M/\delta)$ pairs are drawn uniformly at random from $H\times H$, then with
# probability at least $1-\delta$ the empirical energy $\hat{\mathcal E}$ keeps the local maxima of the
# $d_k$-dimensional irreps. Hence the critical training fraction is $p = n/M^2 = O(M^{-1}\log M)$.
# The theorem gives no numerical constant.
# :::
#
# **What this chapter computes.**
# 1. *Fig. 5, re-derived*: a sweep over groups × training fractions × seeds (through the resumable sweep
#    store, `li2core.sweep.run_sweep`), the measured boundary $p_{\rm crit}(M)$ (where the seed-mean final test
#    accuracy crosses 0.5) and the constant $c = p_{\rm crit}M/\ln M$ with a bootstrap interval over seeds;
#    whether $c$ is flat in $M$ (the collapse the theorem predicts), and how it moves with the epoch budget.
# 2. *Theorem 4 directly*: start at the Fourier maxima, run projected ascent of the **subsampled** energy, and
#    count the maxima that stay single-frequency, against $p$ and against $pM/\ln M$.
# 3. *Figs. 6–7*: near the boundary, the chance of a generalizing solution against the learning rate, and
#    the energy of the learned nodes.
#
# **What the paper does not state, and what we choose.** Fig. 5 states $K = 2048$, lr $5\times10^{-4}$,
# weight decay $2\times10^{-4}$ and 20 seeds, but not the optimizer, the number of epochs, the activation, the
# loss, the $M$ values, the $p$ grid or the plotted quantity. We use full-batch **Adam** (coupled L2, as in the
# author's code), $\sigma(x) = x^2$ (the activation of Theorem 4), the author's **`mse_class`** loss (outputs
# centred over classes, mean over samples), the author's initialisation, a **fixed number of epochs** for every
# run, and plot the **final test accuracy (mean over seeds)**. The $p$ grid is laid out in units of the
# critical ratio, $p = r\ln M/M$ for a list of $r$ (the author's code sweeps `critical_ratio_delta` the same
# way), clipped at `p_max`; the boundary is interpolated linearly on that grid, per group.
#
# **Profiles.** The paper profile (`book/profiles/paper.yml`, for a GPU) uses the paper's $K$, lr, weight decay
# and seeds, the paper's product groups and $M$ up to 127. The default CPU profile must run in about two minutes
# on two cores, so it uses $M \le 29$, $K = 128$, 2 seeds, 1000 epochs and a 6-point grid. At $K = 128$ the
# paper's weight decay $2\times10^{-4}$ groks too slowly for a 1000-epoch budget: in a trial with lr $10^{-2}$
# the seed-mean test accuracy after 1000 epochs was 0.34 at $M = 23$, $p = 0.41$ and 0.06 at $M = 13$,
# $p = 0.49$ (1.00 and 0.14 with weight decay $10^{-3}$), so the boundary would mostly measure the budget.
# The CPU profile therefore uses **lr $10^{-2}$ and weight decay $10^{-3}$**, chosen so that large $p$ groks
# well within the budget. We also tried $5\times10^{-3}$ (lr $5\times10^{-3}$), which broke generalization at
# *large* $p$ (test accuracy 0.03–0.08 at $M = 31$, $p \ge 0.4$). These values were fixed
# before the fits below and are not tuned to them.

# %% tags=["parameters"]
prime_groups = ["Z11", "Z13", "Z17", "Z19", "Z23", "Z29"]  # Fig. 5 top left: Z_M, M prime
composite_groups = ["Z12", "Z15", "Z20", "Z24", "Z28"]  # top right: Z_M, M composite
product_groups = ["Z2xZ6", "Z3xZ6", "Z2xZ2xZ5", "Z2xZ2xZ6", "Z4xZ7"]  # bottom left: direct products
nonabelian_groups = ["D5", "Dic3", "D7", "D9", "Dic5", "D11"]  # bottom right: non-Abelian, max irrep dim 2
ratios = [1.5, 2.0, 2.5, 3.0, 3.5, 4.5]  # p grid in units of ln M / M (p is ratio times ln M / M, clipped to p_max)
p_max = 0.9
seeds = 2  # seeds 0..seeds-1 per (group, p)
width = 128  # hidden width K
epochs = 1000  # full-batch optimizer steps, the same for every run
lr = 1e-2  # Adam learning rate
weight_decay = 1e-3  # the optimizer's (coupled L2) weight decay
eval_every = 100  # test accuracy every this many epochs (the boundary is also read off at budget_epochs)
budget_epochs = [200, 500, 1000]  # epochs at which the boundary is re-read from the same runs
level = 0.5  # p_crit: where the seed-mean final test accuracy crosses this level
n_boot = 500  # bootstrap samples (seeds resampled within each group)
activation = "sqr"
loss = "mse_class"
optimizer = "adam"
store = ""  # sweep store (SQLite file); empty: out_dir/fig5_sweep.sqlite (rebuilt with the figures)
# Theorem 4 directly: ascent of the subsampled energy from the Fourier maxima of Z_M
survival_Ms = [11, 17, 23, 31, 41]
survival_ps = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9]
survival_subsets = 4  # random training subsets per (M, p)
purity_min = 0.9  # a maximum survives if at least this share of its power stays in its start frequency (fixed a priori)
# Figs. 6-7: learning rate near the boundary
lr_group = "Z23"  # a cyclic group Z_M
lr_ratio = 2.7482  # p is lr_ratio times ln M / M (2.7482: the author's critical ratio)
lrs = [3e-3, 1e-2, 3e-2, 1e-1, 2e-1, 4e-1]
lr_seeds = 4
lr_epochs = 1000
lr_budget_epochs = [500, 1000]  # the chance of generalizing is read off at these epochs
gen_threshold = 0.95  # a run "generalized" if its test accuracy reaches this
active_frac = 0.1  # a node is active if its norm is at least active_frac times the largest node norm
threads = 1  # torch threads (small tensors: one thread avoids contention on a shared 2-core machine); 0: torch default
device = "auto"
out_dir = "_output/fig5_scaling_law"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["fig5_phase", "fig5_collapse", "fig5_budget", "thm4_survival", "fig6_lr", "fig7_energy"]

import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

import li2core
from li2core import figures, groups, measures, sweep
from li2core.chapters import fig5_scaling_law as ch
from li2core.tasks import CRITICAL_C

t_start = time.time()
if threads:
    torch.set_num_threads(int(threads))
PANELS = ch.fig5_panels(prime_groups, composite_groups, product_groups, nonabelian_groups)
panel_of = ch.group_panel(PANELS)
for name in panel_of:  # validated: an unknown name raises ValueError naming the accepted forms
    groups.make(name)
# The non-Abelian panel must hold groups whose largest irrep has dimension 2 (the author's `collection` filter).
dmax = {g: max(groups.make(g).irrep_dims()) for g in nonabelian_groups}
abel = {g: groups.make(g).is_abelian for g in nonabelian_groups}
print("non-Abelian panel, irrep dims:", {g: sorted(set(groups.make(g).irrep_dims())) for g in nonabelian_groups})
assert all(d == 2 for d in dmax.values()) and not any(abel.values()), (
    f"nonabelian_groups: every group must be non-Abelian with max irrep dimension 2; got d_max={dmax}, abelian={abel}")
for name, v in (("ratios", ratios), ("lrs", lrs)):
    if not v or min(v) <= 0:
        raise ValueError(f"{name}: must be a non-empty list of positive numbers; got {v}")
if not 0 < p_max <= 1:
    raise ValueError(f"p_max: must lie in (0, 1]; got {p_max}")
if not lr_group.startswith("Z") or not groups.make(lr_group).is_abelian or "x" in lr_group:
    raise ValueError(f"lr_group: must be a cyclic group 'Z<m>' (the reference energies use Fourier nodes); got {lr_group!r}")

configs = ch.sweep_configs(panel_of, ratios, seeds, p_max, width=width, activation=activation, loss=loss,
                           optimizer=optimizer, lr=lr, weight_decay=weight_decay, epochs=epochs,
                           eval_every=eval_every)  # validated here
fig5 = sweep.Sweep("fig5_scaling_law", configs, metrics="basic")
store_path = Path(store) if store else Path(out_dir) / "fig5_sweep.sqlite"
store_path.parent.mkdir(parents=True, exist_ok=True)
print(f"profile={profile}: {len(panel_of)} groups x {len(ratios)} ratios x {seeds} seeds = {len(fig5)} runs; "
      f"K={width}, {epochs} epochs, {optimizer} lr={lr:g} wd={weight_decay:g}, sigma={activation}, loss={loss}; "
      f"store {store_path}")

# %% [markdown]
# ## Fig. 5: the phase diagram
# All runs go through the sweep store (`run_sweep`): runs already in the store are not trained again, so a
# persistent `store` makes the paper profile resumable. Runs of one group train as one batched program.

# %%
t0 = time.time()
runs = ch.with_panel(sweep.run_sweep(fig5, store_path, device=device, progress=False), panel_of)
print(f"{len(runs)} runs in the store ({int(runs['diverged'].sum())} diverged); this cell took {time.time() - t0:.1f} s")
bnd = ch.with_panel(ch.boundary(runs, level=level), panel_of)

# %% [markdown]
# Squares: seed-mean final test accuracy at each $(M, p)$; dotted red: the author's $p = 2.7482\ln M/M$;
# black crosses: the measured boundary (the $p$ where the seed mean crosses 0.5, interpolated between the two
# grid points around it). Groups of the same order share a column.

# %%
fig = ch.fig5_phase(runs, bnd, c=CRITICAL_C, level=level)
figures.save_figure(fig, out_dir, "fig5_phase", ch.fig5_phase_data(runs))
plt.show()

# %% [markdown]
# ## The constant $c$: is $p_{\rm crit}M/\ln M$ flat in $M$?
# Per group $c_M = p_{\rm crit}M/\ln M$. We report the mean over groups with a bootstrap 95% interval (seeds
# resampled with replacement within every group, boundaries recomputed), the least-squares $c$ of
# $p_{\rm crit} = c\ln M/M$, and the slope of $c_M$ against $\ln M$ (flat = the collapse Theorem 4 predicts).

# %%
fits = ch.panel_fits(runs, PANELS, level=level, n_boot=n_boot)
table = ch.fits_table(fits)
print(bnd[["panel", "group", "M", "p_crit", "c", "censored", "x_lo", "x_hi"]].round(3).to_string(index=False))
print()
print(table.round(3).to_string(index=False))

# %%
fa = fits["all groups"]
fig = ch.fig5_collapse(bnd, fa.c, fa.c_ci, CRITICAL_C, fa.slope, fa.slope_se)
figures.save_figure(fig, out_dir, "fig5_collapse", ch.fig5_collapse_data(bnd))
plt.show()

# %% [markdown]
# ### The boundary depends on the epoch budget
# A fixed-epoch sweep measures "generalized within $T$ epochs". Reading test accuracy at earlier epochs of the
# same runs shows how far the boundary still moves: close to the boundary grokking is slow, so a longer budget
# moves $p_{\rm crit}$ down.

# %%
hist = ch.with_panel(sweep.load_history(store_path, sweep=fig5, metrics=["test_acc"]), panel_of)
budget = ch.budget_fits(hist, PANELS, budget_epochs, level=level, n_boot=200, seed=4)
print(budget.round(3).to_string(index=False))
fig = ch.fig5_budget(budget, CRITICAL_C)
figures.save_figure(fig, out_dir, "fig5_budget", ch.fig5_budget_data(budget))
plt.show()

# %% [markdown]
# ## Theorem 4 directly: do the Fourier maxima survive subsampling?
# For $\mathbb Z_M$ and each frequency $j$ we start at the unit-norm maximum $[u; \pm Pu']$ of the full-data
# energy (random phase) and run projected gradient ascent on the sphere of the energy of a random training
# subset, $\hat{\mathcal E}(w) = \tfrac12\|\tilde Y_S^\top\sigma(X_S w)\|^2$ (the proof's Horvitz–Thompson
# weight $1/p$ is a constant factor and does not move maxima). A maximum **survives** if the ascent ends at a
# node with at least `purity_min` = 0.9 of its power still in the start frequency (threshold fixed before
# looking). The subsets are the training splits of `li2core.tasks.split` (nested in $p$ for a given seed).

# %%
t0 = time.time()
surv = ch.survival_sweep(survival_Ms, survival_ps, survival_subsets, purity_min=purity_min, device=device)
print(f"{len(surv)} ascents in {time.time() - t0:.1f} s; not converged: {int((~surv['converged']).sum())}")
sd = ch.thm4_survival_data(surv)
fig = ch.thm4_survival(surv, CRITICAL_C, purity_min)
figures.save_figure(fig, out_dir, "thm4_survival", sd)
plt.show()
sb = ch.survival_boundary(surv, level=0.5)
print(sb[["group", "M", "p_crit", "pM_over_lnM", "censored"]].round(3).to_string(index=False))

# %% [markdown]
# ## Figs. 6–7: the learning rate near the boundary
# One group at $p$ = `lr_ratio`$\cdot\ln M/M$, several learning rates and seeds, everything else as in the sweep.
# CPU profile: $\mathbb Z_{23}$ at the author's critical ratio 2.7482 ($p = 0.375$); paper profile: Fig. 7's
# setting, $\mathbb Z_{127}$ with $n = 3225$ ($p = 0.2$). Left: the share of seeds that generalized (test accuracy $\ge 0.95$), read off at two
# epochs of the same runs; right: each run's final test accuracy.

# %%
p_lr = ch.grid_p(groups.make(lr_group).order, lr_ratio, p_max)
lr_cfgs = ch.lr_configs(lr_group, p_lr, lrs, lr_seeds, width=width, activation=activation, loss=loss,
                        optimizer=optimizer, weight_decay=weight_decay, epochs=lr_epochs, eval_every=eval_every)
t0 = time.time()
res_lr = li2core.train(lr_cfgs, device=device, progress=False, metrics="basic", keep_weights=True)
lr_frame = res_lr.frame()
print(f"{lr_group}, p = {p_lr} (n_train = {lr_cfgs[0].n_train}): {len(lr_cfgs)} runs in {time.time() - t0:.1f} s")
lr_at = ch.runs_at(lr_frame, lr_budget_epochs)
fig = ch.fig6_lr(lr_at, gen_threshold, title=f"{lr_group}, p = {p_lr:.3f} = {lr_ratio:g} ln M / M, "
                    f"K = {width}, wd = {weight_decay:g}")
lr_data = ch.fig6_lr_data(lr_at, gen_threshold)
figures.save_figure(fig, out_dir, "fig6_lr", lr_data)
plt.show()
print(lr_data.round(3).to_string(index=False))

# %% [markdown]
# **Energy of the learned nodes (Fig. 7).** The paper does not say how it evaluates $\mathcal E$ for Fig. 7.
# We take each hidden node $w_j$ (a column of the final $W$), **normalise it to unit Euclidean norm over all
# $2M$ entries** (Stage II's constraint $\|w\| = 1$), and evaluate Eq. 7 on the run's **training pairs**
# ($\tilde Y$ centred over them). Weight decay drives unused nodes to ~0, where the direction is noise, so only
# *active* nodes count: $\|w_j\| \ge 0.1\max_j\|w_j\|$. References on the same rows: the Fourier maxima
# (Theorem 2) and Theorem 5's memorization nodes $(e_a + e_{M+b})/\sqrt2$ of training pairs.

# %%
nodes, refs = ch.learned_nodes(res_lr, lr_cfgs, active_frac=active_frac, gen_threshold=gen_threshold)
print("reference E on the training rows (mean over seeds):", {k: round(v, 3) for k, v in refs.items()})
fig = ch.fig7_energy(nodes, refs)
e_data = ch.fig7_energy_data(nodes)
figures.save_figure(fig, out_dir, "fig7_energy", e_data)
plt.show()
print(e_data.round(3).to_string(index=False))

# %% [markdown]
# ## Checks
# Each claim is computed from the runs above and asserted; the numbers are printed first.

# %%
cyc_b = bnd[bnd["panel"].isin(ch.CYCLIC_PANELS) & (bnd["censored"] == "")]
rho = measures.spearman(cyc_b["M"], cyc_b["p_crit"])
b_pM, b_pM_se = measures.ols_slope(cyc_b["M"].to_numpy(float), cyc_b["p_crit"].to_numpy(float))
print(f"cyclic panels: {len(cyc_b)} groups with a boundary on the grid; Spearman(M, p_crit) = {rho:+.3f}; "
      f"OLS slope dp_crit/dM = {b_pM:+.4f} +- {b_pM_se:.4f}")
for k, f in fits.items():
    flat = abs(f.slope) <= 2 * f.slope_se if np.isfinite(f.slope_se) else None
    print(f"c [{k}] = {f.c:.3f} +- {f.c_se:.3f} (across M), bootstrap 95% [{f.c_ci[0]:.3f}, {f.c_ci[1]:.3f}], "
          f"least squares {f.c_ls:.3f}; slope of c_M vs ln M = {f.slope:+.3f} +- {f.slope_se:.3f} "
          f"(bootstrap [{f.slope_ci[0]:+.3f}, {f.slope_ci[1]:+.3f}]) -> {'flat' if flat else 'NOT flat'} "
          f"within 2 s.e.; author's c = {CRITICAL_C}")
fall = fits["all groups"]
c_ratio_nonab = fits["non-Abelian, max irrep dim 2"].c / fits["all cyclic Z_M"].c
print(f"non-Abelian c / cyclic c = {c_ratio_nonab:.3f} (Theorem 4's d_k^2 would allow up to 4; the author's "
      f"c_corr = d_max/2 = 1)")
last_b, first_b = budget[budget["epoch"] == max(budget_epochs)], budget[budget["epoch"] == min(budget_epochs)]
print("fitted c by epoch budget (mean over panels): "
      + ", ".join(f"epoch {e}: {budget[budget['epoch'] == e]['c'].mean():.3f}" for e in budget_epochs))

# Theorem 4 directly
share = sd.pivot(index="p", columns="M", values="share")
rho_surv = {int(M): measures.spearman(share.index, share[M]) for M in share.columns}
sb_ok = sb[sb["censored"] == ""]
c_s_slope, c_s_se = measures.ols_slope(np.log(sb_ok["M"].to_numpy(float)), sb_ok["c"].to_numpy(float))
ll_slope, ll_se = measures.ols_slope(np.log(sb_ok["M"].to_numpy(float)), np.log(sb_ok["p_crit"].to_numpy(float)))
print("survival share by p (rows) and M (columns):")
print(share.round(2).to_string())
print(f"Spearman(p, share) per M: {rho_surv}")
print("survival boundary p_s (share crosses 0.5): " + ", ".join(
    f"M={int(r.M)}: {r.p_crit:.3f} (p M/ln M = {r.c:.2f})" for r in sb.itertuples()))
print(f"slope of p_s M/ln M vs ln M = {c_s_slope:+.2f} +- {c_s_se:.2f}; log-log slope of p_s vs M = {ll_slope:+.3f} "
      f"+- {ll_se:.3f} (ln M / M would give about {np.mean(-1 + 1 / np.log(sb_ok['M'])):+.2f})")
tr_pc = bnd.set_index("group")["p_crit"]  # training boundary of the cyclic group Z_M
above = {g: (round(float(r), 3), round(float(tr_pc[g]), 3)) for g, r in zip(sb_ok["group"], sb_ok["p_crit"])
         if g in tr_pc.index}
print(f"survival boundary vs training boundary of the same Z_M (p_s, p_crit) where both exist: {above}")

# Figs. 6-7
final_lr = lr_data[lr_data["epoch"] == max(lr_budget_epochs)].set_index("lr")
pg = final_lr["p_gen"]
lr_best = float(pg.idxmax())
print(f"share generalized at epoch {max(lr_budget_epochs)} by lr: {pg.round(2).to_dict()}; best lr {lr_best:g}")
run_E = nodes[nodes["active"]].groupby(["lr", "seed", "outcome"])["E"].mean().reset_index()
E_gen = run_E[run_E["outcome"] == "generalized"]["E"]
E_not = run_E[run_E["outcome"] == "not generalized"]["E"]
E_by_lr = nodes[nodes["active"]].groupby("lr")["E"].mean()
print("mean E of active nodes by lr: " + ", ".join(f"{k:g}: {v:.3f}" for k, v in E_by_lr.items()))
print(f"mean E of active nodes per run: generalized {E_gen.mean():.3f} (n={len(E_gen)}), "
      f"not generalized {E_not.mean():.3f} (n={len(E_not)}); range over runs [{run_E['E'].min():.3f}, "
      f"{run_E['E'].max():.3f}]; references: Fourier {refs['fourier']:.3f}, memorization node {refs['memorization']:.3f}")
print(f"chapter runtime so far: {time.time() - t_start:.1f} s")

# %%
assert rho < 0 and b_pM < 0, f"Fig. 5: p_crit does not decrease with M over Z_M (Spearman {rho:+.3f}, slope {b_pM:+.4f})"
assert np.isfinite(fall.c) and fall.c > 0, f"Fig. 5: fitted c is not finite and positive ({fall.c})"
assert all(np.isfinite(f.c) and f.c > 0 for f in fits.values()), "Fig. 5: a panel has no finite positive c"
assert all(v > 0 for v in rho_surv.values()), f"Thm 4: survival share does not increase with p for some M: {rho_surv}"
assert (share.iloc[-1] > share.iloc[0]).all(), "Thm 4: survival share at the largest p is not above the smallest p"
# Declared deviation (see below): the survival boundary in units of ln M / M grows with M (no collapse at these M).
assert c_s_slope > 0, f"Thm 4 (measured): p_s M / ln M no longer grows with M (slope {c_s_slope:+.2f}); update the deviation"
# Fig. 6 (measured): a large learning rate lowers the chance of generalizing.
assert pg.loc[max(lrs)] < pg.max(), (
    f"Fig. 6: the largest lr ({max(lrs):g}) generalizes as often as the best lr ({pg.max():.2f})")
# Fig. 7: memorization maxima have a higher energy than Fourier maxima on the same training rows ...
assert refs["memorization"] > refs["fourier_max"], (
    f"Fig. 7: memorization node E {refs['memorization']:.3f} <= Fourier E {refs['fourier_max']:.3f}")
# ... but (declared deviation) the non-generalizing runs here do not end at those high-energy maxima.
if len(E_not):
    assert E_not.max() < refs["memorization"], (
        f"Fig. 7 (measured): a non-generalizing run's nodes reach the memorization energy ({E_not.max():.3f})")
print("All checks hold (with the deviations declared below).")

# %% [markdown]
# ## Deviations and notes
# The checks cell prints the numbers of the profile that ran; the values quoted below are those of the default
# CPU profile ($M \le 29$, $K = 128$, 2 seeds, 1000 epochs, lr $10^{-2}$, weight decay $10^{-3}$).
#
# | claim | paper | computed (CPU profile) | likely reason |
# |---|---|---|---|
# | Fig. 5: the boundary falls with $M$ | yes | yes: Spearman$(M, p_{\rm crit}) = -0.97$ over the 11 cyclic groups | — |
# | Fig. 5: $p_{\rm crit} = c\ln M/M$, dotted line | no constant stated; author's code $c = 2.7482$ | $c = 2.57 \pm 0.04$ (mean over 22 groups ± s.e. across groups; seed bootstrap $[2.55, 2.59]$); $2.67$ at epoch 500, $3.05$ at epoch 200 | a fixed-epoch sweep measures "generalized within $T$ epochs": $c$ falls as $T$ grows, and it depends on weight decay and width; the seed bootstrap does not cover this systematic |
# | collapse: $p_{\rm crit}M/\ln M$ flat in $M$ | yes | slope of $c_M$ vs $\ln M$: $-0.01 \pm 0.14$ (all groups), $+0.05 \pm 0.13$ (cyclic): flat | consistent, but $M$ spans only 10–29 here |
# | non-Abelian groups need $d_k^2 = 4\times$ the samples (Thm 4) | author's code: $c_{\rm corr} = d_{\max}/2 = 1$ | $c_{\text{non-Abelian}}/c_{\text{cyclic}} = 1.03$ | the author's linear correction matches; Theorem 4's $d_k^2$ is an upper bound |
# | products of cyclic groups | on the same curve | $c = 2.36 \pm 0.09$, below the cyclic $2.60$ (groups with several $\mathbb Z_2$ factors generalize with fewer pairs) | not explained by the theorem; 4 of the paper's 8 products are cyclic groups in disguise (coprime factors) |
# | Thm 4 directly: Fourier maxima of $\hat{\mathcal E}$ survive once $p \gtrsim \ln M/M$ | yes (no constant) | survival boundary $p_s$ = 0.70, 0.67, 0.64, 0.60, 0.57 for $M$ = 11, 17, 23, 31, 41; $p_sM/\ln M$ grows from 3.2 to 6.2 (log-log slope of $p_s$ $-0.17$, $\ln M/M$ would give $-0.67$); $p_s$ lies well above the training boundary of the same $\mathbb Z_M$ | asymptotic statement with an unspecified constant; at these $M$ the exact maxima dissolve at data sizes where trained networks still generalize, so Fig. 5's boundary is not the survival boundary of the exact maxima |
# | Fig. 6: small lr makes generalizing solutions more likely | yes | large lr: yes (share generalized 1.0 at lr $10^{-2}$–$3\times10^{-2}$, 0 at $\ge 0.1$); smallest lr $3\times10^{-3}$: 0.5 at epoch 1000, 0 at epoch 500 | at a fixed epoch budget a small lr has not finished; "smaller is better" holds down to the lr that converges within the budget |
# | Fig. 7: memorization solutions have much higher $\mathcal E$ | yes | the reference maxima agree (Thm 5 memorization nodes $\mathcal E = 2.37$ vs Fourier maxima 0.93 on the same rows), but the trained non-generalizing nets do not end there: active nodes' $\mathcal E$ 1.11 at lr 0.1–0.2 (vs 1.02 for generalizing runs), 0.70 at lr 0.4 | at $K = 128$ the failed runs are mixtures of partly Fourier nodes (purity ~0.5), not memorization maxima; the paper does not say how it normalises $\mathcal E$ (we use unit-norm active nodes on the training rows) |
#
# **Products of cyclic groups.** $\mathbb Z_4\times\mathbb Z_7 \cong \mathbb Z_{28}$,
# $\mathbb Z_5\times\mathbb Z_6\cong\mathbb Z_{30}$, $\mathbb Z_{13}\times\mathbb Z_{11}\cong\mathbb Z_{143}$ and
# $\mathbb Z_3\times\mathbb Z_2\times\mathbb Z_{17}\cong\mathbb Z_{102}$ (pairwise coprime orders) are cyclic groups
# with relabelled elements.
#
# **Protocol.** Everything above is at a fixed epoch budget, with the optimizer, activation and loss chosen by
# us (the paper does not state them for Fig. 5). The boundary is where the *seed mean* crosses 0.5; with
# 2 seeds per point in the CPU profile, the bootstrap over seeds is coarse and the spread across groups is the
# more honest uncertainty of $c$.
