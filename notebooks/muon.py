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
# # Muon rebalances feature learning (Lemma 2, Lemma 9, Theorem 8, Fig. 8)
#
# **Claim ({cite:t}`tian2025li2`, Sec. 5.3, App. B.3).** Muon replaces the gradient $G_W = UDV^\top$ of the hidden
# layer by its polar factor $UV^\top$. *Lemma 2:* it still ascends the joint energy
# $\mathcal E_{\rm joint}(W) = \sum_j\mathcal E(\mathbf w_j)$, because $\langle UV^\top, G\rangle = \mathrm{tr}\,D \ge 0$,
# and it is stationary only where $G_W = 0$. *Lemma 9:* for $A = [Q, \mathbf v]$ with $Q$ column-orthonormal (the
# gradients of nodes already at their maxima), the last column of the polar factor is
# $\hat{\mathbf v} \approx \mathbf v_\perp/\|\mathbf v_\perp\| + \mathbf v_\parallel/(1 + \|\mathbf v_\perp\|)$: the
# part of a new node's gradient along occupied maxima is damped. *Theorem 8:* in the model dynamics (Eq. 10)
# $\dot{\mathbf w} = A(\mathbf w)\mathbf w$, $\|\mathbf w\| \le 1$, $A(\mathbf w) = \sum_l\mu_l\alpha_l\boldsymbol\zeta_l\boldsymbol\zeta_l^\top$
# with Fréchet initial coefficients $\alpha_l(0)$ (CDF $e^{-x^{-a}}$), an independently learned node ends at maximum
# $l$ with probability $p_l = \mu_l^a/\sum\mu^a$, so collecting all $L$ maxima takes $T_0$ nodes (Eq. 41, the coupon
# collector), while Muon-guided sequential learning needs $T_a \le 2^{-a}T_0 + (1 - 2^{-a})L$ (Eq. 46). *Fig. 8:* on
# modular addition with $M = 71$ and a width $K$ small relative to $M$, Muon reaches a lower test loss than Adam.
#
# **What we compute.** (a) Lemma 2 on random matrices, for the exact polar factor and for the author's five
# Newton–Schulz steps (`li2core.optim.newton_schulz5`, what the training actually uses). (b) Lemma 9 against the
# exact last column by SVD. (c) Eq. 10 simulated (`theory.plain_flow`, `theory.muon_sequential_flow`) against
# $T_0$, the bound on $T_a$ and Lemma 10's lower bound, across $a$. (d) Fig. 8's comparison with the author's Muon
# (`TrainConfig(optimizer="muon")`: Muon on $W$ with momentum 0.99, Adam on $V$, one lr and weight decay), with the
# final test loss and the number of distinct frequencies the hidden nodes cover (`measures.feature_diversity`).
#
# **The Muon-guided flow, as we define it.** App. B.3 learns the nodes one after the other. Node $j$ starts like an
# independent node; the nodes before it sit at the maxima they reached, whose gradients are the orthonormal
# $\boldsymbol\zeta_s$ (one column per collected maximum, "after deduplication"); Muon orthogonalises
# $[\boldsymbol\zeta_{s_1}, \dots, \mathbf g]$ with the node's own gradient $\mathbf g = A(\mathbf w)\mathbf w$ last,
# and the node moves along the last column of the exact polar factor (projected Euler steps onto the unit ball) until
# one coordinate holds $\ge 1 - 10^{-3}$ of $\|\mathbf w\|^2$. In the basis $\boldsymbol\zeta = I$ (the flow and the
# polar factor are rotation invariant) $\mathbf g = \mu\odot\alpha^2$.
#
# **Fig. 8's settings.** The paper states only $M = 71$. We use the setting of this book's Fig. 3 chapter where the
# paper gives one: $p = n/M^2$ = {glue:text}`train_frac` (Fig. 3's $n = 2016$), weight decay
# {glue:text}`weight_decay`, $\sigma = x^2$, the author's `mse` loss; widths $K$ = {glue:md}`widths`
# ({glue:text}`n_freq` non-trivial frequencies exist, so every $K$ here is below or near that number),
# learning rates {glue:md}`lrs` for both optimizers (the author's script passes one lr to both), seeds 0–{glue:text}`seed_max`,
# {glue:text}`epochs` full-batch epochs. **Profile:** {glue:md}`profile`.

