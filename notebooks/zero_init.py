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
# # Zero-init of the top layer (Sec. 3.2, Figs. 14–16)
#
# **Claim ({cite:t}`tian2025li2`, Sec. 3.2, Figs. 14–16).** With $V(0) = 0$, Eq. 3 says that in the lazy stage
# $G_F(t) \approx t\,\tilde Y\tilde Y^\top\tilde F$ carries only the signal term from the start (the default init adds
# a term $-\tilde F V(0)V(0)^\top$ that carries no label information), so feature learning starts earlier: in
# Figs. 14–16 ($M$ = 41, 89, 127) zero-init (blue) groks faster than the default initialisation (red), "in particular
# when data are scarce". Stated settings (Fig. 16): Adam, lr 0.005, weight decay $5\times10^{-5}$, $K = 1024$,
# $\sigma = x^2$, MSE loss, the author's `top_layer_init_multiplier` $\in \{0, 1\}$. **Not stated:** the data
# fractions of the panels, the epochs and the seeds; we choose them below and say so. (Fig. 17's "often about 10×
# faster" is for deeper nets; it is checked in the deep-networks chapter.)
#
# **What we compute.** For every group order $M$ and training fraction $p$ of the grid, {glue:text}`seeds` seeds, each
# trained twice from the same split and the same $W(0)$: once with the default $V(0) \sim U(\pm1/\sqrt K)$ and once
# with $V(0) = 0$ (`TrainConfig(top_layer_init_multiplier=0)`). **The grokking epoch** of a run is its first evaluation
# (every {glue:text}`eval_every` epochs) with test accuracy $\ge$ {glue:text}`grok_thr` (fixed before looking, the
# sweep store's rule). Per seed we form the ratio default / zero-init of the two grokking epochs; a run that never
# groks within {glue:text}`epochs` epochs is counted at the last epoch, which turns the ratio into a bound (marked as
# such). Because short runs at scarce data often end before either init groks, we also compare the mean test accuracy
# over the run (the area under the test-accuracy curve divided by its length), which needs no grokking epoch. Finally
# the Stage I link: the direction of $G_F(t)$ (Eq. 2 on the training rows, `li2core.theory.G_F`) in the first epochs,
# against the signal term $\tilde Y\tilde Y^\top\tilde F(t)$ (`li2core.theory.signal_direction`).
#
# **Settings.** $\mathbb Z_M$ with the grid {glue:md}`grid_md`, $K$ = {glue:text}`K`, Adam lr {glue:text}`lr:g`,
# weight decay {glue:text}`wd:g`, $x^2$, the author's `mse` loss (`mse_class`), {glue:text}`epochs` full-batch epochs.
# **Profile:** {glue:md}`profile`.

# %% tags=["parameters"]
grid = {"23": [0.5, 0.6, 0.7], "41": [0.45, 0.5, 0.6]}  # group order M -> training fractions p = n / M^2
width = 256  # hidden width K (the paper: 1024)
seeds = 3  # seeds 0..seeds-1 per (M, p, init)
epochs = 800  # full-batch optimizer steps
lr = 5e-3  # Adam, as Fig. 16
weight_decay = 5e-5
activation = "sqr"
loss = "mse_class"
eval_every = 10  # accuracy every this many epochs (the resolution of the grokking epoch)
align_epochs = [1, 2, 5, 10, 20]  # snapshots for the Stage I link (G_F against the signal term)
threads = 1  # torch threads (one thread avoids contention on a shared 2-core machine); 0: the default
device = "auto"
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/zero_init"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["zero_init_curves", "zero_init_epochs", "zero_init_alignment"]  # declared outputs (PNG + CSV)

import time

import numpy as np
import torch

import li2core
from li2core import pages
from li2core.chapters import zero_init as ch
from li2core.checks import Checks
from li2core.pages import frame_markdown

t_start = time.time()
checks = Checks("zero_init", strict=strict)
if threads:
    torch.set_num_threads(int(threads))
if not isinstance(grid, dict) or not grid:
    raise ValueError(f"grid: must map group orders M to lists of training fractions; got {grid!r}")
Ms = sorted(int(M) for M in grid)
configs = [c for M in Ms for c in ch.zero_init_configs([M], grid[str(M)] if str(M) in grid else grid[M], width, seeds,
                                                        epochs, lr, weight_decay, activation, loss, eval_every)]
