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
# # Stage II as gradient ascent on an energy (Theorem 1)
#
# **Claim ({cite:t}`tian2025li2`, Sec. 4.1, Eqs. 6–7, Thm 1).** Once Stage I has made the backpropagated gradient
# proportional to the signal term, $G_F \propto \tilde Y\tilde Y^\top F$ (Eqs. 3–5, {prf:ref}`Prop. 1 <prop-lazy>`
# and {prf:ref}`Lemma 1 <lem-lazy-structure>` in [the Stage I chapter](stage1_lazy.ipynb)), the hidden nodes learn
# *independently*: node $j$ follows
#
# $$\dot{\mathbf w}_j = X^\top D_j\,\mathbf g_j,\qquad \mathbf g_j \propto \tilde Y\tilde Y^\top\sigma(X\mathbf w_j),\qquad
# D_j = \mathrm{diag}\big(\sigma'(X\mathbf w_j)\big)\qquad\text{(Eq. 6)}$$
#
# and Theorem 1 identifies this as gradient ascent on one energy, whose local maxima are the features
# ({prf:ref}`Thm 2 <thm-maxima>`).
#
# :::{prf:theorem} Li₂ Thm 1: the energy function of independent feature learning
# :label: thm-energy
# :nonumber:
#
# The dynamics of Eq. 6 is exactly gradient ascent of the energy (Eq. 7)
#
# $$\mathcal E(\mathbf w) = \tfrac12\big\|\tilde Y^\top\sigma(X\mathbf w)\big\|_2^2 ,$$
#
# with gradient
#
# $$\nabla\mathcal E(\mathbf w) = X^\top D\,\tilde Y\tilde Y^\top\sigma(X\mathbf w),$$
#
# a nonlinear canonical correlation analysis between the inputs $X$ and the centred targets $\tilde Y$. In
# Stage II, weight decay is modelled by the constraint $\|\mathbf w\|_2 = 1$.
# :::
#
# **What we compute.**
#
# * **(a) The identity.** For random unit nodes on the training pairs of $\mathbb Z_M$: the library's analytic
#   $\nabla\mathcal E$ (`theory.energy_grad`, which never builds $X$) against central finite differences of
#   $\mathcal E$ (`theory.energy_grad_fd`), and against Eq. 6's right-hand side computed *literally* with the
#   explicit one-hot $X$ and $\tilde Y$ (`theory.eq6_rhs`).
# * **(b) Real training runs with the paper's loss.** Eq. 6 is derived for the loss of Eq. 1, so we train on it:
#   {prf:ref}`mse_sample <def-loss-sample>` (centred over the samples, a *sum* over samples, with the ½; see
#   [the setting](../setting.md)). For this loss, the gradient with respect to $F$ is exactly $G_F$ of Eq. 2.
#   Modular addition on $\mathbb Z_M$, $\sigma(x) = x^2$, full batch, two optimizers: Adam and SGD with momentum 0.9
#   (the library's `sgd`; both with coupled L2 weight decay). For every column $j$ of $W$ and every
#   {glue:text}`align_every` epochs $t$ we compare $\nabla\mathcal E(\mathbf w_j(t))$, with $\mathcal E$ on the
#   run's training pairs, with
#   1. the **negative loss gradient** $-\partial L/\partial\mathbf w_j$ (`theory.loss_grad`), whose column $j$ is
#      $X^\top D_j\mathbf g_j$ with $\mathbf g_j$ column $j$ of $G_F$. This tests the premise
#      $\mathbf g_j \propto \tilde Y\tilde Y^\top\sigma(X\mathbf w_j)$ independently of the optimizer. We also
#      measure the premise itself, in $F$ space: the cosine between $\mathbf g_j$ and
#      $\tilde Y\tilde Y^\top\sigma(X\mathbf w_j)$;
#   2. the **actual update** $\mathbf w_j(t+1) - \mathbf w_j(t)$. Adam's update is not the gradient direction
#      (per-coordinate preconditioning), hence the SGD runs. Both updates include the optimizer's weight decay,
#      which $-\partial L/\partial W$ does not.
#
#   Each cosine is reported raw and **on the sphere** ("tangent": both vectors projected on $\mathbf w_j^\perp$),
#   because Stage II constrains $\|\mathbf w_j\| = 1$. For $\sigma(x) = x^2$, $\mathcal E$ is homogeneous of degree 4,
#   so $\mathbf w^\top\nabla\mathcal E = 4\mathcal E > 0$: $\nabla\mathcal E$ always has a large radial part (growing
#   the norm), which says nothing about the *feature* a node learns. We also record how far each node is from a
#   critical point of $\mathcal E$ on the sphere ($\|\nabla_\perp\mathcal E\|/\|\nabla\mathcal E\|$, 0 at a critical
#   point), the nodes' Fourier purity, and the independence proxy of the paper's check,
#   $\mathrm{median}_{j\neq j'}|\cos(\mathbf g_j, \mathbf g_{j'})|$ over the columns of $G_F$.
#
# **Learning rates and weight decays for a summed loss.** The `mse_sample` loss is a sum over the $n$ samples and
# the author's `mse_class` a mean (without the ½), so the `mse_sample` gradient is about $n/2$ times the
# `mse_class` one. We carry the Fig. 3 CPU setting of [the Fig. 3 chapter](fig3_grokking.ipynb) (Adam, lr
# $10^{-3}$, weight decay $6\times10^{-4}$ with `mse_class`; and, for SGD, lr 2 with weight decay $10^{-3}$, the
# setting of this chapter's first version) over by that factor, from first principles rather than by a scan. Adam is
# invariant to the scale of the gradient, so its lr stays and its coupled weight decay is multiplied by $n/2$:
# $n\cdot 6\times10^{-4}/2$ = {glue:text}`adam_wd_mapped:.3f`, and we use {glue:text}`adam_wd:g`. With this loss the
# weight decay *is* the ridge constant $\eta$ of Eq. 47 at $V$'s fixed point (the paper's Fig. 3 setting gives the
# same value, $2016\cdot 2\times10^{-4}/2 \approx 0.20$). SGD's step is linear in the gradient, so its lr is divided
# by $n/2$ and its weight decay multiplied by $n/2$: $2\cdot 2/n$ = {glue:text}`sgd_lr_mapped:.4f` (we use
# {glue:text}`sgd_lr:g`) and $n\cdot10^{-3}/2$ = {glue:text}`sgd_wd_mapped:.3f` (we use {glue:text}`sgd_wd:g`).
# Both optimizers grok within the budget at these settings ({numref}`fig-thm1-energy-alignment`).
#
# **Where Stage II is.** The paper marks the stages by what the network does (Sec. 1 and Fig. 2 of
# {cite:t}`tian2025li2`): Stage II starts "once the output layer overfits the data" (in Fig. 3 the big update of $V$
# comes first), and Stage III starts when the "hidden layer learns some features" and the nodes begin to interact
# (Sec. 5: Stage II's approximations $B\propto I$ and $P_\eta\propto\eta I$ hold only near the random
# initialisation). We turn this into a rule on each run's accuracy curves, fixed before looking at any Stage-II
# number. Stage II starts at the first evaluated epoch with train accuracy ≥ {glue:text}`train_thr:g` (the
# training set is fitted). It ends at the first later epoch at which the test accuracy has risen by
# {glue:text}`rise:g` above its value at that start: the first learned features show on unseen pairs. Accuracy is
# evaluated every {glue:text}`eval_every` epochs. (This chapter's first version ended the window at grokking, test
# accuracy ≥ 0.95, which includes most of Stage III.)
#
# **Thresholds, fixed before looking at the Stage-II numbers** (set for this chapter's first version and kept for
# the paper's loss). Eq. 6 predicts cosine 1 for the loss gradient; a random direction in $\mathbb R^{2M}$ has
# $|\cos| \approx 1/\sqrt{2M}$ = {glue:text}`random_cos:.2f`. The median over nodes, runs and Stage-II epochs must
# be ≥ {glue:text}`thr_main:g` for the loss gradient and for the SGD update, and ≥ {glue:text}`thr_adam:g` for the
# Adam update (preconditioned), each raw and tangent. The independence proxy must be ≤ {glue:text}`thr_indep:g`:
# random vectors in the $(M-1)$-dimensional span of $\tilde Y$ give about $0.67/\sqrt{M-1}$ =
# {glue:text}`random_indep:.2f`, and 1 would mean that all nodes receive the same signal. A run groks when its
# final test accuracy is ≥ {glue:text}`grok_thr:g`.
#
# **Profiles.** This page was built with the {glue:md}`profile` profile: $M$ = {glue:text}`M`, $K$ = {glue:text}`K`,
# $p$ = {glue:text}`p` ($n$ = {glue:text}`n` training pairs), {glue:text}`seeds` seeds per optimizer. The paper
# profile (`book/profiles/paper.yml`, for a GPU) uses Fig. 3's sizes ($M = 71$, $K = 2048$, $n = 2016$) with the
# same mapping of the settings; it has not been run for this page. What this small size cannot show: here
# $K$ = {glue:text}`K` is {glue:md}`regime_word` $n-1$ = {glue:text}`n1`, so $\tilde Y$ is
# {glue:md}`regime_span` the span of $\tilde F$ at initialisation (the regimes of [the Stage I
# chapter](stage1_lazy.ipynb)); Fig. 3's $K = 2048$ is just above $n - 1 = 2015$. Whether the alignment on the
# sphere behaves differently on that side of $n-1$ is not tested here.

