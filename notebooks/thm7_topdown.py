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
# # Top-down modulation: what is left to learn (Theorem 7)
#
# **Claim ({cite:t}`tian2025li2`, Sec. 5.2, Theorem 7, App. B.2).** Once the hidden layer has learned some of the
# irreps and the readout $V$ reconstructs them, the backpropagated gradient $G_F$ of Eq. 2 carries only the
# *residual* of the targets. Each hidden node then ascends a modified energy $\mathcal E_{\mathcal S}$ that keeps
# local maxima on the irreps not yet learned, and none on the learned ones: the top layer steers the hidden layer
# towards what is still missing.
#
# :::{prf:theorem} Li₂ Thm 7: top-down modulation
# :label: thm-topdown
# :nonumber:
# For group tasks with $\sigma(x) = x^2$, suppose the hidden layer has learned only a subset $\mathcal S$ of irreps.
# Then $G_F \propto (\Phi_{\mathcal S}\otimes\mathbf 1_M)(\Phi_{\mathcal S}\otimes\mathbf 1_M)^*F$, where
# $\Phi_{\mathcal S} = [\sqrt{d_k/M}\,\chi_k(\cdot)]_{k\neq0,\,k\notin\mathcal S}$, and the modified energy
# $\mathcal E_{\mathcal S} = \tfrac12\|(\Phi_{\mathcal S}\otimes\mathbf 1_M)^*F\|^2
# = \frac M2\sum_{k\neq0,\,k\notin\mathcal S}\frac1{d_k}\big|\sum_r\mathrm{tr}(\hat S_{k,r})\big|^2$
# has local maxima only on the missing irreps.
# :::
#
# (The columns of $\Phi_{\mathcal S}$ are the *missing* irreps, despite the subscript.) The energy is
# {prf:ref}`Theorem 1 <thm-energy>`'s $\mathcal E(\mathbf w) = \tfrac12\|\tilde Y^\top\sigma(X\mathbf w)\|^2$ with
# $\tilde Y$ replaced by the residual $R = \tilde Y - \hat Y$; the closed form is Eq. 20 of
# {prf:ref}`Theorem 2 <thm-maxima>`'s proof restricted to the missing irreps ($\mathbf w = [\mathbf u; P\mathbf v]$,
# $S_{ij} = \sigma(u_i + v_j)$, $\hat S = Q^*SQ$ with $Q$ adapted to the irreps of the regular representation).
#
# **What we compute.** (a) $\mathcal E_{\mathcal S}$ at unit Fourier nodes of $\mathbb Z_M$, frequency by frequency,
# before ($\mathcal S = \emptyset$) and after a set $\mathcal S$ of frequencies is learned, three ways: literally
# (`theory.energy_missing`, with the proof's residual $R = \tilde Y(I - \sum_{c\in\mathcal S}\Pi_c)$), in the closed
# form (`theory.energy_missing_closed_form`, from $S$ alone, never from the labels), and with the least-squares residual
# of constructed learned nodes (`theory.ls_residual`, what a real readout leaves). (b) Where projected ascent of
# $\mathcal E_{\mathcal S}$ ends from random starts, on $\mathbb Z_M$ and on non-Abelian groups, where the printed
# closed form and the exact one part. (c) Real training on $\mathbb Z_M$ with $\sigma = x^2$ and the paper's loss
# (Eq. 1): at each snapshot, which frequencies the hidden nodes have learned (the least-squares residual of the
# *current* nodes, over all $M^2$ pairs) and the spectrum of $G_F$ per frequency (`measures.gf_spectrum`), to test
# whether the top-down signal goes where the theorem says.
#
# **Profile.** This page was built with the {glue:md}`profile` profile. Part (a) uses $\mathbb Z_{M}$ with
# $M$ = {glue:text}`M_theory` and $\mathcal S$ = {glue:md}`learned_md` ({glue:text}`n_learned` of the
# {glue:text}`L_theory` frequency pairs, drawn with seed {glue:text}`seed`); (b) {glue:text}`n_starts` starts per set
# and the groups {glue:md}`nonabelian_md`; (c) $\mathbb Z_{M}$ with $M$ = {glue:text}`M` (prime), $p$ =
# {glue:text}`train_frac` ($n$ = {glue:text}`n_train` training pairs), widths $K$ = {glue:md}`widths_md`,
# {glue:text}`seeds` seeds each, full-batch Adam (lr {glue:text}`lr:g`, weight decay {glue:text}`weight_decay:g`),
# {glue:text}`epochs` epochs, snapshots every {glue:text}`snapshot_every` epochs. The narrow width has about
# {glue:text}`nodes_per_freq:.1f` nodes per frequency, few enough that the frequencies are learned one after the
# other; the wide one learns them nearly at once. Parts (a) and (b) are exact at any size. What this small size cannot
# show: how the training results change with $M$ (the paper profile, `book/profiles/paper.yml`, uses the Fig. 3 size
# $M = 71$, $K = 2048$ and a narrow width, for a GPU; it has not been run), and with {glue:text}`seeds` seeds per
# width the medians below are rough.