# %% tags=["parameters"]
M = 71  # Fig. 8's group order (Z_M)
widths = [16, 32]  # hidden widths K, small relative to M
lrs = [1e-2, 3e-2]  # learning rates, the same for both optimizers
seeds = 2  # seeds 0..seeds-1 per (optimizer, K, lr)
epochs = 1000  # full-batch optimizer steps
train_frac = 0.4  # p = n / M^2 (n = 2016 at M = 71, as in Fig. 3)
weight_decay = 2e-4
activation = "sqr"
loss = "mse_class"
eval_every = 50
device = "auto"
lemma_matrices = 50  # random matrices per shape for Lemma 2
L = 10  # number of maxima of Eq. 10
mu_min = 0.6  # mu_l evenly spaced in [mu_min, 1]
a_values = [1.5, 2.0, 3.0, 5.0]  # Fréchet shapes (the theorem assumes a > 1)
trials = 200  # independent trials of each flow
plain_nodes = 600  # nodes per trial of the independent flow (enough to collect all maxima)
seed = 0
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/muon"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["muon_lemma9", "muon_coupon", "muon_fig8"]  # declared outputs (PNG + CSV)

import time

import torch

import li2core
from li2core import measures, pages
from li2core.chapters import muon as ch
from li2core.checks import Checks
from li2core.pages import frame_markdown

t_start = time.time()
torch.set_num_threads(1)  # small tensors: one thread is faster than contending for two cores
checks = Checks("muon", strict=strict)
if not isinstance(L, int) or L < 2:
    raise ValueError(f"L: must be an integer >= 2; got {L!r}")
if not 0 < mu_min <= 1:
    raise ValueError(f"mu_min: must be in (0, 1]; got {mu_min!r}")
mu = torch.linspace(mu_min, 1.0, L, dtype=torch.float64)
for name, value in dict(M=M, widths=", ".join(str(k) for k in widths), lrs=", ".join(f"{x:g}" for x in lrs),
                        seed_max=seeds - 1, epochs=epochs, train_frac=train_frac, weight_decay=weight_decay,
                        n_freq=M // 2, L=L, mu_min=mu_min, a_list=", ".join(f"{a:g}" for a in a_values),
                        trials=trials, plain_nodes=plain_nodes, lemma_matrices=lemma_matrices,
                        profile=profile).items():
    pages.glue(name, value)
print(f"profile={profile}: Z{M}, K in {widths}, lr in {lrs}, {seeds} seeds, {epochs} epochs")
print(f"Eq. 10: L = {L}, a in {a_values}, {trials} trials")

# %% [markdown]
# ## (a) Lemma 2
# On {glue:text}`lemma_matrices` Gaussian matrices per shape (scaled by factors from $10^{-3}$ to $10^{3}$), the
# exact polar factor gives $\langle UV^\top, G\rangle = \mathrm{tr}\,D$ to a relative error of at most
# {glue:text}`l2_err:.1e`. The author's five Newton–Schulz steps are not the polar factor: the singular values of
# their output lie in {glue:text}`ns_smin:.3f`–{glue:text}`ns_smax:.3f` (not 1), and
# $\langle \mathrm{NS}_5(G), G\rangle/\mathrm{tr}\,D$ lies in {glue:text}`ns_lo:.3f`–{glue:text}`ns_hi:.3f`: still
# positive, so the update the training uses ascends too.

# %%
l2 = ch.lemma2_frame([(16, 2 * M), (2 * M, 16), (8, 8)], lemma_matrices, seed)
for k, v in dict(l2_err=l2["rel_err"].max(), ns_smin=l2["ns5_smin"].min(), ns_smax=l2["ns5_smax"].max(),
                 ns_lo=l2["inner_ns5"].min(), ns_hi=l2["inner_ns5"].max(), l2_min=l2["inner"].min()).items():
    pages.glue(k, float(v))
pages.show_markdown(frame_markdown(l2.groupby("shape").agg(
    max_rel_err=("rel_err", "max"), min_inner=("inner", "min"), ns5_ratio_min=("inner_ns5", "min"),
    ns5_ratio_max=("inner_ns5", "max"), ns5_smin=("ns5_smin", "min"), ns5_smax=("ns5_smax", "max")).reset_index(),
    digits=4))