# %% tags=["parameters"]
M = 41  # group order: the task is Z_M (modular addition)
width = 512  # hidden width K
train_frac = 0.4  # training fraction p, n / M^2
seeds = 2  # seeds 0..seeds-1 for each optimizer
activation = "sqr"
loss = "mse_sample"  # the paper's Eq. 1 (Eq. 6 is derived for it)
adam_lr = 1e-3  # Adam: the Fig. 3 CPU lr (Adam is invariant to the gradient's scale)
adam_weight_decay = 0.2  # n * 6e-4 / 2: Fig. 3's CPU weight decay mapped to the summed loss
adam_epochs = 400
sgd_lr = 0.006  # SGD with momentum 0.9: 2 * 2.0 / n (lr 2 for mse_class, divided by n / 2)
sgd_weight_decay = 0.33  # n * 1e-3 / 2
sgd_epochs = 300
eval_every = 5  # accuracy every this many epochs (defines the Stage-II window)
align_every = 5  # the alignment measures every this many epochs
train_thr = 0.99  # Stage II starts at the first epoch with train accuracy at least train_thr
rise = 0.1  # and ends at the first later epoch with test accuracy up by at least rise (Stage III)
grok_thr = 0.95  # a run groks when its final test accuracy is at least grok_thr
compare_class = True  # also train with the author's mse_class (section "The author's loss")
class_adam_weight_decay = 6e-4  # the mse_class settings the mse_sample ones are mapped from
class_sgd_lr = 2.0
class_sgd_weight_decay = 1e-3
gradcheck_nodes = 8  # random unit nodes for part (a)
gradcheck_activations = ["sqr", "silu"]  # Theorem 1 holds for any smooth sigma
fd_step = 1e-6  # central-difference step
device = "auto"
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/thm1_energy"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["thm1_gradcheck", "thm1_alignment"]  # declared outputs: <out_dir>/<name>.png and <name>.csv

