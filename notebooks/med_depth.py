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
# # Deeper transformers: test-accuracy fluctuation and MED (MED Fig. 2)
#
# **Claim ({cite:t}`gu2025beyond`, §5 and Fig. 2).** With more transformer layers, test accuracy "fluctuates
# violently" while MED keeps decreasing. The authors read this as evidence for a conjecture of §5: the transformer
# stores what it learned on the training set in regions of representation space that are convexly separable on a
# subspace, and with more layers these regions fragment. The paper's text gives neither the layer counts of Fig. 2 nor
# its task, split or epochs (paper-med §7). The likely source is the authors' `transformer/base.py`, whose defaults
# are 2 layers, addition, $p$ = 97, a random half of the pairs for training and split seed 11.
#
# :::{prf:theorem} MED Thm 3.5: mastered pairs concentrate around class vectors
# :label: med-thm-3-5
# :nonumber:
#
# If the model has mastered the pairs $A\times B$ (it answers all of them right), then for every pair
# $\lVert\phi(i)+\phi(j)-k_{r(i,j)}\rVert<\delta_{r(i,j)}$ for class vectors $k_r$ and radii $\delta_r$. Here
# $\phi(i)+\phi(j)$ stands for the sum after the model's maps ($l'(\phi(i)) + l''(\phi(j))$ through a truncation, in
# the proof of App. A); the paper calls it a reformulation of Liu et al.'s parallelogram condition. (The exact
# hypotheses could not be read, paper-med §7.)
# :::
#
# **What we compute.** We train 1-layer, 2-layer and deeper versions of the MED authors' transformer
# (`li2core.train.med_config`: 4 heads, ReLU, no LayerNorm, AdamW with betas (0.9, 0.98), a 10-step warm-up,
# cross-entropy, full batch, the authors' random split). All depths use the same task and, seed by seed, the same
# split and the same embedding at initialisation. At every evaluation (every {glue:text}`eval_every` epochs) we
# record test accuracy, test loss and MED as Def. 4.2 defines it (cyclic, with the 1/p, on the first operand's
# embedding rows; see [the MED chapter](med_progress.ipynb)). These rules were fixed in
# `li2core.chapters.med_depth` before any fluctuation number was computed:
#
# * **The window** of a run starts at its first evaluation with every training pair right and ends at its last
#   evaluation.
# * **Fluctuation** of test accuracy $a_0,\dots,a_K$ on the window:
#   $\big(\sum_k \lvert a_{k+1}-a_k\rvert - \lvert a_K-a_0\rvert\big)/K$. This is the total variation in excess of
#   the net change, per evaluation interval. It is 0 for a curve that only rises (a clean grokking jump counts
#   nothing) and twice the summed drops per interval for a curve that ends above its start. Beside it we show the
#   plain mean absolute change $\sum_k \lvert a_{k+1}-a_k\rvert/K$ (which also counts a steady rise) and the largest
#   single drop.
# * **MED keeps decreasing** when it falls in more than {glue:text}`fall_thr:g` of the window's intervals and ends
#   the window below its value at the window's start.
# * **Thm 3.5 after the model's maps.** The representation is the residual stream at the cls position after the
#   last block, the vector the unembedding reads. We obtain it with the library's forward pass with $W_U$ replaced by
#   the identity. Its spread is `li2core.measures.parallelogram_spread`: per class $r$, the radius
#   $\delta_r = \max \lVert h - k_r\rVert$ around the class centroid $k_r$, averaged over the classes and divided by
#   the mean distance between centroids. (On the raw sums $\phi(i)+\phi(j)$ of addition this ratio is degenerate:
#   over all pairs every class centroid is $2\,\mathrm{mean}(\phi)$.)
#
# **Settings of this build** ({glue:md}`profile` profile): {glue:md}`settings_md`. {glue:md}`departures_md`

# %% tags=["parameters"]
p = 31  # the prime; the task is op over Z_p (the likely Fig. 2 setting, base.py: 97)
op = "add"
depths = [1, 2, 3]  # transformer layers (Fig. 2's counts are not known)
seeds = 2  # seeds 0..seeds-1 per depth (a seed fixes the split and the initialisation)
epochs = 400  # full-batch AdamW steps
train_frac = 0.7  # training fraction of the p^2 pairs (base.py: 0.5)
lr = 3e-3  # AdamW learning rate (the paper: 1e-3)
weight_decay = 1.0  # AdamW weight decay (the paper's)
d_model = 32  # residual width (the paper: 128)
width = 128  # d_mlp, the MLP's hidden width (the paper: 512)
n_heads = 4
eval_every = 10  # evaluate every this many epochs: the interval of the fluctuation measure
threads = 1  # torch threads (one thread avoids contention on a shared 2-core machine); 0: the default
device = "auto"
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/med_depth"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["med_depth_curves", "med_depth_measures"]  # declared outputs (PNG + CSV)