# %% [markdown]
# ## (b) Lemma 9
# $Q$ is a random {glue:text}`l9_d` × {glue:text}`l9_k` column-orthonormal matrix and $\mathbf v = \mathbf v_\parallel + \mathbf v_\perp$ with
# prescribed norms. The exact last column turns out to be *parallel* to Lemma 9's vector, shorter by the factor
# $1/\sqrt{1 + (\|\mathbf v_\parallel\|/(1 + \|\mathbf v_\perp\|))^2}$ (`theory.lemma9_factor`; derived in its
# docstring from the $2\times2$ block $[[1, \|Q^\top\mathbf v\|], [0, \|\mathbf v_\perp\|]]$): they agree to
# {glue:text}`l9_parallel:.1e`. So the error is $\approx\|\mathbf v_\parallel\|^2/(2(1+\|\mathbf v_\perp\|)^2)$,
# of second order in $\|\mathbf v_\parallel\|$ (fitted log–log slopes {glue:text}`l9_slope:.4f`–{glue:text}`l9_slope_hi:.4f` for $\|\mathbf v_\parallel\| \le$ {glue:text}`l9_small`), whatever
# $\|\mathbf v_\perp\|$ is. Relative to the $\mathbf v_\perp$ direction, the exact update keeps
# $\|\mathbf v_\perp\|/(1 + \|\mathbf v_\perp\|)$ of $\mathbf v_\parallel$: at most {glue:text}`l9_damp:.3f` on this
# grid ($\|\mathbf v_\perp\| \le 1$), the "damped by at least 1/2".

# %%
l9_d, l9_k, l9_small = 20, 4, 3e-2  # the dimension, the number of occupied maxima, the "small ||v_par||" range
l9 = ch.lemma9_frame(l9_d, l9_k, [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1], [0.1, 1.0], seed)
small = l9[l9["par"] <= l9_small]
pages.glue("l9_d", l9_d)
pages.glue("l9_k", l9_k)
pages.glue("l9_small", l9_small)
slope = min(measures.loglog_slope(d["par"].to_numpy(), d["error"].to_numpy()) for _, d in small.groupby("perp"))
slope_hi = max(measures.loglog_slope(d["par"].to_numpy(), d["error"].to_numpy()) for _, d in small.groupby("perp"))
l9_pred = float(((small["error"] - small["predicted"]).abs() / small["predicted"]).max())
for k, v in dict(l9_parallel=l9["parallel_error"].max(), l9_slope=slope, l9_slope_hi=slope_hi,
                 l9_damp=l9["relative_damping"].max(), l9_pred=l9_pred).items():
    pages.glue(k, float(v))
pages.show_markdown(frame_markdown(l9[["par", "perp", "error", "predicted", "one_minus_factor", "relative_damping"]],
                                   digits=4))

# %% [markdown]
# ```{glue:figure} muon_lemma9
# :name: fig-muon-lemma9
# :alt: Log-log plot of the error of Lemma 9's approximate last column against the norm of the parallel part of v, for two norms of the perpendicular part; measured markers lie on dashed lines of slope 2 given by the parallel norm squared over twice one plus the perpendicular norm, squared.
# :figwidth: 100%
#
# **Lemma 9's error is second order in $\|\mathbf v_\parallel\|$.** Markers: $\|\hat{\mathbf v}_{\rm exact} - \hat{\mathbf v}_{\rm Lemma\,9}\|$;
# dashed: $\|\mathbf v_\parallel\|^2/(2(1+\|\mathbf v_\perp\|)^2)$, within {glue:text}`l9_pred:.1e` (relative) for
# $\|\mathbf v_\parallel\| \le$ {glue:text}`l9_small`.
# {download}`Data (CSV) <../figures/muon/muon_lemma9.csv>` ·
# {download}`image (PNG) <../figures/muon/muon_lemma9.png>`
# ```

# %%
pages.show_figure(ch.muon_lemma9(l9), out_dir, "muon_lemma9", ch.muon_lemma9_data(l9))