import time

import numpy as np
import torch

import li2core
from li2core import pages
from li2core import theory as th
from li2core.chapters import thm1_energy as ch
from li2core.checks import Checks
from li2core.pages import markdown_table
from li2core.tasks import make_task, split

t_start = time.time()
checks = Checks("thm1_energy", strict=strict)
group = f"Z{M}"
configs = ch.stage2_configs(
    group, train_frac, width, activation, loss, eval_every, seeds,
    adam_lr=adam_lr, adam_weight_decay=adam_weight_decay, adam_epochs=adam_epochs,
    sgd_lr=sgd_lr, sgd_weight_decay=sgd_weight_decay, sgd_epochs=sgd_epochs,
)  # seeds Adam runs, then seeds SGD runs; validated here: a bad parameter raises ValueError naming it
class_configs = ch.stage2_configs(
    group, train_frac, width, activation, "mse_class", eval_every, seeds,
    adam_lr=adam_lr, adam_weight_decay=class_adam_weight_decay, adam_epochs=adam_epochs,
    sgd_lr=class_sgd_lr, sgd_weight_decay=class_sgd_weight_decay, sgd_epochs=sgd_epochs,
) if compare_class else []
for name in gradcheck_activations:
    th.energy(torch.zeros(2 * M, dtype=torch.float64), group, name)  # validates the activation names
if not (isinstance(align_every, int) and align_every >= 1):
    raise ValueError(f"align_every: must be an integer >= 1; got {align_every!r}")
if not (0 < train_thr <= 1 and 0 < rise < 1 and 0 < grok_thr <= 1):
    raise ValueError(f"train_thr, rise, grok_thr: must lie in (0, 1]; got {train_thr}, {rise}, {grok_thr}")