import time

import torch

import li2core
from li2core import pages
from li2core.chapters import med_depth as ch
from li2core.checks import Checks
from li2core.pages import fmt_num, fmt_range, frame_markdown

t_start = time.time()
checks = Checks("med_depth", strict=strict)
if threads:
    torch.set_num_threads(int(threads))
torch.set_flush_denormal(True)
configs = ch.depth_configs(p, list(depths), seeds, epochs, train_frac, lr=lr, weight_decay=weight_decay,
                           d_model=d_model, width=width, n_heads=n_heads, eval_every=eval_every, op=op)
depths_ = sorted(int(L) for L in depths)
paper = dict(p=97, train_frac=0.5, lr=1e-3, weight_decay=1.0, d_model=128, width=512)
here = dict(p=p, train_frac=train_frac, lr=lr, weight_decay=weight_decay, d_model=d_model, width=width)
diff = [f"{k} {here[k]:g} (the paper's code: {v:g})" for k, v in paper.items() if here[k] != v]
pages.glue("departures_md", ("Departures from the authors' base.py: " + "; ".join(diff) + ". The learning rate and "
                             "the training fraction were chosen from single-seed probes of the 1-layer net, so that "
                             "it groks within a few hundred epochs on a CPU; the widths, the seeds and the epochs "
                             "were set for the book's time budget.") if diff else
          "These are the authors' base.py settings.")
pages.glue("settings_md", f"{op} over Z_{p}, a random {train_frac:g} of the {p * p} pairs for training, "
                          f"{', '.join(str(L) for L in depths_)} layers, {seeds} seeds per depth, {epochs} epochs, "
                          f"AdamW lr {lr:g} and weight decay {weight_decay:g}, d_model {d_model}, d_mlp {width}, "
                          f"{n_heads} heads, evaluation every {eval_every} epochs")
for name, value in dict(eval_every=eval_every, fall_thr=ch.FALL_SHARE, profile=profile, epochs=epochs, seeds=seeds,
                        n_runs=len(configs)).items():
    pages.glue(name, value)
print(f"profile={profile}: {len(configs)} runs ({len(depths_)} depths x {seeds} seeds), {epochs} epochs")

# %% [markdown]
# ## 1. Training curves at every depth (MED Fig. 2)
# One `li2core.train` call trains all {glue:text}`n_runs` runs (one tensor program per depth).

# %%
t0 = time.time()
res = li2core.train(configs, device=device, metrics=ch.RUN_METRICS, snapshots=[0])
print(f"{len(configs)} runs on {res.device} in {time.time() - t0:.1f} s")
frame = res.frame()
runs = ch.run_frame(frame)
summ = ch.depth_summary(runs)
by_L = summ.set_index("n_layers")
fit_md = "; ".join(f"{L} layer{'s' if L > 1 else ''}: {fmt_range(d['fit_epoch'], 3)}"
                   for L, d in runs.groupby("n_layers"))
acc_md = "; ".join(f"{L} layer{'s' if L > 1 else ''}: {fmt_range(d['final_test_acc'], 2)}"
                   for L, d in runs.groupby("n_layers"))
fitted = runs["fit_epoch"].notna()
grokked = runs["final_test_acc"] >= ch.GROK_THRESHOLD
pages.glue("fit_md", fit_md)
pages.glue("acc_md", acc_md)
pages.glue("n_fit", int(fitted.sum()))
pages.glue("grok_thr", ch.GROK_THRESHOLD)
pages.glue("grok_md", "; ".join(f"{L} layer{'s' if L > 1 else ''}: {int(g.sum())} of {len(g)}"
                                for L, g in grokked.groupby(runs["n_layers"])))