snaps = sorted({int(t) for t in align_epochs})
if not snaps or snaps[0] < 1 or snaps[-1] > epochs:
    raise ValueError(f"align_epochs: need epochs in 1..{epochs}; got {align_epochs!r}")
grid_md = "; ".join(f"$M$ = {M}: $p$ ∈ {{{', '.join(f'{f:g}' for f in (grid[str(M)] if str(M) in grid else grid[M]))}}}"
                    for M in Ms)
for name, value in dict(seeds=seeds, eval_every=eval_every, grok_thr=ch.GROK_THRESHOLD, epochs=epochs, K=width,
                        lr=lr, wd=weight_decay, grid_md=grid_md, profile=profile, M_top=Ms[-1],
                        Ms_md="{" + ", ".join(str(M) for M in Ms) + "}").items():
    pages.glue(name, value)
print(f"profile={profile}: {len(configs)} runs, K={width}, {epochs} epochs, grid {grid}")

# %% [markdown]
# ## 1. Grokking epochs, default init against zero-init
# All runs share one batched `li2core.train` call. Per $(M, p)$: how many seeds grokked with each init, the median
# grokking epochs, and the paired ratio default / zero-init over the seeds where both grokked (median, min–max);
# `bound_median` counts a run that never grokked at its last epoch; `acc_gap` is zero-init's mean test accuracy
# over the run minus the default's (mean over seeds).

# %%
t0 = time.time()
res = li2core.train(configs, device=device, metrics="basic", snapshots=snaps)
print(f"{len(configs)} runs on {res.device} in {time.time() - t0:.1f} s")
grok = ch.grok_frame(res)
ratios = ch.ratio_frame(grok)
summ = ch.ratio_summary(ratios)
pages.show_markdown(frame_markdown(summ, digits=3))
exact = ratios["ratio"].dropna()
fit_min = float(grok["final_train_acc"].min())
bound_cells = summ.dropna(subset=["bound_median"])
pages.glue("n_runs", len(configs))
pages.glue("ratio_pool", float(exact.median()) if len(exact) else float("nan"))
pages.glue("ratio_lo", float(exact.min()) if len(exact) else float("nan"))
pages.glue("ratio_hi", float(exact.max()) if len(exact) else float("nan"))
pages.glue("n_pairs", int(len(exact)))
pages.glue("zero_only", int((ratios["zero"].notna() & ratios["default"].isna()).sum()))
pages.glue("default_only", int((ratios["default"].notna() & ratios["zero"].isna()).sum()))
pages.glue("neither", int((ratios["default"].isna() & ratios["zero"].isna()).sum()))
pages.glue("n_seed_pairs", int(len(ratios)))

# %% [markdown]
# Over the {glue:text}`n_pairs` seed pairs in which both inits grokked, the ratio default / zero-init has median
# {glue:text}`ratio_pool:.2f` (range {glue:text}`ratio_lo:.2f`–{glue:text}`ratio_hi:.2f`). Of the
# {glue:text}`n_seed_pairs` pairs, {glue:text}`zero_only` grokked only with zero-init, {glue:text}`default_only` only
# with the default init, and {glue:text}`neither` with neither within {glue:text}`epochs` epochs.
#
# ```{glue:figure} zero_init_curves
# :name: fig-zero-init-curves
# :alt: Panels, one per training fraction at the largest group order of this build, of test accuracy (solid) and training accuracy (dotted) against the epoch; red lines for the default initialisation and blue for zero-init, one line per seed, with a dashed grey line at the grokking threshold.
# :figwidth: 100%
#
# **Figs. 14–16 at this build's size: $\mathbb Z_{M}$ with $M$ = {glue:text}`M_top`.** Test (solid) and training
# (dotted) accuracy of every seed; red: default init, blue: $V(0) = 0$; grey dashed: the grokking threshold.
# {download}`Data (CSV) <../figures/zero_init/zero_init_curves.csv>` ·
# {download}`image (PNG) <../figures/zero_init/zero_init_curves.png>`
# ```

# %%
pages.show_figure(ch.zero_init_curves(res.frame(), Ms[-1]), out_dir, "zero_init_curves",
                  ch.zero_init_curves_data(res.frame()))