# %% [markdown]
# ## (c) Theorem 8: the coupon collector in Eq. 10
# $L$ = {glue:text}`L` maxima with $\mu_l$ evenly spaced in [{glue:text}`mu_min`, 1], Fréchet shapes
# $a$ = {glue:md}`a_list`, {glue:text}`trials` trials of each flow. For independent nodes the simulated number of
# nodes until all maxima are reached matches Eq. 41's $T_0$ (largest gap {glue:text}`T0_z:.2f` standard errors),
# every node ends at its initial leader $\arg\max_l\mu_l\alpha_l(0)$ (share {glue:text}`leader_min:.3f`, Lemma 8),
# and the end points follow $p_l$ (largest gap {glue:text}`freq_z:.2f` binomial standard errors). With equal $\mu_l$,
# $T_0 = LH_L$ = {glue:text}`eq_T0:.3f` and the simulation gives {glue:text}`eq_sim:.2f` ± {glue:text}`eq_se:.2f`.
# The Muon-guided sequential flow needs {glue:text}`Ta_min:.2f`–{glue:text}`Ta_max:.2f` nodes on average
# ({glue:md}`muon_phrase`), inside the bound $2^{-a}T_0 + (1-2^{-a})L$ (which is
# {glue:text}`bound_min:.1f`–{glue:text}`bound_max:.1f` here) and far below $T_0$
# ({glue:text}`T0_min:.1f`–{glue:text}`T0_max:.1f`). With $K = L$ nodes, independent learning reaches
# {glue:text}`dist_plain_min:.2f`–{glue:text}`dist_plain_max:.2f` distinct maxima (formula
# $\sum_l 1-(1-p_l)^L$: {glue:text}`dist_exp_min:.2f`–{glue:text}`dist_exp_max:.2f`), Muon all {glue:text}`L`.
# The bound is loose for this flow: it comes from the proof's model where a collected maximum's $\mu_l$ is only
# halved (Eq. 44; `theory.coupon_time_dp` with damping $2^{-a}$ reproduces Eq. 46 exactly), while the exact polar
# factor removes the collected directions from the leading term altogether.
#
# **Lower bounds on $T_0$.** Lemma 10 proves $T_0 \ge \max(1/\min_l p_l,\ L\sum_{l\le L}1/l)$; the main text prints
# $\max(1/\min_l p_l,\ \sum_{l\le L}1/l)$, without the factor $L$. Both hold (the printed one is weaker); Lemma 10's
# is attained for equal $p_l$ and is {glue:text}`l10_gap_max:.1f` below $T_0$ at most on this grid.

# %%
cf = ch.coupon_frame(mu.tolist(), a_values, trials, plain_nodes, 2 * L, seed)
eq = ch.coupon_frame([1.0] * L, [2.0], trials, plain_nodes, 2 * L, seed + 500).iloc[0]
z_T0 = ((cf["T0_sim"] - cf["T0"]).abs() / cf["T0_se"]).max()
z_freq = (cf["freq_dev"] / cf["freq_se"]).max()
for k, v in dict(T0_z=z_T0, leader_min=cf["leader_share"].min(), freq_z=z_freq, eq_T0=eq["T0"], eq_sim=eq["T0_sim"],
                 eq_se=eq["T0_se"], Ta_min=cf["Ta_sim"].min(), Ta_max=cf["Ta_sim"].max(), bound_min=cf["bound"].min(),
                 bound_max=cf["bound"].max(), T0_min=cf["T0"].min(), T0_max=cf["T0"].max(),
                 dist_plain_min=cf["distinct_plain"].min(), dist_plain_max=cf["distinct_plain"].max(),
                 dist_exp_min=cf["distinct_expected"].min(), dist_exp_max=cf["distinct_expected"].max(),
                 l10_gap_max=(cf["T0"] - cf["lemma10"]).max(), eq_ratio=eq["T0"] / eq["printed"]).items():
    pages.glue(k, float(v))
every_new = bool((cf["Ta_sim"] == L).all() and (cf["distinct_muon"] == L).all())
pages.glue("muon_phrase", "in every trial each node found a new maximum: $T_a = L$ exactly" if every_new else
           "some nodes of some trials landed on a maximum already collected")
pages.show_markdown(frame_markdown(cf[["a", "p_min", "p_max", "T0", "T0_sim", "T0_se", "bound", "Ta_sim", "lemma10",
                                       "printed", "distinct_plain", "distinct_expected", "distinct_muon"]], digits=4))