# %% [markdown]
# {glue:text}`n_fit` of {glue:text}`n_runs` runs get every training pair right; their windows start at epochs
# {glue:md}`fit_md`. The final test accuracy is {glue:md}`acc_md`. Runs that end at test accuracy
# {glue:text}`grok_thr:g` or more: {glue:md}`grok_md`.
#
# ```{glue:figure} med_depth_curves
# :name: fig-med-depth-curves
# :alt: A grid with one column per depth: test accuracy (solid) and train accuracy (dotted), MED of Def. 4.2, and test loss on a log axis against the epoch, one colour per seed, with dashed grey vertical lines where each run's window starts.
# :figwidth: 100%
#
# **MED Fig. 2 at this build's size.** Columns: depth. Rows: test accuracy (solid; train accuracy dotted), MED (Def.
# 4.2) and test loss (log axis), one colour per seed; dashed grey: the start of each run's window (every training
# pair right).
# {download}`Data (CSV) <../figures/med_depth/med_depth_curves.csv>` ·
# {download}`image (PNG) <../figures/med_depth/med_depth_curves.png>`
# ```

# %%
pages.show_figure(ch.depth_curves(frame, runs), out_dir, "med_depth_curves", ch.depth_curves_data(frame, runs))

# %% [markdown]
# ## 2. Fluctuation of test accuracy and the fall of MED, per run
# Per run, on its window: the number of evaluation intervals, the fluctuation, the mean absolute change and the
# largest drop of test accuracy, and the final and best test accuracy:

# %%
pages.show_markdown(frame_markdown(runs[["n_layers", "seed", "fit_epoch", "intervals", "fluctuation",
                                         "mean_abs_change", "largest_drop", "final_test_acc", "best_test_acc"]],
                                   digits=3))

# %% [markdown]
# and for MED: its value at the window's start and end, their ratio, the share of intervals in which it falls, its
# least-squares slope per 1000 epochs, the embedding norm's end / start ratio, the MED ratio divided by that (1 when
# MED shrinks only with the embedding's scale), and the Spearman correlation of MED with the test loss on the
# window:

# %%
pages.show_markdown(frame_markdown(runs[["n_layers", "seed", "med_fit", "med_end", "med_ratio", "med_fall_share",
                                         "med_slope", "emb_ratio", "med_norm_ratio", "rho_med_test_loss"]],
                                   digits=3))
fl = by_L["fluctuation_median"]


def per_depth(col, digits=2):
    """'1 layer: x (a–b); 2 layers: ...' for a run-frame column: the median over the seeds and the range."""
    return "; ".join(f"{L} layer{'s' if L > 1 else ''}: {fmt_num(d[col].median(), digits)} "
                     f"({fmt_range(d[col], digits)})" for L, d in runs.groupby("n_layers"))


pages.glue("fluct_md", per_depth("fluctuation"))
pages.glue("mac_md", per_depth("mean_abs_change"))
pages.glue("drop_md", per_depth("largest_drop"))
pages.glue("fall_md", per_depth("med_fall_share"))
pages.glue("ratio_md", per_depth("med_ratio", 3))
pages.glue("emb_md", per_depth("emb_ratio", 3))
pages.glue("rho_md", per_depth("rho_med_test_loss"))
pages.glue("norm_md", per_depth("med_norm_ratio", 3))

# %% [markdown]
# The fluctuation of test accuracy (median over the seeds, with the range) is {glue:md}`fluct_md`. The mean absolute
# change is {glue:md}`mac_md`, and the largest single drop {glue:md}`drop_md`. MED falls in a share
# {glue:md}`fall_md` of the window's intervals and ends at {glue:md}`ratio_md` times its value at the window's
# start. The embedding norm ends at {glue:md}`emb_md` times its start, and MED relative to that scale at
# {glue:md}`norm_md`: where this is near 1, the fall of MED is the embedding shrinking under weight decay rather
# than its rows moving closer in order. On the window, MED's Spearman correlation with the test loss is
# {glue:md}`rho_md`.
#
# ```{glue:figure} med_depth_measures
# :name: fig-med-depth-measures
# :alt: Three panels against the number of layers, one marker per seed and lines through the medians: the fluctuation (filled circles) and the mean absolute change (open squares) of test accuracy per interval; the share of intervals in which MED falls, with a dashed line at one half; the final spread of the cls residual over training pairs (filled) and test pairs (open).
# :figwidth: 100%
#
# **The measures against depth.** (a) Fluctuation of test accuracy on the window (filled) and its mean absolute
# change (open), per evaluation interval of {glue:text}`eval_every` epochs. (b) Share of the window's intervals in
# which MED falls; dashed: the threshold {glue:text}`fall_thr:g`. (c) The final Thm 3.5 spread of the cls residual
# over the training pairs (filled) and the test pairs (open).
# {download}`Data (CSV) <../figures/med_depth/med_depth_measures.csv>` ·
# {download}`image (PNG) <../figures/med_depth/med_depth_measures.png>`
# ```