task = make_task(group)
train_rows = {s: split(task, train_frac, s).train for s in range(seeds)}
n_train = configs[0].n_train
THR = dict(thr_main=0.5, thr_adam=0.3, thr_indep=0.3)  # fixed before looking (see the text)
for name, value in dict(M=M, K=width, p=train_frac, n=n_train, n1=n_train - 1, seeds=seeds, profile=profile,
                        align_every=align_every, eval_every=eval_every, train_thr=train_thr, rise=rise,
                        grok_thr=grok_thr, adam_wd=adam_weight_decay, sgd_lr=sgd_lr, sgd_wd=sgd_weight_decay,
                        adam_wd_mapped=n_train * class_adam_weight_decay / 2, sgd_lr_mapped=2 * class_sgd_lr / n_train,
                        sgd_wd_mapped=n_train * class_sgd_weight_decay / 2, random_cos=1 / np.sqrt(2 * M),
                        random_indep=0.6745 / np.sqrt(M - 1), **THR).items():
    pages.glue(name, value)
pages.glue("regime_word", "below" if width < n_train - 1 else "above")
pages.glue("regime_span", "not in" if width < n_train - 1 else "in")
print(f"profile={profile}: {group}, K={width}, n_train={n_train} (p={train_frac}), sigma={activation}, loss={loss}, "
      f"{seeds} seeds\nAdam lr={adam_lr} wd={adam_weight_decay} ({adam_epochs} epochs); SGD (momentum 0.9) "
      f"lr={sgd_lr} wd={sgd_weight_decay} ({sgd_epochs} epochs)")

# %% [markdown]
# ## (a) Eq. 6 is the gradient of $\mathcal E$
#
# Random unit nodes $\mathbf w \in \mathbb R^{2M}$, $\mathcal E$ on the training pairs of seed 0 (float64).
#
# ```{glue:figure} thm1_gradcheck
# :name: fig-thm1-energy-gradcheck
# :alt: Two scatter plots over every coordinate of random unit nodes: left, finite differences of the energy and Eq. 6's right-hand side against the analytic gradient, on the diagonal; right, their relative differences on a log scale, near 1e-10 for finite differences and near 1e-16 for Eq. 6.
# :figwidth: 100%
#
# **Theorem 1 as an identity.** Left: every coordinate of $\nabla\mathcal E$ for {glue:text}`gc_nodes` random unit
# nodes, computed by finite differences and by Eq. 6 with the explicit $X$, against the analytic gradient. Right:
# the differences relative to each node's largest entry (exact zeros are drawn at $10^{-18}$); the largest is {glue:text}`gc_fd_max:.1e` for finite
# differences and {glue:text}`gc_eq6_max:.1e` for Eq. 6. {download}`Data (CSV) <../figures/thm1_energy/thm1_gradcheck.csv>` ·
# {download}`image (PNG) <../figures/thm1_energy/thm1_gradcheck.png>`
# ```

# %%
gradcheck, gc = ch.gradcheck_frame(group, gradcheck_activations, train_rows[0], gradcheck_nodes, fd_step, seed=123)
pages.glue("gc_nodes", gradcheck_nodes)
pages.glue("gc_fd_max", max(v[0] for v in gc.values()))
pages.glue("gc_eq6_max", max(v[1] for v in gc.values()))
pages.show_figure(ch.thm1_gradcheck(gradcheck), out_dir, "thm1_gradcheck", ch.thm1_gradcheck_data(gradcheck))
pages.show_markdown(markdown_table(
    ["σ", "max relative error, finite differences", "max relative error, Eq. 6 with explicit X"],
    [[act, f"{e_fd:.1e}", f"{e_eq6:.1e}"] for act, (e_fd, e_eq6) in gc.items()]))

# %% [markdown]
# The analytic gradient, the finite differences and the literal right-hand side of Eq. 6 agree (the finite
# differences to their truncation and round-off error, Eq. 6 to machine precision): the per-node dynamics of Eq. 6
# *is* gradient ascent on $\mathcal E$. That part of Theorem 1 is an identity. The substantive part is the premise,
# that training actually produces $\mathbf g_j \propto \tilde Y\tilde Y^\top\sigma(X\mathbf w_j)$, which (b) tests.
#
# ## (b) Do the columns of $W$ follow $\nabla\mathcal E$ during Stage II?

# %%
t0 = time.time()
res = li2core.train(configs, device=device, snapshots=ch.snapshot_epochs(configs, align_every), progress=False,
                    metrics="basic")  # accuracy and loss only; weights at every t and t + 1 of the measures
