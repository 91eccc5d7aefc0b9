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
# # Complex weights and the ridge readout (Figs. 10–13)
#
# **Claims ({cite:t}`tian2025li2`, Figs. 10–13).** Fig. 10 is the baseline with real weights; Fig. 11 is the same with
# complex weights, which "seem to grok faster"; in Fig. 12 the top layer $V$ is replaced at every step by the ridge
# solution for the current features, and grokking still happens, "slower at $M = 23$, faster at $M = 41, 89, 127$";
# Fig. 13 ($M = 23$, 500 epochs, ridge $V$): grokking happens, but later than the baseline. Stated settings
# (Figs. 10–12): $M \in \{23, 41, 89, 127\}$, Adam, lr 0.005, weight decay $5\times10^{-5}$, $K = 256$, 80 % of the
# $M^2$ pairs for training, 5 seeds. **Not stated:** epochs, activation, loss, the ridge constant.
#
# **What the author's code does** (paper-li2 §4). `use_complex_weights` holds $W$ and $V$ as complex tensors, but
# casts the real `nn.Linear` initialisation to complex (imaginary parts 0); the loss reads the real part of the
# output. The net is then real-analytic in real weights, so every gradient is real and the imaginary parts stay 0:
# the "complex" net is the real net, computed in complex arithmetic. We run it as the author's code does
# (`TrainConfig(complex_weights=True)`) and measure how far it is from the real net. A genuinely complex net needs
# imaginary parts at initialisation: `complex_imag_init` (not the author's option; the imaginary parts are drawn like
# the real parts, times {glue:text}`imag_init:g`) is run as a variant of its own, named apart. `set_weight_reg = λ`
# overwrites $V$ before every step by the SVD ridge solution on the *uncentred* features $F$ with targets
# one-hot $- 1/M$, and then the optimizer also steps $V$ (`TrainConfig(ridge_V=λ)`). We use λ =
# {glue:text}`ridge:g`, the author's yaml default from 2025-05-31 to 2025-11-29 (the paper does not state λ).
#
# **The grokking epoch** of a run is its first evaluation (every {glue:text}`eval_every` epochs) with test accuracy
# $\ge$ {glue:text}`grok_thr` (fixed before looking; the rule of the zero-init chapter and of the sweep store). Each
# variant of a seed starts from the same split and the same real initial weights, so we compare seed by seed: the
# ratio variant / real of the grokking epochs (> 1: later than the baseline).
#
# **Settings.** $M$ ∈ {glue:md}`Ms_md`, $K$ = {glue:text}`K`, $p$ = {glue:text}`train_frac:g`, Adam lr
# {glue:text}`lr:g`, weight decay {glue:text}`wd:g`, $\sigma = x^2$ and the author's `mse` loss (`mse_class`; ridge
# $V$ needs an MSE loss; the activation is our choice, as in the other training chapters), seeds
# 0–{glue:text}`seed_max`, {glue:text}`epochs` full-batch epochs. **Profile:** {glue:md}`profile`.

# %% tags=["parameters"]
Ms = [23]  # group orders M (Z_M); the paper: 23, 41, 89, 127
width = 256  # hidden width K, as stated
train_frac = 0.8  # 80 % of the M^2 pairs for training, as stated
seeds = 3  # seeds 0..seeds-1 per (M, variant); the paper: 5
epochs = 700  # full-batch optimizer steps (not stated)
lr = 5e-3
weight_decay = 5e-5
ridge = 1e-3  # ridge_V's lambda: the author's yaml default of that period
imag_init = 1.0  # complex_imag_init of the genuinely complex variant (not the author's)
activation = "sqr"
loss = "mse_class"
eval_every = 10  # accuracy every this many epochs (the resolution of the grokking epoch)
exact_epochs = 100  # a float64 rerun of the real and the author's complex net, to separate rounding from arithmetic
fig13_M = 23  # Fig. 13: group order and epochs shown
fig13_epochs = 500
threads = 1  # torch threads (one thread avoids contention on a shared 2-core machine); 0: the default
device = "auto"
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/weight_variants"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["variant_curves", "variant_epochs", "variant_fig13"]  # declared outputs (PNG + CSV)

import time

import torch

import li2core
from li2core import pages
from li2core.chapters import weight_variants as ch
from li2core.chapters.zero_init import GROK_THRESHOLD
from li2core.checks import Checks
from li2core.pages import frame_markdown

t_start = time.time()
checks = Checks("weight_variants", strict=strict)
if threads:
    torch.set_num_threads(int(threads))