# %%
spread = ch.spread_frame(res)
pages.show_figure(ch.depth_measures(runs, spread), out_dir, "med_depth_measures",
                  ch.depth_measures_data(runs, spread))

# %% [markdown]
# ## 3. Thm 3.5 on the cls residual
# Per run, the spread of the cls residual over the training pairs, the test pairs and all pairs, at initialisation
# and after the last epoch:

# %%
wide = spread.pivot_table(index=["n_layers", "seed"], columns="stage",
                          values=["spread_train", "spread_test", "spread_all"])
wide.columns = [f"{m.replace('spread_', '')} ({s})" for m, s in wide.columns]
wide = wide[[f"{m} ({s})" for m in ("train", "test", "all") for s in ("init", "final")]]
pages.show_markdown(frame_markdown(wide, digits=3, index=True))
fin = spread[spread["stage"] == "final"].set_index("run")
ini = spread[spread["stage"] == "init"].set_index("run")
shrink = (fin["spread_train"] / ini["spread_train"])
pages.glue("spread_init_md", fmt_range(ini["spread_train"], 3))
pages.glue("spread_final_md", "; ".join(
    f"{L} layer{'s' if L > 1 else ''}: {fmt_range(d['spread_train'], 3)}" for L, d in fin.groupby("n_layers")))
pages.glue("spread_test_md", "; ".join(
    f"{L} layer{'s' if L > 1 else ''}: {fmt_range(d['spread_test'], 3)}" for L, d in fin.groupby("n_layers")))
pages.glue("shrink_md", fmt_range(shrink, 2))
pages.glue("spread_verdict_md", "In every run the training pairs' representations end more concentrated around "
           "their class centroids than at initialisation, as Thm 3.5 says of mastered pairs" if shrink.max() < 1 else
           "In some runs the training pairs' representations are not more concentrated than at initialisation")

# %% [markdown]
# A spread above 1 means the class radii exceed the mean distance between class centroids. At initialisation the
# training pairs' spread is {glue:md}`spread_init_md`. After training it is {glue:md}`spread_final_md`, and over
# the test pairs {glue:md}`spread_test_md`; final / initial over the training pairs: {glue:md}`shrink_md`.
# {glue:md}`spread_verdict_md`. Thm 3.5 gives no size for the radii; the table shows how the final spread varies
# with depth and with how far a run has generalised.
#
# **What this size cannot show.** This build trains {glue:text}`epochs` epochs with {glue:text}`seeds` seeds per
# depth (settings above). Runs that end at test accuracy {glue:text}`grok_thr:g` or more: {glue:md}`grok_md`. Where
# a deeper net has not grokked by the end, the fluctuation measured on its window is that of the slow approach to
# grokking (Adam's training-loss spikes and the test-accuracy dips that come with them), not a late oscillation after
# grokking of the kind long runs at $p$ = 97 can show. A curve near its ceiling also has less room to fluctuate, so
# the comparison across depths mixes depth with how far a run has got. A few seeds give only a rough ordering, and
# the fluctuation depends on the evaluation interval. The paper profile
# (`book/profiles/paper.yml`, for a GPU) uses the authors' base.py settings, with more layers, seeds and epochs. The
# separability test of §5 (convex separability of the class regions on a subspace) is not run here.

# %% [markdown]
# ## Deviations from the paper
# These are collected, with the other chapters' deviations, on [the Notes page](notes_on_the_paper.ipynb). They are
# declared for this book's ci setting; at another setting such a row is an undeclared claim, and if a declared
# deviation no longer shows, its row turns into a FAIL, which says that this page must be revisited.

# %%
#: The settings (p, epochs, seeds) at which "test accuracy fluctuates more with more layers" is declared not to hold
#: (static: this book's ci setting, seen at build). The reason is written from the measured numbers.
DEV_FLUCT = {(31, 400, 2)}
#: The epochs of a probe of the ci setting (all depths, the same seeds) run before the epochs were cut to 400 for the
#: book's time budget; in it the median fluctuation grew with depth (not recomputed here).
CI_PROBE_EPOCHS = 500
declared = (p, epochs, seeds) in DEV_FLUCT
fl_med = [float(fl[L]) for L in depths_]