df = res.frame()
align = ch.alignment_frame(res, configs, align_every, train_rows)
windows = ch.stage2_windows(df, configs, train_thr, rise, grok_thr)
curves = ch.accuracy_curves(df)
final = df[df["epoch"] == df.groupby("run")["epoch"].transform("max")].set_index("run")["test_acc"]
print(f"{len(configs)} runs trained and measured on {res.device} in {time.time() - t0:.1f} s")
pages.show_markdown(markdown_table(
    ["run", "optimizer", "seed", "Stage II starts (train acc ≥ thr)", "ends (test acc risen)", "groks (test ≥ thr)",
     "final test acc"],
    [[int(r.run), r.optimizer, int(r.seed), f"{r.start:g}", f"{r.end:g}", f"{r.grok:g}", f"{final[r.run]:.3f}"]
     for r in windows.itertuples()]))
for opt in ("adam", "sgd"):
    w = windows[windows["optimizer"] == opt]
    for col in ("start", "end", "grok"):
        pages.glue(f"{col}_{opt}", pages.fmt_range(w[col], 3))

# %% [markdown]
# ```{glue:figure} thm1_alignment
# :name: fig-thm1-energy-alignment
# :alt: Eight panels in four rows and two columns (Adam, SGD) against the epoch, with the Stage II window shaded: accuracy; the cosines of the loss gradient with Eq. 6's direction in F space and with the energy gradient raw and tangent; the cosines of the optimizer's update; and the tangent share, the Fourier purity and the independence proxy.
# :figwidth: 100%
#
# **Stage II in training, with the paper's loss.** Columns: Adam and SGD with momentum. Lines are medians over the
# {glue:text}`K` nodes and the seeds (means over seeds for accuracy and the proxy), bands quartiles (min–max over
# seeds); grey: Stage II, mean over seeds (from epoch {glue:md}`start_adam` to {glue:md}`end_adam` with Adam and
# from {glue:md}`start_sgd` to {glue:md}`end_sgd` with SGD; ranges over seeds); dotted: grokking. Row 2: "$F$ space" is $\cos(\mathbf g_j, \tilde Y\tilde Y^\top\sigma(X\mathbf w_j))$, "raw"
# and "tangent" are $\cos(-\partial L/\partial\mathbf w_j, \nabla\mathcal E(\mathbf w_j))$ without and with the
# projection on the sphere's tangent space. Row 3: the same for the optimizer's update $\Delta\mathbf w_j$, and the
# update against $-\partial L/\partial\mathbf w_j$ (tangent). Row 4: $\|\nabla_\perp\mathcal E\|/\|\nabla\mathcal E\|$,
# the share of $\|\mathbf w_j\|^2$ in the dominant frequency pair, and $\mathrm{median}|\cos(\mathbf g_j,\mathbf g_{j'})|$.
# {download}`Data (CSV) <../figures/thm1_energy/thm1_alignment.csv>` ·
# {download}`image (PNG) <../figures/thm1_energy/thm1_alignment.png>`
# ```

# %%
titles = ch.optimizer_titles(adam_lr, adam_weight_decay, sgd_lr, sgd_weight_decay)
pages.show_figure(ch.thm1_alignment(align, curves, windows, titles=titles), out_dir, "thm1_alignment",
                  ch.thm1_alignment_data(align, curves, windows))
stage2, peak, peak_epoch = ch.stage2_summary(align, windows)
SHOW = ["gF_vs_signal", "lossgrad_vs_gradE", "lossgrad_vs_gradE_tangent", "update_vs_gradE", "update_vs_gradE_tangent",
        "update_vs_lossgrad_tangent", "gradE_tangent_share", "purity", "independence"]
pages.show_markdown(ch.summary_table({"": stage2}, SHOW))
last = align[align["epoch"] == align.groupby("run")["epoch"].transform("max")]  # each run's last measured epoch
late_update = last[last["measure"] == "update_vs_gradE"].groupby("optimizer")["value"].median()
for opt in ("adam", "sgd"):
    pages.glue(f"late_update_{opt}", float(late_update[opt]))
    for m in SHOW:
        pages.glue(f"s2_{m}_{opt}", float(stage2.loc[opt, m]))
    pages.glue(f"peak_tan_{opt}", float(peak.loc[opt, "lossgrad_vs_gradE_tangent"]))
    pages.glue(f"peak_tan_epoch_{opt}", float(peak_epoch.loc[opt, "lossgrad_vs_gradE_tangent"]))