# %% tags=["parameters"]
M_theory = 23  # part (a)-(b): the group Z_M of the energy tables
n_learned = 4  # frequencies in the learned set S (drawn with seed)
per_freq = 3  # unit Fourier probe nodes per frequency in (a)
offset = 0.5  # phase offset scale of the constructed learned nodes (a real maximum needs an offset, Thm 3)
n_starts = 32  # random starts of the ascent of E_S in (b)
ascent_steps = 2000
nonabelian = ["S3", "D5"]  # non-Abelian groups for the closed-form comparison ([] to skip)
M = 23  # part (c): training on Z_M, M prime
train_frac = 0.5  # training fraction p, n / M^2
widths = [32, 128]  # hidden widths K: a narrow one (frequencies one by one) and a wide one
seeds = 3  # seeds 0..seeds-1 per width
epochs = 600
lr = 1e-2  # Adam (the fig5 chapter's CPU lr)
weight_decay = 0.13  # n * 1e-3 / 2: fig5's CPU weight decay (mse_class) mapped to the summed loss mse_sample
snapshot_every = 10  # weights read every this many epochs
level = 0.5  # a frequency counts as learned when E_S / E with the current nodes' residual is at most this
level_full = 0.1  # ... and as fully learned (Theorem 7's premise) when at most this
min_purity = 0.5  # a node counts at its dominant frequency when at least this share of its power is there
seed = 0
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/thm7_topdown"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["thm7_energy", "thm7_spectrum", "thm7_tracking"]  # declared outputs (PNG + CSV)

import time

import numpy as np
import torch

import li2core
from li2core import groups, pages
from li2core.chapters import thm7_topdown as ch
from li2core.checks import Checks
from li2core.pages import frame_markdown, markdown_table

t_start = time.time()
torch.set_num_threads(1)  # small tensors: one thread avoids contention on a shared 2-core machine
checks = Checks("thm7_topdown", strict=strict)
learned = ch.draw_learned(M_theory, n_learned, seed)  # ValueError for a bad n_learned
nonab_groups = [groups.make(name) for name in nonabelian]  # ValueError for an unknown group name
for _name, _v in (("level", level), ("level_full", level_full)):
    if not 0 < _v < 1:
        raise ValueError(f"{_name}: must lie in (0, 1); got {_v!r}")