def fluct_reason():
    top = runs[runs["n_layers"] == depths_[-1]]
    per_run = "; ".join(f"seed {int(r.seed)}: fluctuation {fmt_num(r.fluctuation, 2)}, largest drop "
                        f"{fmt_num(r.largest_drop, 2)}, final test accuracy {fmt_num(r.final_test_acc, 2)}"
                        for r in top.itertuples())
    return ("the median fluctuation per depth is "
            + ", ".join(f"{fmt_num(v, 2)} ({L} layer{'s' if L > 1 else ''})" for L, v in zip(depths_, fl_med))
            + f", not increasing; the {depths_[-1]}-layer runs: {per_run}. Likely reason: within {epochs} epochs "
            "the deeper nets are still on their slow rise of test accuracy, and a run's fluctuation depends on "
            "whether one of Adam's training-loss spikes (the dips of the dotted training accuracy in the first "
            f"figure) and the test-accuracy dip it brings fall inside its window; {seeds} seeds per depth cannot "
            f"average that out. A probe of this setting with {CI_PROBE_EPOCHS} epochs, run before the epochs were "
            "cut for the time budget, did give a fluctuation growing with depth: at this size the ordering depends "
            "on the budget")


if declared:
    pages.show_markdown(f"```{{admonition}} Deviation: at this size test accuracy does not fluctuate more with every "
                        f"added layer\n:class: warning\n**Claim (§5, Fig. 2):** with more layers test accuracy "
                        f"fluctuates violently. **Computed:** {fluct_reason()}.\n```")
else:
    pages.show_markdown("None is declared at this setting.")

# %% tags=["checks"]
checks.add("every run gets every training pair right within the budget (runs with a window, of all)",
           f"{int(fitted.sum())} of {len(runs)}", bool(fitted.all()), threshold="all", source="fixed before looking",
           paper="— (the window needs a fitted run)")
checks.add("MED Fig. 2: test accuracy fluctuates more with more layers (median fluctuation over the seeds, per "
           "depth)", {f"{L} layer{'s' if L > 1 else ''}": v for L, v in zip(depths_, fl_med)},
           ch.strictly_increasing(fl_med),
           threshold="strictly increasing in depth", source="paper",
           paper="test accuracy fluctuates violently as layers increase", fmt=".4f",
           deviation=fluct_reason() if declared else None)
one, deep = runs[runs["n_layers"] == depths_[0]], runs[runs["n_layers"] > depths_[0]]
gap = float(deep["fluctuation"].min() - one["fluctuation"].max()) if len(deep) else float("nan")
checks.add(f"MED Fig. 2: every deeper run fluctuates more than every {depths_[0]}-layer run (least deeper "
           f"fluctuation minus largest {depths_[0]}-layer fluctuation)", gap, gap > 0, threshold="> 0",
           source="paper", paper="test accuracy fluctuates violently as layers increase", fmt=".4f",
           deviation=fluct_reason() if declared else None)
for L in depths_:
    d = runs[runs["n_layers"] == L]
    checks.add(f"MED Fig. 2, {L} layer{'s' if L > 1 else ''}: MED keeps decreasing on the window: least share of "
               "intervals in which it falls, over the seeds", float(d["med_fall_share"].min()),
               float(d["med_fall_share"].min()) > ch.FALL_SHARE, threshold=f"> {ch.FALL_SHARE:g}",
               source="fixed before looking", paper="MED keeps decreasing", fmt=".3f")
    checks.add(f"MED Fig. 2, {L} layer{'s' if L > 1 else ''}: MED ends the window below its start (largest ratio "
               "end / start over the seeds)", float(d["med_ratio"].max()), float(d["med_ratio"].max()) < 1,
               threshold="< 1", source="paper", paper="MED keeps decreasing", fmt=".3f")
checks.add("MED Thm 3.5: the mastered training pairs' cls residuals concentrate around class vectors: largest "
           "ratio final / initial spread over the runs", float(shrink.max()), float(shrink.max()) < 1,
           threshold="< 1", source="theory", paper="||phi(i)+phi(j) - k_r|| < delta_r once A x B is mastered",
           fmt=".3f")
checks.finish(out_dir)

# %%
pages.rerun_box("med_depth", globals(), profile, time.time() - t_start)