# %% [markdown]
# The table gives the medians over nodes, seeds and the Stage-II epochs of each run. How to read the figure:
#
# * **Row 2, the premise of Eq. 6.** In $F$ space the premise holds roughly: the Stage-II median of
#   $\cos(\mathbf g_j, \tilde Y\tilde Y^\top\sigma(X\mathbf w_j))$ is {glue:text}`s2_gF_vs_signal_adam:.2f` with
#   Adam and {glue:text}`s2_gF_vs_signal_sgd:.2f` with SGD. Mapped to the weights, the raw cosine between $-\partial L/\partial\mathbf w_j$ and
#   $\nabla\mathcal E(\mathbf w_j)$ is high too ({glue:text}`s2_lossgrad_vs_gradE_adam:.2f` and
#   {glue:text}`s2_lossgrad_vs_gradE_sgd:.2f`), but on the sphere only {glue:text}`s2_lossgrad_vs_gradE_tangent_adam:.2f`
#   and {glue:text}`s2_lossgrad_vs_gradE_tangent_sgd:.2f`. The tangent alignment peaks before Stage II, at epoch
#   {glue:text}`peak_tan_epoch_adam:g` with Adam ({glue:text}`peak_tan_adam:.2f`) and
#   {glue:text}`peak_tan_epoch_sgd:g` with SGD ({glue:text}`peak_tan_sgd:.2f`), as the training set is being
#   fitted. The raw agreement during Stage II is mostly the shared radial part: both gradients grow
#   $\|\mathbf w_j\|$, and $\nabla\mathcal E$ is only {glue:text}`s2_gradE_tangent_share_adam:.2f` tangent (row 4).
#   A premise that holds only to a cosine of {glue:text}`s2_gF_vs_signal_adam:.2f` in $F$ space leaves the
#   direction on the sphere, the small tangent part, largely to the error term.
# * **Row 3, the optimizer.** The update follows the *loss gradient* on the sphere (tangent cosine
#   {glue:text}`s2_update_vs_lossgrad_tangent_adam:.2f` with Adam, {glue:text}`s2_update_vs_lossgrad_tangent_sgd:.2f`
#   with SGD), so the misalignment with $\nabla\mathcal E$ comes from the loss gradient, not from the optimizer.
#   At the last measured epoch the raw cosine is negative ({glue:text}`late_update_adam:.2f` and
#   {glue:text}`late_update_sgd:.2f`): once the loss is small, weight decay (radially inward) dominates the update.
# * **Row 4.** The nodes stay far from critical points of $\mathcal E$ on the sphere and far from single
#   frequencies during Stage II (median purity {glue:text}`s2_purity_adam:.2f`), while the independence proxy stays
#   at the random-subspace level ({glue:text}`s2_independence_adam:.2f`): the nodes' signals are not collapsed on
#   one direction.
#
# ## The author's loss, for comparison
#
# This chapter's first version trained on the author's `mse_class` loss, for which Eq. 6 is not derived. To see
# whether the loss explains the result above, the same runs are repeated with `mse_class` at the settings the
# `mse_sample` ones were mapped from (Adam weight decay {glue:text}`class_adam_wd:g`, SGD lr
# {glue:text}`class_sgd_lr:g` with weight decay {glue:text}`class_sgd_wd:g`), measured over their own Stage-II
# windows (same rule), at the Stage-II epochs only.

# %%
pages.glue("class_adam_wd", class_adam_weight_decay)
pages.glue("class_sgd_lr", class_sgd_lr)
pages.glue("class_sgd_wd", class_sgd_weight_decay)
stage2_class = None
if compare_class:
    res_c = li2core.train(class_configs, device=device, snapshots=ch.snapshot_epochs(class_configs, align_every),
                          progress=False, metrics="basic")
    windows_c = ch.stage2_windows(res_c.frame(), class_configs, train_thr, rise, grok_thr)
    align_c = ch.alignment_frame(res_c, class_configs, align_every, train_rows, windows=windows_c)
    stage2_class = ch.stage2_summary(align_c, windows_c)[0]
    pages.show_markdown(ch.summary_table({"mse_sample": stage2, "mse_class": stage2_class}, SHOW))
    for opt in ("adam", "sgd"):
        pages.glue(f"c2_tan_{opt}", float(stage2_class.loc[opt, "lossgrad_vs_gradE_tangent"]))
    diff = (stage2_class[SHOW] - stage2.loc[stage2_class.index, SHOW]).abs().to_numpy()
    pages.glue("class_max_diff", float(np.nanmax(diff)))