configs = ch.topdown_configs(M, widths, train_frac, seeds, epochs, lr, weight_decay, loss="mse_sample")
snaps = ch.snapshot_epochs(epochs, snapshot_every)
n_train = configs[0].n_train
for name, value in dict(M_theory=M_theory, n_learned=n_learned, L_theory=M_theory // 2,
                        learned_md="{" + ", ".join(map(str, learned)) + "}", seed=seed, n_starts=n_starts,
                        nonabelian_md=", ".join(f"`{g}`" for g in nonabelian) or "none", M=M, train_frac=train_frac,
                        n_train=n_train, widths_md=", ".join(map(str, widths)), seeds=seeds, lr=lr,
                        weight_decay=weight_decay, epochs=epochs, snapshot_every=snapshot_every, level=level,
                        nodes_per_freq=min(widths) / (M // 2), per_freq=per_freq, offset=offset,
                        profile=profile).items():
    pages.glue(name, value)
print(f"profile={profile}: (a) Z{M_theory}, S = {learned}; (c) Z{M}, n = {n_train}, K = {widths}, {seeds} seeds, "
      f"{epochs} epochs")

# %% [markdown]
# ## (a) $\mathcal E_{\mathcal S}$ per frequency, before and after
# The probes are {glue:text}`per_freq` unit Fourier nodes per frequency (`fourier.fourier_node`, random phase, offset
# between the halves and sign), each a maximum of $\mathcal E$. Four residuals: $\tilde Y$ itself
# ($\mathcal S = \emptyset$: Theorem 1's $\mathcal E$); the proof's residual $\tilde Y$ without the isotypic components
# of $\mathcal S$; and the least-squares residual $\tilde Y - \tilde F V_{\rm ls}$ of four real maxima per learned
# frequency, once with the two halves' phases offset (scale {glue:text}`offset:g`) and once exact,
# $[\mathbf u; \pm P\mathbf u]$. {prf:ref}`Theorem 3 <thm-reconstruction>` says the first set reconstructs its
# frequencies exactly and the second cannot ([the reconstruction chapter](thm3_reconstruction.ipynb)); the table
# shows what that does to $\mathcal E_{\mathcal S}$.

# %%
table = ch.energy_table(M_theory, learned, per_freq=per_freq, seed=seed, offset=offset)
en = ch.energy_numbers(table)
for k, v in en.items():
    pages.glue(k, v)
summ = ch.thm7_energy_data(table)
show = summ.assign(S=summ["learned"].map({True: "learned", False: "missing"}))
pages.show_markdown(markdown_table(
    ["residual", "learned frequencies: $\\mathcal E_{\\mathcal S}/\\mathcal E$", "missing: $\\mathcal E_{\\mathcal S}/\\mathcal E$"],
    [[ch.RESIDUALS[r], pages.fmt_range(d.loc[d["learned"], "ratio_min"].tolist() + d.loc[d["learned"], "ratio_max"].tolist(), digits=3),
      pages.fmt_range(d.loc[~d["learned"], "ratio_min"].tolist() + d.loc[~d["learned"], "ratio_max"].tolist(), digits=3)]
     for r in ch.RESIDUALS for d in [summ[summ["residual"] == r]] if len(d)]))
print(f"E at the probes (literal) = {en['E_lit']:.6f} = M/4 (Thm 2's M/16 times the 4 of the thm2 chapter);\n"
      f"closed form vs literal: max relative error {en['closed_err']:.1e}")

# %% [markdown]
# The learned frequencies vanish (largest $\mathcal E_{\mathcal S}/\mathcal E$ {glue:text}`learned_max:.1e`), the
# missing ones keep their maxima exactly (largest $|\mathcal E_{\mathcal S}/\mathcal E - 1|$
# {glue:text}`missing_err:.1e`), and the closed form agrees with the literal value to {glue:text}`closed_err:.1e`.
# The least-squares residual of phase-offset learned nodes is the proof's residual (to
# {glue:text}`ls_offset_err:.1e`); with exact maxima the learned frequencies keep between
# {glue:text}`ls_exact_min:.2f` and {glue:text}`ls_exact_max:.2f` of their energy, depending on the probe's phase:
# an exact real maximum reconstructs only half of its frequency's block, so Theorem 7's premise "learned" needs the
# offset too.
#
# ```{glue:figure} thm7_energy
# :name: fig-thm7-energy
# :alt: Four stacked bar charts over the frequencies of Z_M, one per residual; bars give E_S divided by E at unit Fourier nodes, learned frequencies shaded grey, closed-form values as black crosses in the first two panels.
# :figwidth: 100%
#
# **$\mathcal E_{\mathcal S}$ per frequency.** $\mathcal E_{\mathcal S}/\mathcal E$ at {glue:text}`per_freq` unit
# Fourier nodes per frequency of $\mathbb Z_{M}$, $M$ = {glue:text}`M_theory` (bars: mean; ticks: min–max), learned
# frequencies {glue:md}`learned_md` shaded. Top: nothing learned. Second: the proof's residual, with the closed form
# (Eq. 20 on the missing irreps) as crosses. Third and fourth: the least-squares residual of four phase-offset,
# respectively exact, real maxima per learned frequency.
# {download}`Data (CSV) <../figures/thm7_topdown/thm7_energy.csv>` ·
# {download}`image (PNG) <../figures/thm7_topdown/thm7_energy.png>`
# ```

# %%
pages.show_figure(ch.thm7_energy(table), out_dir, "thm7_energy", summ)

# %% [markdown]
# ## (b) Where the ascent of $\mathcal E_{\mathcal S}$ ends
# Projected gradient ascent on the unit sphere (`theory.ascend_missing`) from {glue:text}`n_starts` Gaussian starts,
# on $\mathbb Z_{M}$ with the same $\mathcal S$, and on each non-Abelian group with every non-trivial real component
# in turn as $\mathcal S$. The closed form is evaluated two ways: as printed, $|\sum_r \mathrm{tr}\,\hat S_{k,r}|^2$,
# and with $\|\sum_r \hat S_{k,r}\|_F^2$ in its place. Schur orthogonality gives the second exactly
# ($z_h = \sum_k \mathrm{tr}(\rho_k(h)^\top A_k)$ with $A_k = \sum_r\hat S_{k,r}$, so
# $\sum_h |z_h|^2 = M\sum_k\|A_k\|_F^2/d_k$); the two agree when every missing irrep has $d_k = 1$, i.e. on every
# Abelian group.

# %%
mx = ch.missing_maxima(f"Z{M_theory}", learned, n_starts, seed=seed, steps=ascent_steps)
cf = ch.closed_form_errors(nonabelian, n_starts=min(n_starts, 16), seed=seed, steps=ascent_steps) if nonabelian else None
zm = dict(in_S=float(mx["in_S"].mean()), purity=float(mx["purity"].min()), conv=int(mx["converged"].sum()),
          E_rel=float(((mx["E_S"] - M_theory / 4).abs() / (M_theory / 4)).max()),
          closed=float(((mx["closed_paper"] - mx["E_S"]).abs() / mx["E_S"]).max()),
          reached=", ".join(str(int(c)) for c in sorted(set(mx["component"]))))
for k, v in zm.items():
    pages.glue(f"zm_{k}", v)
print(f"Z{M_theory}, S = {learned}: {zm['conv']}/{n_starts} converged; components reached: {zm['reached']};\n"
      f"share in S = {zm['in_S']:.2f}; min purity {zm['purity']:.6f}; max |E_S - M/4| / (M/4) = {zm['E_rel']:.1e}")
if cf is not None:
    pages.show_markdown(frame_markdown(cf.rename(columns={
        "learned": "S", "dim": "d of S", "max_dim_missing": "largest missing d_k",
        "paper_random": "printed form: rel. error (random w)", "frobenius_random": "Frobenius form: rel. error",
        "paper_maxima": "printed form: rel. error at the maxima", "share_in_S": "maxima in S",
        "min_purity": "min purity", "reached": "components reached"}).drop(columns=["label"]), digits=2))
    big = cf[cf["max_dim_missing"] > 1]
    one = cf[cf["max_dim_missing"] == 1]
    nab = dict(fro=float(cf["frobenius_random"].max()), paper_big=float(big["paper_random"].min()) if len(big) else np.nan,
               paper_big_max=float(big[["paper_random", "paper_maxima"]].max().max()) if len(big) else np.nan,
               paper_one=float(one["paper_random"].max()) if len(one) else np.nan,
               in_S=float(cf["share_in_S"].max()), purity=float(cf["min_purity"].min()))
else:
    nab = dict(fro=np.nan, paper_big=np.nan, paper_big_max=np.nan, paper_one=np.nan, in_S=np.nan, purity=np.nan)
for k, v in nab.items():
    pages.glue(f"nab_{k}", v)

# %% [markdown]
# On $\mathbb Z_{M}$ every start ends at a pure missing frequency (components {glue:md}`zm_reached`; share in
# $\mathcal S$ {glue:text}`zm_in_S:.2f`), at Theorem 1's maximum value (largest relative gap
# {glue:text}`zm_E_rel:.1e`). On the non-Abelian groups the maxima also avoid $\mathcal S$ (largest share in
# $\mathcal S$ {glue:text}`nab_in_S:.2f`), and the Frobenius form equals the literal $\mathcal E_{\mathcal S}$ to
# {glue:text}`nab_fro:.1e`, but the printed form is off by {glue:text}`nab_paper_big:.2f` or more (relative) whenever
# a missing irrep has $d_k = 2$, and by up to {glue:text}`nab_paper_big_max:.2f` at the maxima, where
# $\sum_r\hat S_{k,r}$ is nearly traceless. (The location of the maxima, Theorem 7's claim, is unaffected; the same
# $|\mathrm{tr}|^2$ appears in Eq. 20 for the full energy.)
#
# ## (c) Real training: where does $G_F$ go?
# {glue:text}`n_runs` runs train on $\mathbb Z_{M}$ with the paper's loss (`mse_sample`, Eq. 1), so that $G_F$ of
# Eq. 2 is exactly the gradient the network receives (checked below: {glue:text}`gf_err:.1e`). At every snapshot and
# for every frequency $c$ we compute:
#
# * **how much of $c$ the nodes still miss**, $\mathcal E_{\mathcal S}/\mathcal E$ at unit Fourier probes of
#   frequency $c$ with the residual of a least-squares readout on the *current* nodes over all $M^2$ pairs
#   (`theory.ls_residual`): 0 when the nodes can reconstruct $c$, about 1 when they cannot. A frequency counts as
#   *learned* when it is at most {glue:text}`level:g`;
# * **the $G_F$ spectrum**: each column of $G_F$ reduced to the function of the target it carries (its class means),
#   and that function's power per frequency, summed over the nodes (`measures.gf_spectrum`). Theorem 7 says every
#   column of $G_F$ *is* such a function, lying in the missing irreps. (Why not the gradient the hidden layer
#   receives, $X^\top(\sigma'(XW)\odot G_F)$? It mixes in each node's own spectrum through $\sigma'$. And
#   $X^\top G_F$ vanishes identically on all pairs for any centred function of the target.)
#
# Theorem 7 predicts: across frequencies, the $G_F$ share rises with what is missing (a positive rank correlation),
# and the learned frequencies' share drops to 0.

# %%
t0 = time.time()
res = li2core.train(configs, snapshots=snaps, metrics="basic")
t_train = time.time() - t0
frame = ch.spectrum_frame(res, snaps, min_purity=min_purity, seed=seed)
track = ch.tracking_frame(frame, level)
cov = ch.covered_share_frame(frame, level)
cov_full = ch.covered_share_frame(frame, level_full)
lrf_med = float(cov_full["ratio"].median()) if len(cov_full) else np.nan
order = ch.learning_order(frame, level)
sn = ch.summary_numbers(track, cov, frame)
gf_err = max(ch.gf_is_the_loss_gradient(res, r, snaps[len(snaps) // 2]) for r in range(len(configs)))
df = res.frame()
final = df[df["epoch"] == df.groupby("run")["epoch"].transform("max")].set_index("run")
narrow = [r for r, c in enumerate(configs) if c.width == min(widths)]
lag = (order["learned_epoch"] - order["fitted_epoch"]).where(order["run"].isin(narrow)).dropna()
last_narrow = frame[frame["run"].isin(narrow) & (frame["epoch"] == frame["epoch"].max())]
is_learned = ch.learned_mask(last_narrow, level_full)
fit_learned = float(last_narrow.loc[is_learned, "fit_residual"].median()) if is_learned.any() else np.nan
fit_missing = float(last_narrow.loc[~is_learned, "fit_residual"].median()) if (~is_learned).any() else np.nan
lag_wide = (order["learned_epoch"] - order["fitted_epoch"]).where(~order["run"].isin(narrow)).dropna()
for k, v in dict(n_runs=len(configs), gf_err=gf_err, sp_med=sn["spearman_median"], sp_fit=sn["spearman_fit_median"],
                 sp_pos=sn["positive_share"], window_n=sn["window_n"], lr_med=sn["learned_ratio"],
                 lr_max=sn["learned_ratio_max"], lr_n=sn["learned_n"], E_many_max=sn["E_many_max"],
                 E_many_n=sn["E_many_n"], label_share_min=sn["label_share_min"],
                 lag_med=float(lag.median()) if len(lag) else np.nan,
                 lag_max=float(lag.max()) if len(lag) else np.nan,
                 lag_wide=float(lag_wide.median()) if len(lag_wide) else np.nan,
                 test_narrow=pages.fmt_range(final.loc[narrow, "test_acc"].tolist(), digits=2),
                 test_wide=pages.fmt_range(final.loc[[r for r in range(len(configs)) if r not in narrow], "test_acc"].tolist(), digits=2),
                 spread_narrow=pages.fmt_range(ch.order_table(order).set_index("run").loc[narrow, "spread (epochs)"].tolist(), digits=3),
                 spread_wide=pages.fmt_range(ch.order_table(order).set_index("run").drop(index=narrow)["spread (epochs)"].tolist(), digits=3),
                 min_purity=min_purity, fit_learned=fit_learned, fit_missing=fit_missing, level_full=level_full,
                 fit_ratio=fit_learned / fit_missing if fit_missing > 0 else np.nan, lrf_med=lrf_med, lrf_n=len(cov_full),
                 lrf_max=float(cov_full["ratio"].max()) if len(cov_full) else np.nan,
                 sp_runs=", ".join(f"{v:.2f}" for v in sn["spearman_runs"].values())).items():
    pages.glue(k, v)
print(f"{len(configs)} runs x {epochs} epochs in {t_train:.1f} s; final test accuracy: narrow K={min(widths)} "
      f"{pages.fmt_range(final.loc[narrow, 'test_acc'].tolist(), digits=2)}, others "
      f"{pages.fmt_range(final.drop(index=narrow)['test_acc'].tolist(), digits=2)}")
pages.show_markdown(frame_markdown(ch.order_table(order), digits=3))

# %% [markdown]
# The table gives, per run, the frequencies in the order the nodes learn them (epoch of the first snapshot with
# $\mathcal E_{\mathcal S}/\mathcal E \le$ {glue:text}`level:g`). The narrow runs (final test accuracy
# {glue:md}`test_narrow`) learn them one after another, the first and the last {glue:md}`spread_narrow` epochs apart;
# the wide runs (final test accuracy {glue:md}`test_wide`) within {glue:md}`spread_wide` epochs. In the narrow runs
# the training rows are fitted first: the training-row residual of a frequency falls below {glue:text}`level:g` a
# median {glue:text}`lag_med:g` epochs (at most {glue:text}`lag_max:g`) before its nodes learn it, since the readout
# can fit the training set with features that are not yet Fourier nodes (in the wide runs the median lag is
# {glue:text}`lag_wide:g` at this snapshot spacing). That is why "learned" is read off the nodes, not off the
# training residual.
#
# ```{glue:figure} thm7_spectrum
# :name: fig-thm7-spectrum
# :alt: Two heat maps, frequency against epoch, for one narrow run: top, E_S over E from the least-squares residual of the current nodes (dark: learned); bottom, the share of the G_F spectrum at each frequency relative to an even spread; white dots mark when each frequency is learned.
# :figwidth: 100%
#
# **One narrow run through training.** Top: how much of each frequency the current nodes still miss
# ($\mathcal E_{\mathcal S}/\mathcal E$ with their least-squares residual). Bottom: the $G_F$ share of the frequency
# times the number of frequencies (1 = an even spread). White dots: the epoch each frequency is learned. As a
# frequency is learned its $G_F$ share falls, and the frequencies still missing carry more of it; but a learned
# frequency's share does not fall to 0.
# {download}`Data (CSV) <../figures/thm7_topdown/thm7_spectrum.csv>` ·
# {download}`image (PNG) <../figures/thm7_topdown/thm7_spectrum.png>`
# ```

# %%
run0 = narrow[0]
pages.show_figure(ch.thm7_spectrum(frame, run0, order), out_dir, "thm7_spectrum", ch.thm7_spectrum_data(frame, run0))

# %% [markdown]
# ```{glue:figure} thm7_tracking
# :name: fig-thm7-tracking
# :alt: Left, the rank correlation across frequencies between the G_F share and E_S over E against the epoch, one line per run, dots where some but not all frequencies are learned; right, E_S over E at the end of training against the number of nodes at the frequency, one point per run and frequency.
# :figwidth: 100%
#
# **Does the top-down signal follow what is missing?** Left: per run, the rank correlation across the
# frequencies between the $G_F$ share and $\mathcal E_{\mathcal S}/\mathcal E$ (dots: snapshots with some but not all
# frequencies learned; median over the runs of each run's median {glue:text}`sp_med:.2f`). Right: at the end,
# $\mathcal E_{\mathcal S}/\mathcal E$ against the number of nodes dominated by the frequency (purity at least
# {glue:text}`min_purity:g`): four or more nodes reconstruct it.
# {download}`Data (CSV) <../figures/thm7_topdown/thm7_tracking.csv>` ·
# {download}`image (PNG) <../figures/thm7_topdown/thm7_tracking.png>`
# ```

# %%
pages.show_figure(ch.thm7_tracking(track, frame), out_dir, "thm7_tracking", ch.thm7_tracking_data(track, frame))

# %% [markdown]
# Inside the window ({glue:text}`window_n` snapshots) the rank correlation is positive in a share
# {glue:text}`sp_pos:.2f` of the snapshots (per-run medians {glue:md}`sp_runs`): $G_F$ does move toward the
# frequencies not yet learned. Against the training-row residual instead of the nodes the median is
# {glue:text}`sp_fit:.2f`. But the learned frequencies keep a median {glue:text}`lr_med:.2f` of an even share of
# $G_F$ (over {glue:text}`lr_n` snapshots), not 0; counting only the fully learned ones
# ($\mathcal E_{\mathcal S}/\mathcal E \le$ {glue:text}`level_full:g`), a median {glue:text}`lrf_med:.2f`
# (over {glue:text}`lrf_n` snapshots). The part of $G_F$ that is a function of the target at all (what
# the spectrum sees) is at least {glue:text}`label_share_min:.2f` of $\|G_F\|^2$ inside the window.
#
# ## Deviations from the paper
# These are collected, with the other chapters' deviations, on [the Notes page](notes_on_the_paper.ipynb).
#
# ```{admonition} Deviation: the printed closed form is exact only for one-dimensional irreps
# :class: warning
# **Claim (Thm 7, and Eq. 20 for the full energy):**
# $\mathcal E_{\mathcal S} = \frac M2\sum_{k}\frac1{d_k}|\sum_r\mathrm{tr}\,\hat S_{k,r}|^2$.
# **Computed:** on the non-Abelian groups {glue:md}`nonabelian_md`, whenever a missing irrep has $d_k = 2$, the
# printed form differs from the literal $\mathcal E_{\mathcal S}$ by at least {glue:text}`nab_paper_big:.2f`
# (relative, at random unit $\mathbf w$), while $\frac M2\sum_k\frac1{d_k}\|\sum_r\hat S_{k,r}\|_F^2$ agrees to
# {glue:text}`nab_fro:.1e`. **Reason:** Schur orthogonality gives $\|A_k\|_F^2$, not $|\mathrm{tr}A_k|^2$; the two are
# equal for $d_k = 1$ (every Abelian group, including all of the paper's $\mathbb Z_M$ experiments).
# ```
#
# ```{admonition} Deviation: learned frequencies do not drop out of $G_F$ in training
# :class: warning
# **Claim (Thm 7):** once $\mathcal S$ is learned, $G_F \propto (\Phi_{\mathcal S}\otimes\mathbf 1_M)(\cdots)^*F$
# lies in the missing irreps, so the learned frequencies' share of $G_F$ is 0. **Computed:** the fully learned
# frequencies ($\mathcal E_{\mathcal S}/\mathcal E \le$ {glue:text}`level_full:g`) keep a median
# {glue:text}`lrf_med:.2f` (largest {glue:text}`lrf_max:.2f`) of the share an even spread would give them; with
# {glue:text}`level:g` as the cut, {glue:text}`lr_med:.2f`. **Likely reason:** the theorem's premise is a readout that reconstructs the learned irreps
# exactly and nothing else, so that the residual is $\Phi_{\mathcal S}\Phi_{\mathcal S}^*\otimes\mathbf 1_M$: zero
# on $\mathcal S$, full on the rest. In training the readout fits the training rows with whatever features it has:
# at the end of the narrow runs the training-row residual left on a learned frequency is a median
# {glue:text}`fit_learned:.3f` of $\tilde Y$'s, and on a missing one only {glue:text}`fit_missing:.3f` (a ratio of
# {glue:text}`fit_ratio:.2f`): neither "zero" nor "full". $G_F = P_1^\perp(Y - FV)V^\top$ passes that remainder
# through $V$, and its share on the learned frequencies is larger than the residual's ratio alone would give; we have
# not isolated why (the residual on a subset of the pairs is not a function of the target alone, and $V$ weights the
# frequencies unevenly). The direction of the effect (a positive rank correlation, a share below even) holds.
# ```
#
# ## Checks
# Thresholds: identities are checked to round-off (1e-10, "theory"); the sign of the rank correlation and "below an
# even share" are the theorem's direction ("theory"); 0.1 of an even share as "vanishes" and 0.1 for "four nodes
# reconstruct" were set after one exploratory run at these settings, so their source is "documents" (they record the
# measured behaviour and are not evidence for the claim). The cut
# {glue:text}`level_full:g` for "fully learned" was added after a first version of this page, cut at
# {glue:text}`level:g`, counted half-learned frequencies as learned; both are shown.

# %% tags=["checks"]
T7 = "Thm 7 (App. B.2)"
checks.add("S = ∅ gives Theorem 1's energy (max relative error at the probes)", en["none_err"],
           en["none_err"] <= 1e-10, threshold="≤ 1e-10", source="theory", paper="R = Ỹ: E_S = E")
checks.add("learned frequencies vanish: max E_S/E at their unit Fourier nodes", en["learned_max"],
           en["learned_max"] <= 1e-10, threshold="≤ 1e-10", source="theory", paper=f"{T7}: no maxima on S")
checks.add("missing frequencies keep their maxima: max |E_S/E − 1|", en["missing_err"], en["missing_err"] <= 1e-10,
           threshold="≤ 1e-10", source="theory", paper=f"{T7}: maxima on the missing irreps")
checks.add(f"Z{M_theory}: closed form (Eq. 20 on the missing irreps) = literal E_S (max relative error)",
           en["closed_err"], en["closed_err"] <= 1e-10, threshold="≤ 1e-10", source="theory",
           paper=f"{T7}: E_S = (M/2) Σ (1/d_k)|Σ_r tr Ŝ_k,r|²")
checks.add("least-squares residual of 4 phase-offset maxima per learned frequency = the proof's residual "
           "(max |ΔE_S|/E)", en["ls_offset_err"], en["ls_offset_err"] <= 1e-10, threshold="≤ 1e-10",
           source="theory", paper="Thm 3 + proof of Thm 7: Ŷ − Ỹ = Φ_S Φ_S* ⊗ 1")
checks.add("exact real maxima [u; ±Pu] leave part of their frequency (E_S/E at learned frequencies, min–max)",
           {"min": en["ls_exact_min"], "max": en["ls_exact_max"]}, en["ls_exact_min"] > 0.01,
           threshold="> 0.01", source="theory", paper="Thm 3: in ℝ exact maxima do not reconstruct", fmt=".3f")
checks.add(f"Z{M_theory}: ascent of E_S ends only on missing frequencies (share in S; min purity)",
           {"in S": zm["in_S"], "purity": zm["purity"]}, zm["in_S"] == 0 and zm["purity"] >= 0.99,
           threshold="= 0, ≥ 0.99", source="theory", paper=f"{T7}: local maxima only on the missing irreps", fmt=".4f")
checks.add(f"Z{M_theory}: the maxima reached keep Theorem 1's value M/4 (max relative gap)", zm["E_rel"],
           zm["E_rel"] <= 1e-6, threshold="≤ 1e-6", source="fixed before looking")
if nonabelian:
    checks.add(f"{', '.join(nonabelian)}: ascent of E_S avoids S (largest share of maxima in S)", nab["in_S"],
               nab["in_S"] == 0, threshold="= 0", source="theory", paper=f"{T7}: any group")
    checks.add(f"{', '.join(nonabelian)}: the Frobenius form (M/2) Σ ‖Σ_r Ŝ_k,r‖²_F / d_k = literal E_S",
               nab["fro"], nab["fro"] <= 1e-10, threshold="≤ 1e-10", source="theory", paper="Schur orthogonality")
    if not np.isnan(nab["paper_one"]):
        checks.add("printed form exact when every missing irrep is 1-dimensional (max relative error)",
                   nab["paper_one"], nab["paper_one"] <= 1e-10, threshold="≤ 1e-10", source="theory")
    if not np.isnan(nab["paper_big"]):
        checks.add("printed form |Σ_r tr Ŝ_k,r|² = literal E_S when a missing irrep has d_k = 2 "
                   "(smallest max relative error)", nab["paper_big"], nab["paper_big"] <= 1e-10,
                   threshold="≤ 1e-10", source="paper", paper=f"{T7}, Eq. 20",
                   deviation="Schur orthogonality gives ‖A_k‖²_F, not |tr A_k|²; equal only for d_k = 1")
checks.add("training on mse_sample: G_F of Eq. 2 is −∂L/∂F (max relative error)", gf_err, gf_err <= 1e-10,
           threshold="≤ 1e-10", source="theory", paper="Eq. 1–2")
checks.add("G_F share rises with what the nodes miss: median over runs of the rank correlation (window)",
           sn["spearman_median"], sn["spearman_median"] > 0, threshold="> 0", source="theory",
           paper=f"{T7}: G_F carries the missing irreps")
checks.add("learned frequencies get less than an even share of G_F (median ratio, window)", sn["learned_ratio"],
           sn["learned_ratio"] < 1, threshold="< 1", source="theory", paper=f"{T7} (direction)")
checks.add(f"fully learned frequencies (E_S/E ≤ {level_full:g}) drop out of G_F (median share relative to even)",
           lrf_med, lrf_med <= 0.1, threshold="≤ 0.1", source="documents",
           paper=f"{T7}: G_F ∝ (Φ_S ⊗ 1)(Φ_S ⊗ 1)* F",
           deviation="the readout fits the training rows before the missing frequencies are learned, so the residual "
                     "left on them is small too, and a learned frequency is not fitted exactly")
if sn["E_many_n"]:
    checks.add("at the end, ≥ 4 nodes at a frequency reconstruct it (max E_S/E over those frequencies)",
               sn["E_many_max"], sn["E_many_max"] <= 0.1, threshold="≤ 0.1", source="documents",
               paper="Thm 3: 4 real nodes per frequency")
checks.finish(out_dir)

# %%
pages.rerun_box("thm7_topdown", globals(), profile, time.time() - t_start)