configs = {v: ch.variant_configs(Ms, v, seeds, epochs, width, lr, weight_decay, train_frac, ridge, imag_init,
                                 activation, loss, eval_every) for v in ch.VARIANTS}
if fig13_M not in Ms or not 0 < fig13_epochs <= epochs:
    raise ValueError(f"fig13_M, fig13_epochs: need fig13_M in Ms = {Ms} and 0 < fig13_epochs <= epochs = {epochs}; "
                     f"got {fig13_M!r}, {fig13_epochs!r}")
for name, value in dict(imag_init=imag_init, ridge=ridge, eval_every=eval_every, grok_thr=GROK_THRESHOLD,
                        Ms_md="{" + ", ".join(str(M) for M in Ms) + "}", K=width, train_frac=train_frac, lr=lr,
                        wd=weight_decay, seeds=seeds, seed_max=seeds - 1, epochs=epochs, profile=profile,
                        fig13_M=fig13_M, fig13_epochs=fig13_epochs).items():
    pages.glue(name, value)
print(f"profile={profile}: M in {Ms}, K={width}, {seeds} seeds, {epochs} epochs")
print(f"variants {list(ch.VARIANTS)}")

# %% [markdown]
# ## 1. The runs
# One batched `li2core.train` call per variant (the real baseline on the hand-written two-layer path, the others on
# the autograd path of `li2core.models.deep`). Per $(M, \text{variant})$: how many seeds grokked, the grokking epochs
# (median, min–max over the seeds that grokked) and the paired ratio variant / real.

# %%
results, wall = {}, {}
for v, cfgs in configs.items():
    t0 = time.time()
    results[v] = li2core.train(cfgs, device=device, metrics="basic")
    wall[v] = time.time() - t0
    print(f"{v}: {len(cfgs)} runs on {results[v].device} in {wall[v]:.1f} s")
runs = ch.run_frame(list(results.values()))
summ = ch.variant_summary(runs)
pages.show_markdown(frame_markdown(summ, digits=3))
fit_min = float(runs["final_train_acc"].min())


def cell(M, v):
    return summ[(summ["M"] == M) & (summ["variant"] == v)].iloc[0]


# %% [markdown]
# ```{glue:figure} variant_curves
# :name: fig-variant-curves
# :alt: Test accuracy against the epoch, one panel per group order, one colour per variant (real, complex with the author's init drawn dashed on top of the real lines, complex with an imaginary init, ridge V), one line per seed, with a dotted grey line at the grokking threshold.
# :figwidth: 100%
#
# **Figs. 10–12 at this build's size.** Test accuracy of every seed and variant; the author's complex net (dashed)
# lies on the real net's lines.
# {download}`Data (CSV) <../figures/weight_variants/variant_curves.csv>` ·
# {download}`image (PNG) <../figures/weight_variants/variant_curves.png>`
# ```

# %%
pages.show_figure(ch.variant_curves(results), out_dir, "variant_curves", ch.variant_curves_data(results))

# %% [markdown]
# ## 2. The author's complex weights are the real network
# For every seed, the author's complex net against the real net: the largest imaginary part of the final weights is
# {glue:text}`imag_max:g`, the test accuracies differ by at most {glue:text}`acc_diff:g` at any evaluation, and the
# grokking epochs are {glue:md}`grok_same`. The final float32 weights differ by up to {glue:text}`w_diff:.1e`
# (relative): the complex net runs on the autograd path and the real one on the hand-written path, so float32
# rounding differs, and {glue:text}`epochs` Adam steps amplify it (the training losses, tiny late in training,
# then differ by up to {glue:text}`loss_diff:.2f` relative). The same pair rerun in float64 for
# {glue:text}`exact_epochs` epochs differs by {glue:text}`w_diff64:.1e`: rounding, not a different network. So
# Fig. 11 cannot differ from Fig. 10 through this option as the stored code has it; the genuinely complex init
# (`complex_imag_init` = {glue:text}`imag_init:g`) is another network, with the grokking epochs in the table above.