else:
    pages.glue("c2_tan_adam", float("nan"))
    pages.glue("c2_tan_sgd", float("nan"))
    pages.glue("class_max_diff", float("nan"))

# %% [markdown]
# With the author's loss the Stage-II medians differ from those with the paper's loss by at most
# {glue:text}`class_max_diff:.2f`, and the tangent cosine of the loss gradient fails the same threshold
# ({glue:text}`c2_tan_adam:.2f` with Adam, {glue:text}`c2_tan_sgd:.2f` with SGD). At these mapped settings the
# loss is not the reason for the misalignment found in the first version.
#
# ```{admonition} Deviation: the tangent alignment with ∇E does not hold through Stage II
# :class: warning
# **Claim (Eq. 6, Thm 1):** during Stage II each column of $W$ moves along $\nabla\mathcal E(\mathbf w_j)$, because
# $G_F \propto \tilde Y\tilde Y^\top F$.
# **Computed** with the paper's loss, medians over nodes, seeds and the Stage-II epochs (thresholds fixed
# beforehand): the loss gradient passes raw ({glue:text}`s2_lossgrad_vs_gradE_adam:.2f` with Adam,
# {glue:text}`s2_lossgrad_vs_gradE_sgd:.2f` with SGD, threshold {glue:text}`thr_main:g`) but fails on the sphere
# ({glue:text}`s2_lossgrad_vs_gradE_tangent_adam:.2f` and {glue:text}`s2_lossgrad_vs_gradE_tangent_sgd:.2f`). The
# updates' tangent cosines with $\nabla\mathcal E$ fail too ({glue:text}`s2_update_vs_gradE_tangent_adam:.2f` and
# {glue:text}`s2_update_vs_gradE_tangent_sgd:.2f`); the raw update passes with Adam
# ({glue:text}`s2_update_vs_gradE_adam:.2f` ≥ {glue:text}`thr_adam:g`) and fails with SGD
# ({glue:text}`s2_update_vs_gradE_sgd:.2f` < {glue:text}`thr_main:g`). On the sphere the alignment is strong only
# around the end of Stage I (peaks of the per-epoch median {glue:text}`peak_tan_adam:.2f` and
# {glue:text}`peak_tan_sgd:.2f`, before the window). The author's loss gives the same picture (section above).
# **Likely reason:** the premise $G_F \propto \tilde Y\tilde Y^\top F$ holds only approximately (in $F$ space a
# median cosine of {glue:text}`s2_gF_vs_signal_adam:.2f` with Adam), and the part of $G_F$ that it misses
# (the interactions of Stage III, $G_F = P_\eta\tilde Y\tilde Y^\top\tilde FB$ with non-diagonal $B$ and
# non-scalar $P_\eta$; at this width $\tilde Y$ is {glue:md}`regime_span` the span of $\tilde F$ at
# initialisation; {prf:ref}`Lemma 1 <lem-lazy-structure>` in [the Stage I chapter](stage1_lazy.ipynb) measures
# how far Eq. 5 is from Eq. 4 on both sides of $n-1$) dominates the small tangent part of the gradient, which is
# the part that decides the feature.
# ```
#
# ## Checks
# Thresholds as stated above: from the theory (round-off for the identity), or fixed before looking (the
# alignment thresholds, the Stage-II window rule and the grokking threshold). Rows marked "documents" describe the
# measured behaviour behind the declared deviation; their thresholds were set after looking.

# %% tags=["checks"]
for act, (e_fd, e_eq6) in gc.items():
    checks.add(f"Thm 1 identity (σ = {act}): finite differences of E against the analytic ∇E (max rel. error)",
               e_fd, e_fd <= 1e-6, threshold="≤ 1e-6", source="theory", paper="Eq. 6 is gradient ascent on E")
    checks.add(f"Thm 1 identity (σ = {act}): Eq. 6 with explicit X against the analytic ∇E (max rel. error)",
               e_eq6, e_eq6 <= 1e-10, threshold="≤ 1e-10", source="theory", paper="Eq. 6 is gradient ascent on E")
has_window = bool(windows["start"].notna().all() and windows["end"].notna().all())
checks.add("every run memorises and then its test accuracy rises (each run has a Stage-II window)",
           {"runs with a window": int((windows["start"].notna() & windows["end"].notna()).sum()),
            "runs": len(windows)}, has_window, threshold="all runs", source="fixed before looking",
           paper="Stage I (fit), then feature learning", fmt="g")