# %% [markdown]
# ```{glue:figure} zero_init_epochs
# :name: fig-zero-init-epochs
# :alt: One panel per group order: grokking epoch against the training fraction, one marker per seed for the default initialisation (red) and zero-init (blue), open markers at the last epoch for runs that did not grok, lines through the medians.
# :figwidth: 100%
#
# **Grokking epochs against the training fraction.** One marker per seed (red default, blue zero-init); an open marker
# at the last epoch: that run did not grok; lines: medians over the seeds that grokked.
# {download}`Data (CSV) <../figures/zero_init/zero_init_epochs.csv>` ·
# {download}`image (PNG) <../figures/zero_init/zero_init_epochs.png>`
# ```

# %%
pages.show_figure(ch.zero_init_epochs(grok), out_dir, "zero_init_epochs", ch.zero_init_epochs_data(grok))

# %% [markdown]
# ## 2. The Stage I link: $G_F$ starts along the signal term
# At $t = 0$ zero-init has $G_F = 0$ exactly (Eq. 2 with $V = 0$). At the snapshot epochs {glue:md}`snaps_md`
# we take the cosine of $G_F(t)$ with $\tilde Y\tilde Y^\top\tilde F(t)$. Eq. 3 is derived for gradient flow; Adam's
# first steps move every entry of $V$ by about the learning rate in the direction of the sign of its gradient, so
# the zero-init cosine is not 1 even at $t = 1$. At epoch {glue:text}`t_first` the zero-init cosine is
# {glue:text}`cos_zero_lo:.3f`–{glue:text}`cos_zero_hi:.3f` over the runs, the default init's
# {glue:text}`cos_def_lo:.3f`–{glue:text}`cos_def_hi:.3f`.

# %%
align = ch.early_alignment(res, snaps)
first = align[align["epoch"] == snaps[0]]
cz, cd = first[first["init"] == 0.0]["cos"], first[first["init"] == 1.0]["cos"]
pages.glue("snaps_md", ", ".join(str(t) for t in snaps))
pages.glue("t_first", snaps[0])
for k, v in dict(cos_zero_lo=cz.min(), cos_zero_hi=cz.max(), cos_def_lo=cd.min(), cos_def_hi=cd.max()).items():
    pages.glue(k, float(v))
pair = first.pivot_table(index=["M", "train_frac", "seed"], columns="init", values="cos")
align_margin = float((pair[0.0] - pair[1.0]).min())
pages.show_markdown(frame_markdown(align.groupby(["epoch", "init"])["cos"].agg(["min", "median", "max"]).reset_index(),
                                   digits=3))

# %% [markdown]
# ```{glue:figure} zero_init_alignment
# :name: fig-zero-init-alignment
# :alt: Cosine between the backpropagated gradient G_F and the signal term Y-tilde Y-tilde-transpose F-tilde against the epoch on a log axis, one line per run, red for the default initialisation and blue for zero-init.
# :figwidth: 100%
#
# **The Stage I link.** $\cos(G_F(t), \tilde Y\tilde Y^\top\tilde F(t))$ in the first epochs of every run (red default,
# blue zero-init).
# {download}`Data (CSV) <../figures/zero_init/zero_init_alignment.csv>` ·
# {download}`image (PNG) <../figures/zero_init/zero_init_alignment.png>`
# ```

# %%
pages.show_figure(ch.zero_init_alignment(align), out_dir, "zero_init_alignment", ch.zero_init_alignment_data(align))

# %% [markdown]
# **What this size cannot show.** The ci profile trains $K$ = {glue:text}`K` (the paper: 1024) for
# {glue:text}`epochs` epochs with {glue:text}`seeds` seeds, on $M$ ∈ {glue:md}`Ms_md` only (the paper: 41, 89, 127),
# and mostly at fractions at which at least one init groks within that budget; the scarcest fractions (where neither
# init groks within this budget), the paper's larger groups and the size of the effect at $K = 1024$ are left to the
# paper profile (`book/profiles/paper.yml`, for a GPU). With
# {glue:text}`seeds` seeds the ratios are known only roughly, and the grokking epoch has a resolution of
# {glue:text}`eval_every` epochs, so ratios near 1 at plentiful data are ties at that resolution.