# %%
eq = ch.complex_equivalence(results["real"], results["complex"])
pages.show_markdown(frame_markdown(eq, digits=3))
same = bool((eq["grok_real"].fillna(-1) == eq["grok_complex"].fillna(-1)).all())
# the same comparison in float64 over the first exact_epochs epochs: what is left is rounding, not arithmetic
c64 = {v: [c.replace(dtype="float64", epochs=exact_epochs) for c in configs[v]] for v in ("real", "complex")}
eq64 = ch.complex_equivalence(*(li2core.train(c64[v], device=device, metrics="basic") for v in ("real", "complex")))
pages.glue("w_diff64", float(eq64["weight_rel_diff"].max()))
pages.glue("exact_epochs", exact_epochs)
pages.glue("imag_max", float(eq["max_imag"].max()))
pages.glue("w_diff", float(eq["weight_rel_diff"].max()))
pages.glue("acc_diff", float(eq["acc_diff"].max()))
pages.glue("loss_diff", float(eq["loss_rel_diff"].max()))
pages.glue("grok_same", "identical for every seed" if same else "not identical for every seed")

# %% [markdown]
# ```{glue:figure} variant_epochs
# :name: fig-variant-epochs
# :alt: Grokking epoch of every run for each group order, markers side by side for the four variants (real, complex with the author's init, complex with an imaginary init, ridge V), one marker per seed, open markers for runs that did not grok, horizontal bars at the medians.
# :figwidth: 100%
#
# **Grokking epochs per variant.** One marker per seed; bars: medians; an open marker at the last epoch: that run did
# not grok within {glue:text}`epochs` epochs.
# {download}`Data (CSV) <../figures/weight_variants/variant_epochs.csv>` ·
# {download}`image (PNG) <../figures/weight_variants/variant_epochs.png>`
# ```

# %%
pages.show_figure(ch.variant_epochs(runs), out_dir, "variant_epochs", ch.variant_epochs_data(runs))

# %% [markdown]
# ## 3. Fig. 13: the ridge readout at M = {glue:text}`fig13_M` in the first {glue:text}`fig13_epochs` epochs
# {glue:md}`fig13_text`

# %%
r13 = runs[(runs["M"] == fig13_M) & (runs["variant"] == "ridge")]
b13 = runs[(runs["M"] == fig13_M) & (runs["variant"] == "real")]
ridge_in = int((r13["grok_epoch"] <= fig13_epochs).sum())
pages.glue("fig13_text", (
    f"Within {fig13_epochs} epochs, {ridge_in} of {len(r13)} ridge runs grok (the baseline: "
    f"{int((b13['grok_epoch'] <= fig13_epochs).sum())} of {len(b13)}); over the whole {epochs} epochs the ridge runs "
    f"grok at epochs {', '.join('never' if e != e else str(int(e)) for e in r13['grok_epoch'])} and the baseline at "
    f"{', '.join('never' if e != e else str(int(e)) for e in b13['grok_epoch'])}."))

# %% [markdown]
# ```{glue:figure} variant_fig13
# :name: fig-variant-fig13
# :alt: Training accuracy (dotted) and test accuracy (solid) against the epoch for the real baseline and for ridge V on the same group, one line per seed, over the first epochs of Fig. 13, with a dashed grey line at the grokking threshold.
# :figwidth: 100%
#
# **Fig. 13 at this build's size.** Training (dotted) and test (solid) accuracy of the real baseline and of ridge $V$.
# {download}`Data (CSV) <../figures/weight_variants/variant_fig13.csv>` ·
# {download}`image (PNG) <../figures/weight_variants/variant_fig13.png>`
# ```

# %%
pages.show_figure(ch.fig13_curves(results, fig13_M, fig13_epochs), out_dir, "variant_fig13",
                  ch.fig13_data(results, fig13_M, fig13_epochs))

# %% [markdown]
# **What this size cannot show.** The ci profile trains $M$ ∈ {glue:md}`Ms_md` only, with {glue:text}`seeds` seeds
# and {glue:text}`epochs` epochs: ridge $V$ is about ten times slower per epoch on a CPU (a batched SVD every step), so
# the paper's "faster at $M = 41, 89, 127$" is checked only by the paper profile (`book/profiles/paper.yml`: all four
# $M$, 5 seeds), where those rows appear. With few seeds a ratio is known roughly; the grokking epoch has a resolution
# of {glue:text}`eval_every` epochs.

# %% [markdown]
# ## Deviations from the paper
# Three claims do not hold at this book's settings; the checks table below gives the claim, the measured number and
# the reason for each, and the [Notes page](notes_on_the_paper.ipynb) collects them with the other chapters'
# deviations. (1) The author's `use_complex_weights` cannot grok faster than the real net: it is the real net.
# (2) With a genuinely complex init (not the author's) the complex net groks later, not earlier, at the group orders
# of this build. (3) Fig. 13's ridge-$V$ runs grok later than the baseline, as the paper says, but not within the
# figure's epochs at the yaml-default λ. The declarations are static: if a declared deviation no longer shows at
# another setting, its row turns into a FAIL, which says that this page must be revisited.