checks.add("the runs grok with the paper's loss: min final test accuracy", float(final.min()),
           float(final.min()) >= grok_thr, threshold=f"≥ {grok_thr:g}", source="fixed before looking",
           paper="grokking with weight decay (Fig. 3)")
DEV_TAN = ("the Stage-I fixed-point premise G_F ∝ Y~Y~ᵀF holds only roughly in F space, and the part it misses "
           "dominates the small tangent part of the gradient; not the loss (mse_class gives the same)")
DEV_UPD = "the update follows the loss gradient, whose tangent part is not along ∇E (see the tangent rows)"
rows = [("lossgrad_vs_gradE", "cos(−∂L/∂w_j, ∇E(w_j)), raw", None, None),
        ("lossgrad_vs_gradE_tangent", "cos(−∂L/∂w_j, ∇E(w_j)), tangent", DEV_TAN, DEV_TAN),
        ("update_vs_gradE", "cos(Δw_j, ∇E(w_j)), raw", None, DEV_UPD),
        ("update_vs_gradE_tangent", "cos(Δw_j, ∇E(w_j)), tangent", DEV_UPD, DEV_UPD)]
for m, label, dev_adam, dev_sgd in rows:
    for opt, dev in (("adam", dev_adam), ("sgd", dev_sgd)):
        thr = THR["thr_adam"] if (opt == "adam" and m.startswith("update")) else THR["thr_main"]
        v = float(stage2.loc[opt, m])
        checks.add(f"Eq. 6 in Stage II ({'Adam' if opt == 'adam' else 'SGD'}): median {label}", v, v >= thr,
                   threshold=f"≥ {thr:g}", source="fixed before looking", paper="cosine 1 (Eq. 6)", deviation=dev)
for opt in ("adam", "sgd"):
    v = float(stage2.loc[opt, "independence"])
    checks.add(f"independence proxy in Stage II ({'Adam' if opt == 'adam' else 'SGD'}): median |cos(g_j, g_j')|",
               v, v <= THR["thr_indep"], threshold=f"≤ {THR['thr_indep']:g}", source="fixed before looking",
               paper="nodes learn independently")
for opt in ("adam", "sgd"):
    v = float(stage2.loc[opt, "gF_vs_signal"])
    checks.add(f"the premise in F space is rough ({'Adam' if opt == 'adam' else 'SGD'}): Stage-II median "
               "cos(g_j, Y~Y~ᵀσ(Xw_j))", v, 0.5 <= v < 0.9, threshold="in [0.5, 0.9)", source="documents",
               paper="g_j ∝ Y~Y~ᵀσ(Xw_j)")
    pk, pe = float(peak.loc[opt, "lossgrad_vs_gradE_tangent"]), float(peak_epoch.loc[opt, "lossgrad_vs_gradE_tangent"])
    first = float(windows.loc[windows["optimizer"] == opt, "start"].min())
    checks.add(f"the tangent alignment is strong at the end of Stage I ({'Adam' if opt == 'adam' else 'SGD'}): "
               "peak per-epoch median, its epoch, the first Stage-II epoch", {"peak": pk, "at": pe, "start": first},
               pk >= 0.7 and pe < first, threshold="peak ≥ 0.7, before Stage II", source="documents",
               paper="—", fmt=".3g")
for opt in ("adam", "sgd"):
    name = "Adam" if opt == "adam" else "SGD"
    v = float(stage2.loc[opt, "update_vs_lossgrad_tangent"])
    checks.add(f"the update follows the loss gradient on the sphere ({name}): Stage-II median tangent cosine", v,
               v >= 0.7, threshold="≥ 0.7", source="documents", paper="(the optimizer is not the reason)")
    checks.add(f"late in training weight decay dominates the update ({name}): median raw cos(Δw_j, ∇E) at the "
               "last measured epoch", float(late_update[opt]), late_update[opt] < 0, threshold="< 0",
               source="documents", paper="—")
if stage2_class is not None:
    v = stage2_class["lossgrad_vs_gradE_tangent"]
    checks.add("with the author's mse_class loss the tangent alignment fails as well: Stage-II median, Adam and SGD",
               {"adam": float(v["adam"]), "sgd": float(v["sgd"])}, bool((v < THR["thr_main"]).all()),
               threshold=f"< {THR['thr_main']:g} for both", source="fixed before looking",
               paper="(the loss is not the reason)", fmt=".2f")
checks.finish(out_dir)

# %%
pages.rerun_box("thm1_energy", globals(), profile, time.time() - t_start)