# %% [markdown]
# ## Deviations from the paper
# These are collected, with the other chapters' deviations, on [the Notes page](notes_on_the_paper.ipynb). They are
# declared for this book's ci grid; at another grid such a row is an undeclared claim, and if a declared deviation no
# longer shows, its row turns into a FAIL, which says that this page must be revisited.

# %%
#: The group orders at which "in particular when data are scarce" is declared not to hold (static: this book's ci
#: grid, seen at build). The reason is written from the measured numbers.
DEV_SCARCE = {23}
by_M = {int(M): d.sort_values("train_frac") for M, d in summ.groupby("M")}


def scarce_reason(M):
    d = by_M[M]
    lo, hi, top = d.iloc[0], d.iloc[-1], d.loc[d["acc_gap"].idxmax()]
    return (f"at Z{M} the lead at the smallest fraction p = {lo['train_frac']:g} is "
            f"{pages.fmt_num(lo['acc_gap'], 3)} (seeds grokked within {epochs} epochs: default "
            f"{int(lo['default_grokked'])}, zero-init {int(lo['zero_grokked'])} of {int(lo['seeds'])}), below the "
            f"{pages.fmt_num(hi['acc_gap'], 3)} at p = {hi['train_frac']:g}; the lead is largest at p = "
            f"{top['train_frac']:g}, and the paired grokking-epoch ratio is not larger at smaller p either (medians "
            + ", ".join(f"{pages.fmt_num(r, 3)} at p = {f:g}" for f, r in zip(d["train_frac"], d["ratio_median"])
                        if r == r)
            + f"). Likely reason: at the scarcest fraction neither init groks within this budget (K = {width}, "
            f"{epochs} epochs)")


for M in sorted(DEV_SCARCE & set(by_M)):
    pages.show_markdown(f"```{{admonition}} Deviation: at Z{M} zero-init's advantage is not largest at the scarcest "
                        f"data\n:class: warning\n**Claim (Sec. 3.2, Figs. 14–16):** zero-init groks faster, in "
                        f"particular when data are scarce. **Computed:** {scarce_reason(M)}.\n```")

# %% tags=["checks"]
checks.add("every run fits its training set (least final training accuracy)", fit_min, fit_min >= 0.95,
           threshold="≥ 0.95", source="fixed before looking", paper="— (both inits memorise)", fmt=".3f")
checks.add("zero-init groks no later than the default init: median ratio default / zero-init (bound where only one "
           "init grokked), least over the (M, p) cells where one grokked",
           float(bound_cells["bound_median"].min()), float(bound_cells["bound_median"].min()) >= 1,
           threshold="≥ 1", source="paper", paper="zero-init groks faster (Figs. 14–16)", fmt=".3f")
checks.add("zero-init groks faster: median of the exact ratios default / zero-init over all seed pairs",
           float(exact.median()), float(exact.median()) > 1, threshold="> 1", source="paper",
           paper="zero-init groks faster (Figs. 14–16)", fmt=".3f")
checks.add("zero-init groks in at least as many seeds as the default init, in every (M, p) cell (least difference)",
           int((summ["zero_grokked"] - summ["default_grokked"]).min()),
           int((summ["zero_grokked"] - summ["default_grokked"]).min()) >= 0, threshold="≥ 0", source="paper",
           paper="zero-init groks faster, in particular when data are scarce")
for M, d in by_M.items():
    lead = {f"p={f:g}": float(g) for f, g in zip(d["train_frac"], d["acc_gap"])}
    diff = float(d["acc_gap"].iloc[0] - d["acc_gap"].iloc[-1])
    checks.add(f"Z{M}, in particular when data are scarce: zero-init's lead in mean test accuracy over the run is "
               "larger at the smallest fraction of the grid than at the largest (leads per p)", lead, diff > 0,
               threshold="smallest p > largest p", source="paper", paper="in particular when data are scarce",
               fmt=".3f", deviation=scarce_reason(M) if M in DEV_SCARCE else None)
checks.add(f"Stage I (Eq. 3): at epoch {snaps[0]} G_F is closer to the signal term with zero-init than with the "
           "default init, for every seed (least paired difference of the cosines)", align_margin, align_margin > 0,
           threshold="> 0", source="paper", paper="with V(0) = 0, G_F carries only the signal term at first",
           fmt=".3f")
checks.finish(out_dir)

# %%
pages.rerun_box("zero_init", globals(), profile, time.time() - t_start)