# %%
#: Declared for this book's settings (static). The author's complex option is the real net at every setting; the other
#: rows are declared for the group orders of the ci profile and are undeclared claims at any other M.
DEV_CIMAG = {23}
DEV_FIG13 = {23}

# %% tags=["checks"]
checks.add("every run fits its training set (least final training accuracy)", fit_min, fit_min >= 0.95,
           threshold="≥ 0.95", source="fixed before looking", paper="—", fmt=".3f")
checks.add("the author's complex weights stay real: largest |imaginary part| of the final weights", float(eq["max_imag"].max()),
           float(eq["max_imag"].max()) == 0.0, threshold="= 0", source="theory",
           paper="— (real init, real-analytic net: real gradients)")
checks.add(f"the author's complex net is the real net: largest relative difference of the weights, float64, "
           f"{exact_epochs} epochs", float(eq64["weight_rel_diff"].max()), float(eq64["weight_rel_diff"].max()) <= 1e-8,
           threshold="≤ 1e-8", source="fixed before looking", paper="— (equal in exact arithmetic)", fmt=".1e")
checks.add(f"float32, {epochs} epochs: the same difference (rounding in a different order, amplified by training)",
           float(eq["weight_rel_diff"].max()), float(eq["weight_rel_diff"].max()) <= 1e-2, threshold="≤ 1e-2",
           source="documents", paper="—", fmt=".1e")
checks.add("the author's complex net groks at the same epochs as the real net, every seed", same, same,
           threshold="identical", source="theory", paper="—")
for M in Ms:
    c, ci, rd = cell(M, "complex"), cell(M, "complex_imag"), cell(M, "ridge")
    checks.add(f"Z{M}, Fig. 11: complex weights (the author's option) grok faster: median ratio complex / real",
               c["ratio_median"], c["ratio_median"] < 1, threshold="< 1", source="paper",
               paper="complex weights seem to grok faster", fmt=".3f",
               deviation="the author's use_complex_weights starts from the real init, so the net stays real and "
                         "groks exactly when the real net does (ratio 1 by construction)")
    checks.add(f"Z{M}, Fig. 11 with a genuinely complex init (complex_imag_init = {imag_init:g}, not the author's): "
               "median ratio complex / real", {"ratio": ci["ratio_median"], "grokked": f"{ci['grokked']}/{ci['seeds']}"},
               ci["ratio_median"] < 1, threshold="< 1", source="paper", paper="complex weights seem to grok faster",
               fmt=".3f", deviation=(f"at Z{M} the complex init groks later than the real baseline (median ratio "
                                     f"{ci['ratio_median']:.2f}); the paper's complex init is not stated"
                                     if M in DEV_CIMAG else None))
    slower = M == 23
    checks.add(f"Z{M}, Fig. 12: ridge V groks {'slower' if slower else 'faster'} than the baseline: median ratio "
               "ridge / real", {"ratio": rd["ratio_median"], "grokked": f"{rd['grokked']}/{rd['seeds']}"},
               rd["ratio_median"] > 1 if slower else rd["ratio_median"] < 1, threshold="> 1" if slower else "< 1",
               source="paper", paper="slower at M = 23, faster at M = 41, 89, 127", fmt=".3f")
r13_all = int((r13["grok_epoch"] <= fig13_epochs).sum()) == len(r13)
checks.add(f"Z{fig13_M}, Fig. 13: ridge V groks within {fig13_epochs} epochs (runs that do)", f"{ridge_in}/{len(r13)}",
           r13_all, threshold="every seed", source="paper", paper="grokking happens within 500 epochs, later than baseline",
           deviation=(f"with λ = {ridge:g} (the yaml default), K = {width}, p = {train_frac:g}, the ridge runs grok "
                      f"only after {fig13_epochs} epochs; Fig. 13's λ, activation and loss are not stated"
                      if fig13_M in DEV_FIG13 else None))
later = bool((r13["grok_epoch"].fillna(epochs + 1).to_numpy() > b13["grok_epoch"].fillna(epochs + 1).to_numpy()).all())
checks.add(f"Z{fig13_M}, Fig. 13: ridge V groks later than the baseline, every seed", later, later,
           threshold="every seed", source="paper", paper="later than baseline")
checks.finish(out_dir)

# %%
pages.rerun_box("weight_variants", globals(), profile, time.time() - t_start)