# %% [markdown]
# ```{glue:figure} muon_coupon
# :name: fig-muon-coupon
# :alt: Number of nodes needed to reach all L maxima against the Fréchet shape a, on a log scale: the T0 line of Eq. 41 with the independent-flow simulation markers on it, the Eq. 46 bound above the Muon simulation markers at L, and the two lower bounds below T0.
# :figwidth: 100%
#
# **Independent versus Muon-guided collection of the $L$ = {glue:text}`L` maxima.** Blue: Eq. 41's $T_0$ and the
# independent flow (bars: ±2 standard errors); orange: the bound of Eq. 46 and the Muon-guided flow; green dotted:
# Lemma 10's lower bound; dash-dotted: the main text's; grey: $L$.
# {download}`Data (CSV) <../figures/muon/muon_coupon.csv>` ·
# {download}`image (PNG) <../figures/muon/muon_coupon.png>`
# ```

# %%
pages.show_figure(ch.muon_coupon(cf), out_dir, "muon_coupon", ch.muon_coupon_data(cf))

# %% [markdown]
# ## (d) Fig. 8: Adam versus Muon on $\mathbb Z_{71}$ at small width
# All runs of one optimizer and width share one batched `li2core.train` call. Per width, the table gives each
# optimizer's best learning rate (lowest seed-mean final test loss) and in how many learning rates Muon's mean
# test loss is below Adam's. {glue:md}`fig8_verdict`

# %%
t0 = time.time()
results = [li2core.train(ch.fig8_configs(M, [K], lrs, seeds, opt, epochs, train_frac, weight_decay, activation,
                                         loss, eval_every), device=device, metrics="basic")
           for opt in ("adam", "muon") for K in widths]
f8 = ch.fig8_frame(results)
summ = ch.fig8_summary(f8)
print(f"{len(f8)} runs on {results[0].device} in {time.time() - t0:.1f} s")
pages.show_markdown(frame_markdown(summ, digits=4))
muon_wins = summ[summ["muon_loss"] < summ["adam_loss"]]["K"].tolist()
adam_wins = summ[summ["muon_loss"] >= summ["adam_loss"]]["K"].tolist()
div_more = summ[summ["muon_div"] > summ["adam_div"]]["K"].tolist()
gap = (summ["adam_loss"] - summ["muon_loss"]).tolist()
def _at(ks):
    return f"K = {', '.join(map(str, ks))}" if ks else "no K"


verdict = (f"At the best learning rate of each, Muon's final test loss is lower at {_at(muon_wins)} and not lower "
           f"at {_at(adam_wins)} (Adam minus Muon: "
           f"{', '.join(pages.fmt_num(g, 2) for g in gap)}); Muon covers more distinct frequencies at {_at(div_more)} "
           f"(means over seeds: Adam "
           f"{', '.join(pages.fmt_num(x, 3) for x in summ['adam_div'])}, Muon "
           f"{', '.join(pages.fmt_num(x, 3) for x in summ['muon_div'])}).")
pages.glue("fig8_verdict", verdict)
pages.glue("loss_spread", float(f8.groupby(["optimizer", "K", "lr"])["test_loss"].agg(lambda s: s.max() - s.min()).max()))

# %% [markdown]
# ```{glue:figure} muon_fig8
# :name: fig-muon-fig8
# :alt: Two panels against the hidden width K on a log2 axis: left, the final test loss of Adam and of Muon for each learning rate; right, the number of distinct frequencies the hidden nodes cover, with a grey line at M over 2; seed means with min-to-max bars.
# :figwidth: 100%
#
# **Fig. 8's comparison at this book's settings.** Seed means of the final test loss (left) and of the distinct
# dominant frequencies of the hidden nodes (right; grey: all $M//2$ = {glue:text}`n_freq`), per optimizer (colour)
# and learning rate (line style); bars span min..max over seeds (the largest spread of the test loss in one cell is
# {glue:text}`loss_spread:.3f`).
# {download}`Data (CSV) <../figures/muon/muon_fig8.csv>` ·
# {download}`image (PNG) <../figures/muon/muon_fig8.png>`
# ```

# %%
pages.show_figure(ch.muon_fig8(f8, M), out_dir, "muon_fig8", ch.muon_fig8_data(f8))
ok_loss = bool((summ["muon_loss"] < summ["adam_loss"]).all())
ok_div = bool((summ["muon_div"] >= summ["adam_div"]).all())

# %% [markdown]
# **What this size cannot show.** The ci profile trains {glue:text}`epochs` epochs at two widths and two learning
# rates with two seeds, so a difference between the optimizers smaller than the seed spread is not resolved, and a
# slower optimizer may simply not have finished; the paper profile (`book/profiles/paper.yml`) trains longer, at more
# widths, learning rates and seeds. The Eq. 10 simulations and the lemmas are exact at any size.
#
# ## Deviations from the paper
# These are collected, with the other chapters' deviations, on [the Notes page](notes_on_the_paper.ipynb). Whether
# Fig. 8's claim holds depends on settings the paper does not give. The deviation is declared for this book's
# settings (the ci profile); if a longer run, e.g. the paper profile, does reach Muon's lower test loss at every
# width, its check turns into a FAIL ("a declared deviation holds after all"), which says that this page must be
# revisited, instead of silently changing its verdict.
#
# ```{admonition} Deviation: the main text's lower bound on T₀ drops a factor L
# :class: warning
# **Claim (Thm 8, main text):** $T_0 \ge \max(1/\min_l p_l,\ \sum_{l\le L}1/l)$, with equality iff $p_l = 1/L$.
# **Computed:** at $p_l = 1/L$ ($L$ = {glue:text}`L`), Eq. 41 integrated numerically gives $T_0$ =
# {glue:text}`eq_T0:.3f`, {glue:text}`eq_ratio:.3f` times the printed bound and equal to Lemma 10's
# $L\sum_{l\le L}1/l$. **Reason:** Lemma 10 (App. B.3) proves the bound with the factor $L$; the main text drops it.
# ```

# %%
pages.show_markdown(
    "```{admonition} Deviation: Muon does not reach the lower test loss here\n:class: warning\n"
    "**Claim (Fig. 8):** with K small relative to M = 71, Muon reaches a lower test loss than Adam. "
    f"**Computed:** {verdict} The largest spread over seeds of the final test loss in one (optimizer, K, lr) cell "
    f"is {pages.fmt_num(f8.groupby(['optimizer', 'K', 'lr'])['test_loss'].agg(lambda s: s.max() - s.min()).max(), 2)}. "
    "**Likely reason:** Fig. 8's K, learning rates, weight decay, epochs and p are not stated; at these (the "
    "book's Fig. 3 settings, one lr for both optimizers as in the author's script) Adam at its best lr is as "
    "good or better at some K. Nothing was tuned to change this.\n```")

# %% tags=["checks"]
checks.add("Lemma 2: ⟨UVᵀ, G⟩ = tr D (max relative error)", float(l2["rel_err"].max()), float(l2["rel_err"].max()) <= 1e-12,
           threshold="≤ 1e-12", source="theory", paper="⟨UVᵀ, G⟩ = tr(D)")
checks.add("Lemma 2: ⟨UVᵀ, G⟩ > 0 for G ≠ 0 (min)", float(l2["inner"].min()), float(l2["inner"].min()) > 0,
           threshold="> 0", source="paper", paper="tr(D) ≥ 0, 0 only at G = 0")
checks.add("the author's Newton–Schulz update also ascends: min ⟨NS₅(G), G⟩ / tr D", float(l2["inner_ns5"].min()),
           float(l2["inner_ns5"].min()) > 0, threshold="> 0", source="fixed before looking",
           paper="(Lemma 2 for the exact UVᵀ)")
checks.add("Lemma 9: the exact last column is parallel to the approximation (max |exact − factor·approx|)",
           float(l9["parallel_error"].max()), float(l9["parallel_error"].max()) <= 1e-12, threshold="≤ 1e-12",
           source="theory", paper="v̂ ≈ v⊥/‖v⊥‖ + v∥/(1 + ‖v⊥‖)")
checks.add("Lemma 9: the error is second order in ‖v∥‖ (log–log slopes, ‖v∥‖ ≤ 0.03)", {"min": slope, "max": slope_hi},
           abs(slope - 2) <= 0.05 and abs(slope_hi - 2) <= 0.05, threshold="2 ± 0.05", source="theory", fmt=".4f")
checks.add("Lemma 9: components along occupied maxima are damped by at least 1/2 relative to v⊥ (max, ‖v⊥‖ ≤ 1)",
           float(l9["relative_damping"].max()), float(l9["relative_damping"].max()) <= 0.5 + 1e-9, threshold="≤ 1/2",
           source="paper", paper="damped by at least 1/2", fmt=".6f")
checks.add("Lemma 8: every independent node ends at its initial leader (share)", float(cf["leader_share"].min()),
           float(cf["leader_share"].min()) == 1.0, threshold="= 1", source="paper",
           paper="the initial leader arg max μ_l α_l(0) wins")
checks.add("Lemma 7: independent end points follow p_l = μ_l^a / Σμ^a (max gap in binomial SEs)", float(z_freq),
           float(z_freq) <= 4, threshold="≤ 4", source="fixed before looking", fmt=".2f")
checks.add("Eq. 41: the simulated collection time matches T₀ (max gap in SEs, across a)", float(z_T0),
           float(z_T0) <= 4 and int(cf["plain_incomplete"].sum()) == 0, threshold="≤ 4, every trial complete",
           source="fixed before looking", paper="T₀ = ∫(1 − Π(1 − e^{−p_l t}))dt", fmt=".2f")
eq_z = abs(float(eq["T0_sim"]) - float(eq["T0"])) / float(eq["T0_se"])
checks.add("equal μ_l: T₀ = L·H_L (Eq. 41 numerically) and the simulation matches it (gap in SEs)",
           {"|T₀ − L H_L|": abs(float(eq["T0"]) - float(eq["lemma10"])), "SEs": eq_z},
           abs(float(eq["T0"]) - float(eq["lemma10"])) <= 1e-8 and eq_z <= 4, threshold="≤ 1e-8; ≤ 4",
           source="theory", fmt=".3g")
checks.add("Eq. 46: Muon-guided T_a ≤ 2^{−a}T₀ + (1 − 2^{−a})L (max of simulated mean − bound)",
           float((cf["Ta_sim"] - cf["bound"]).max()),
           float((cf["Ta_sim"] - cf["bound"]).max()) <= 0 and int(cf["muon_incomplete"].sum()) == 0,
           threshold="≤ 0", source="paper", paper="T_a ≤ 2^{−a}T₀ + (1 − 2^{−a})L")
checks.add("Lemma 10 and the main text's bound hold: min of T₀ − bound", {
    "Lemma 10": float((cf["T0"] - cf["lemma10"]).min()), "printed": float((cf["T0"] - cf["printed"]).min())},
    float((cf["T0"] - cf["lemma10"]).min()) >= -1e-8 and float((cf["T0"] - cf["printed"]).min()) >= -1e-8,
    threshold="≥ 0", source="paper", paper="T₀ ≥ max(1/min p, L Σ1/l) (Lemma 10)", fmt=".3g")
eq_ratio = float(eq["T0"]) / float(eq["printed"])
checks.add(f"Thm 8 (main text): at equal p_l = 1/L the bound max(1/min p, Σ_(l≤L) 1/l) is attained (T₀ / bound, "
           f"L = {L})", eq_ratio, abs(eq_ratio - 1) <= 1e-6, threshold="= 1 (± 1e-6)", source="paper",
           paper="T₀ ≥ max(1/min p_l, Σ_(l≤L) 1/l), equality iff p_l = 1/L", fmt=".4f",
           deviation="the main text drops the factor L that Lemma 10 proves: at p_l = 1/L, T₀ = L Σ_(l≤L) 1/l")
checks.add("Fig. 8: Muon reaches a lower test loss than Adam at every K (best lr each; Adam − Muon)",
           dict(zip([f"K={k}" for k in summ["K"]], gap)), ok_loss, threshold="> 0 at every K",
           source="paper", paper="Muon reaches lower test loss (M = 71, small K)", fmt=".4f",
           deviation="Fig. 8's settings but M are not stated; at these (Fig. 3's, one lr for both) Muon's best test "
                     "loss is not below Adam's at every K")
checks.add("Fig. 8's mechanism: Muon covers at least as many distinct frequencies (seed means, best lr)",
           {f"K={k}": f"{a:.3g} vs {m:.3g}" for k, a, m in zip(summ["K"], summ["adam_div"], summ["muon_div"])},
           ok_div, threshold="Muon ≥ Adam at every K", source="paper",
           paper="Thm 8: Muon collects more maxima with few nodes")
checks.finish(out_dir)

# %%
pages.rerun_box("muon", globals(), profile, time.time() - t_start)
