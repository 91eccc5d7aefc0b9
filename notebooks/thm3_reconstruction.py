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
# # Reconstructing the target from learned features (Theorem 3)
#
# **Claim ({cite:t}`tian2025li2`, Sec. 4.4, Theorem 3, App. A.2).** The local maxima of the energy
# $\mathcal E$ ({prf:ref}`Thm 2 <thm-maxima>`) are *useful* features: a hidden layer made of enough of them lets
# the least-squares readout ($\eta = 0$) reproduce the centred target exactly, $\hat Y = \tilde Y$. For
# **complex** weights the paper counts $K = 2\sum_{k\ne0} m_k^2 d_k^2$ nodes, i.e. $K = 2M-2$ for an Abelian group,
# "much more efficient than a pure memorization solution that would require $M^2$ nodes". In $\mathbb R$ the paper
# says the theorem fails for the exact maxima $[\mathbf u;\pm P\mathbf u]$ and holds again for
# $[\mathbf u;\pm P\mathbf u']$ with $\mathbf u'$ a small perturbation of $\mathbf u$; it gives no node count for
# real weights. The counts are *sufficient* counts: fewer nodes that also reconstruct are consistent with the
# theorem.
#
# :::{prf:theorem} Li₂ Thm 3: target reconstruction
# :label: thm-reconstruction
# :nonumber:
# Assume (1) $\mathcal E$ is optimised over $\mathbb C$, (2) for each irrep $k$ there are $m_k^2 d_k^2$ pairs
# of learned weights $\mathbf w = [\mathbf u; \pm P\mathbf u]$ whose rank-one matrices $\{\mathbf u\mathbf u^*\}$
# form a complete basis of the operators on $\mathcal H_k$, and (3) the top layer is learned with $\eta = 0$.
# Then $\hat Y = \tilde Y$. Hence $K = 2\sum_{k\neq 0} m_k^2 d_k^2 \le 2[(M-\kappa(H))^2 + \kappa(H) - 1]$
# nodes suffice; $K = 2M - 2$ for Abelian groups.
# :::
#
# **What we compute.** Everything uses $\sigma(x) = x^2$, all $n = M^2$ pairs of $\mathbb Z_M$ (odd $M$) or of
# a small non-Abelian group, the paper's sample-centred target $\tilde Y = P_1^\perp Y$ (on the full data
# it equals the class-centred one), and the minimum-norm least-squares readout $V = \tilde F^+\tilde Y$
# (`theory.reconstruct`). We report the relative residual $\|\tilde Y - \tilde F V\|_F / \|\tilde Y\|_F$:
#
# * **(a)** the paper's exact real maxima $[\mathbf u;\pm P\mathbf u]$;
# * **(b)** real maxima whose two halves differ by a phase offset $\delta$, $[\mathbf u;\pm P\mathbf u']$,
#   both constructed (`fourier.fourier_node` with `offset`) and *learned* by projected ascent of
#   $\mathcal E$ from random starts, as a function of $\delta$ and of the number of nodes per frequency;
# * **(c)** complex weights, as in the author's `use_complex_weights` (complex $W, V$; $\sigma(x) = x^2$ on
#   complex pre-activations; the loss sees the real part of the output), and the complex least squares of
#   the theorem itself, with nodes constructed and learned by projected ascent of $\mathcal E$ over $\mathbb C$;
# * **(d)** the memorisation nodes (one node $(\mathbf e_a + \mathbf e_{M+b})/\sqrt2$ per pair) and random
#   Gaussian nodes, for comparison;
# * non-Abelian groups, with nodes from ascent maxima in their 2-d irreps.
#
# In short (details, numbers and checks below): exact real maxima leave a residual of exactly $1/\sqrt2$ whatever
# $K$; real maxima with offsets reconstruct, with $4(M-1)$ generic nodes (or $2M-2$ in a special layout);
# complex $\pm$ pairs reconstruct with the paper's $2M-2$, which is the minimum with a complex readout, while
# $M-1$ suffice with the author's real-part readout; the complex maxima that ascent *learns* are not $\pm$ pairs
# and need $3(M-1)$ with a complex readout; memorisation and random nodes need $M^2-1$.
#
# **Profiles.** This page was built with the {glue:md}`profile` profile: $\mathbb Z_M$ with $M$ = {glue:text}`M`
# ($n$ = {glue:text}`n_pairs` pairs), {glue:text}`n_starts` random starts for the ascent (seed {glue:text}`seed`),
# and the non-Abelian groups {glue:md}`nonab_names`. The paper gives no size for this theorem; the paper profile
# (`book/profiles/paper.yml`) uses $M = 41$, one of the orders of its complex-weights figure (Fig. 11), more
# starts and one more dihedral group. The node counts are exact and derived for every odd $M$, so the small $M$
# shows the same thresholds. What it cannot show: how the floating-point limits move with the size (the
# pseudo-inverse's cut-off grows with $n = M^2$, so the smallest offset that still works in (b) depends on $M$),
# and non-Abelian groups with larger irreps.

# %% tags=["parameters"]
M = 11  # Z_M, odd M (the node counts below are derived for odd M)
n_starts = 400  # random starts for projected ascent of E (real and complex)
ascent_tol = 1e-12  # stop when the tangent gradient norm is at most tol times the gradient norm
ascent_steps = 3000
offset = 0.1  # offset size |delta| (radians) of the constructed maxima in (b)
offsets = [1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]  # the sweep in (b)
nonabelian = ["S3", "D5"]  # non-Abelian groups for the last section ([] to skip)
seed = 0
strict = True  # the book build: a FAIL in the checks table stops the notebook (False: the table shows it)
out_dir = "_output/thm3_reconstruction"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["thm3_residual_vs_K", "thm3_offsets", "thm3_per_component"]  # declared outputs (PNG + CSV)

import math
import time

t_start = time.time()

import torch

from li2core import fourier, groups, pages
from li2core import theory as th
from li2core.chapters import thm3_reconstruction as ch
from li2core.checks import Checks
from li2core.pages import markdown_table

torch.set_num_threads(1)  # tiny matrices: one thread is ~10x faster than contending for two cores
checks = Checks("thm3_reconstruction", strict=strict)
G = groups.make(f"Z{M}")  # validates M (ValueError for a bad order)
counts = th.theorem3_counts(M)  # ValueError for even M: the counts are derived for odd M
nonab_groups = [groups.make(name) for name in nonabelian]  # ValueError for an unknown group name
nf = (M - 1) // 2  # number of frequency pairs {j, -j}
K_paper, K_bound = th.theorem3_width(G)
TOL, GAP = 1e-8, 1e-4  # "reconstructs": residual <= TOL; "one node short": residual >= GAP (far above round-off)
for name, value in dict(profile=profile, M=M, n_pairs=M * M, n_starts=n_starts, seed=seed, nf=nf, K_paper=K_paper,
                        nonab_names=", ".join(nonabelian) if nonabelian else "none", offset=offset, TOL=TOL,
                        GAP=GAP, M_over_4=M / 4, M_over_2=M / 2).items():
    pages.glue(name, value)
pages.show_markdown(markdown_table(["node count (`theory.theorem3_counts`)", "K"], [[f"`{k}`", v] for k, v in counts.items()]))

# %% [markdown]
# ## Learned real maxima
# Projected gradient ascent of $\mathcal E$ on the unit sphere (`theory.project_ascent`) from
# Gaussian starts. Every converged start ends at a single-frequency node ({prf:ref}`Cor. 2 <cor-madd>`) with
# $\mathcal E = M/4$ (the literal value; the paper's $M/16$ misses a factor 4, see
# [the Thm 2 chapter](thm2_maxima.ipynb)). Writing a node as $[\mathbf u; P\mathbf u']$ with
# $u_m = \cos(2\pi jm/M + \varphi)$, the relative phase $\delta$ of $\mathbf u'$ is *not* 0 or $\pi$:
# $\mathcal E$ does not depend on it (a flat direction of the maximum, {prf:ref}`Cor. 1 <cor-flat>`), and ascent
# lands wherever the start leads.

# %%
lr = ch.learned_real_maxima(G, n_starts, seed, ascent_steps, ascent_tol)
res, conv, W_learn, freq_learn, delta_learn = lr.ascent, lr.converged, lr.W, lr.freq, lr.delta
sd = torch.sin(delta_learn).abs()
lr_num = dict(lr_conv=int(conv.sum()), lr_E_min=float(res.E[conv].min()), lr_E_max=float(res.E[conv].max()),
              lr_purity=float(lr.purity.min()), sd_min=float(sd.min()), sd_median=float(sd.median()),
              sd_max=float(sd.max()),
              lr_per_freq=", ".join(f"j = {j}: {int((freq_learn == j).sum())}" for j in range(1, nf + 1)))
for name, value in lr_num.items():
    pages.glue(name, value)

# %% [markdown]
# {glue:text}`lr_conv` of the {glue:text}`n_starts` starts converge, with $\mathcal E$ between
# {glue:text}`lr_E_min:.12f` and {glue:text}`lr_E_max:.12f` ($M/4$ = {glue:text}`M_over_4:g`) and power in one
# frequency of at least {glue:text}`lr_purity:.12f`. Maxima per frequency: {glue:md}`lr_per_freq`. The offset
# $|\sin\delta|$ ranges over {glue:text}`sd_min:.3f`–{glue:text}`sd_max:.3f` (median {glue:text}`sd_median:.3f`;
# 0 for the paper's $[\mathbf u;\pm P\mathbf u]$).
#
# ## (a) The paper's exact real maxima leave exactly $1/\sqrt2$
#
# Take $u_m = \cos(\omega jm + \varphi)$, $\omega = 2\pi/M$, and $(P\mathbf u)_b = u_{-b}$. The feature of
# node $[\mathbf u; \pm P\mathbf u]$ on the pair $(a, b)$, with label $h = a + b$, is
#
# $$\sigma(u_a \pm u_{-b}) = u_a^2 + u_{-b}^2 \pm \big[\cos(\omega j h) + \cos(\omega j(a-b) + 2\varphi)\big].$$
#
# Of the label, only $\cos(\omega jh)$ appears, for every phase $\varphi$, every sign and every frequency.
# The centred target is $\tilde Y_{(a,b),c} = \frac2M\sum_{j}\big[\cos(\omega jh)\cos(\omega jc) +
# \sin(\omega jh)\sin(\omega jc)\big]$, and the sine terms carry exactly half of $\|\tilde Y\|^2$. So however
# many exact maxima we take, least squares reproduces the cosine half
# (`theory.exact_maxima_prediction`) and the residual is exactly $1/\sqrt2$ (odd $M$;
# `theory.exact_maxima_residual`).

# %%
ex = ch.exact_maxima_fit(M, G, 8, seed)
rec_exact, cos_half_err, res_exact_all, K_plateau = ex.rec, ex.cos_half_err, ex.residuals, ex.K_plateau
ex_num = dict(ex_K=int(ex.W.shape[1]), ex_res=float(rec_exact.residual), ex_rank=int(rec_exact.rank),
              ex_first=float(res_exact_all[0]), ex_min=float(res_exact_all.min()), ex_plateau=int(K_plateau),
              ex_plateau_per=K_plateau / nf, ex_cos_err=cos_half_err, inv_sqrt2=1 / math.sqrt(2),
              ex_closed=float(th.exact_maxima_residual(M)))
for name, value in ex_num.items():
    pages.glue(name, value)

# %% [markdown]
# With $K$ = {glue:text}`ex_K` exact maxima (8 per frequency, random phases, both signs) the residual is
# {glue:text}`ex_res:.15f` ($1/\sqrt2$ = {glue:text}`inv_sqrt2:.15f`); the features span
# {glue:text}`ex_rank` dimensions. Over $K = 1, 2, \dots$ the residual falls from {glue:text}`ex_first:.4f` to
# its floor at $K$ = {glue:text}`ex_plateau` ({glue:text}`ex_plateau_per:g` per frequency) and never goes lower
# (smallest value {glue:text}`ex_min:.15f`); the fit differs from the cosine half of $\tilde Y$ by at most
# {glue:text}`ex_cos_err:.1e`.
#
# ## (b) Offsets between the two halves: how many real nodes, and how small an offset
# With $\mathbf u'$ shifted by $\delta$, the label part of the cross term becomes $\cos(\omega jh - \delta)$,
# and nodes with different offsets supply the sine half. But each node also brings "junk" functions of the
# pair that are not functions of $h$: $\cos/\sin(\omega j(a-b))$, $\cos/\sin(2\omega ja)$, $\cos/\sin(2\omega jb)$.
# Per frequency pair the features of all maxima span $2 + 6 = 8$ dimensions, and the label directions lie in
# the span of generic nodes only when they fill all 8: **8 nodes per frequency, $K = 4(M-1)$**. The paper gives
# no count for real weights (its $2M-2$ is for complex weights, section (c)); it only says that small
# perturbations $\mathbf u'$ make the real theorem hold, which is what we test. Fewer real nodes,
# $2M-2$, suffice in a special layout (`layout="quadrature"` of `fourier.real_fourier_nodes`): two nodes whose
# common phases differ by $\pi/2$ have opposite junk, so their sum is a pure label feature; two such pairs with
# different offsets give both label directions, 4 nodes per frequency. Learned maxima have generic phases and
# offsets, so they need 8 (`chapters.thm3_reconstruction.real_width_curves`).

# %%
curves = ch.real_width_curves(M, G, ex.curve, W_learn, freq_learn, offset, seed)
rK = ch.residual_lookup(curves)
generic = ch.generic_real_family(offset)
r_rand_full, r_rand_less = rK[generic][8 * nf], rK[generic][7 * nf]
r_quad_full, r_quad_less = rK[ch.QUADRATURE][4 * nf], rK[ch.QUADRATURE][4 * nf - 1]
r_learn_full, r_learn_less = rK[ch.LEARNED_REAL][8 * nf], rK[ch.LEARNED_REAL][7 * nf]
rank_learn = ch.span_by_label(W_learn, freq_learn, range(1, nf + 1), G)
min_rand, min_quad, min_learn = (ch.min_width(rK[f], TOL) for f in (generic, ch.QUADRATURE, ch.LEARNED_REAL))
b_num = dict(K_generic=counts["real_generic"], K_quad=counts["real_quadrature"], r_rand_full=r_rand_full,
             r_rand_less=r_rand_less, r_quad_full=r_quad_full, r_quad_less=r_quad_less, r_learn_full=r_learn_full,
             r_learn_less=r_learn_less, K_seven=7 * nf, K_quad_less=4 * nf - 1,
             rank_learn=", ".join(sorted({str(v) for v in rank_learn.values()})),
             min_rand=min_rand or 0, min_quad=min_quad or 0, min_learn=min_learn or 0)
for name, value in b_num.items():
    pages.glue(name, value)
pages.show_markdown(markdown_table(
    ["real nodes", "K", "residual", "K", "residual", "measured minimum K"],
    [[f"generic offsets {offset:g}, 8 per frequency", 8 * nf, f"{r_rand_full:.1e}", 7 * nf, f"{r_rand_less:.4f}",
      min_rand], ["quadrature layout, 4 per frequency", 4 * nf, f"{r_quad_full:.1e}", 4 * nf - 1,
                  f"{r_quad_less:.4f}", min_quad],
     ["learned maxima (ascent), 8 per frequency", 8 * nf, f"{r_learn_full:.1e}", 7 * nf, f"{r_learn_less:.4f}",
      min_learn]]))

# %% [markdown]
# Generic offsets of size {glue:text}`offset:g` reconstruct with $4(M-1)$ = {glue:text}`K_generic` nodes (residual
# {glue:text}`r_rand_full:.1e`) and not with 7 per frequency ({glue:text}`r_rand_less:.4f`); the quadrature
# layout with $2M-2$ = {glue:text}`K_quad` ({glue:text}`r_quad_full:.1e`; one fewer: {glue:text}`r_quad_less:.4f`);
# the learned maxima, taken frequency by frequency, with {glue:text}`min_learn` ({glue:text}`r_learn_full:.1e`;
# 7 per frequency: {glue:text}`r_learn_less:.4f`). The features of all learned maxima of one frequency span
# {glue:md}`rank_learn` dimensions.
#
# **How small may the offset be?** In exact arithmetic any $\delta \not\equiv 0 \pmod\pi$ works, but the sine half
# of the label enters the features with weight $\sin\delta$, so the readout must grow like $1/|\delta|$, and
# the round-off of float64 features ($\epsilon \approx 2\times10^{-16}$) is amplified by $\|V\|$
# (`chapters.thm3_reconstruction.offset_sweep`).

# %%
off_df = ch.offset_sweep(M, G, offsets, seed)
off_small = off_df[off_df["offset"] >= 1e-4]
off_mid = off_df[(off_df["offset"] >= 1e-10) & (off_df["offset"] <= 1e-4)]
off_ok = off_df[(off_df["offset"] > 0) & (off_df["residual"] <= TOL)].groupby("layout")["offset"].min()
off_tiny = off_df[off_df["offset"] == min(offsets)]
amp = off_mid["residual"] / (1e-16 * off_mid["V_norm"])
off_num = dict(off_small_max=float(off_small["residual"].max()), off_ok_max=float(off_ok.max()),
               off_amp=pages.fmt_range(amp.to_numpy()), off_tiny=float(min(offsets)),
               off_tiny_res=float(off_tiny["residual"].min()), pinv_cut=max(M * M, 8 * nf) * 2.220446049250313e-16)
off_num["off_tiny_phrase"] = ("back at 1/√2" if abs(off_num["off_tiny_res"] - 2 ** -0.5) <= 1e-6
                              else "not back at 1/√2")
off_num["off_tiny_cmp"] = "below" if off_num["off_tiny"] < off_num["pinv_cut"] else "above"
for name, value in off_num.items():
    pages.glue(name, value)
pages.show_markdown(pages.frame_markdown(off_df, ".3g"))

# %% [markdown]
# Every offset of at least $10^{-4}$ reconstructs in both layouts (largest residual {glue:text}`off_small_max:.1e`),
# and the residual stays at most {glue:text}`TOL:g` down to $|\delta|$ = {glue:text}`off_ok_max:g` in both. Below
# that the residual grows as the offset shrinks, in step with the readout: for offsets from $10^{-10}$ to $10^{-4}$
# it is {glue:md}`off_amp` times $10^{-16}\|V\|_F$. At the smallest offset of the sweep, $|\delta|$ =
# {glue:text}`off_tiny:g`, the residual is {glue:text}`off_tiny_res:.4f`, {glue:md}`off_tiny_phrase`; $\sin\delta$ is
# then {glue:md}`off_tiny_cmp` the pseudo-inverse's relative cut-off $\max(n, K)\,\epsilon$ = {glue:text}`off_cut:.1e`
# (below it, the sine half is discarded as round-off).
#
# ```{glue:figure} thm3_offsets
# :name: fig-thm3-reconstruction-offsets
# :alt: Two stacked log-log panels against the offset size between the two halves of real maxima, for the generic layout and the quadrature layout: the residual falls from one over root two at offset zero towards round-off as the offset grows, while the readout norm grows like one over the offset.
# :figwidth: 100%
#
# **Real maxima with an offset $\delta$ between the halves.** Top: the residual of the least-squares fit from
# $4(M-1)$ generic or $2M-2$ quadrature-layout nodes on $\mathbb Z_M$, $M$ = {glue:text}`M`; dashed: offset 0 (the
# exact maxima, residual {glue:text}`ex_res:.4f`). Bottom: the norm of the readout, which grows like $1/|\delta|$.
# {download}`Data (CSV) <../figures/thm3_reconstruction/thm3_offsets.csv>` ·
# {download}`image (PNG) <../figures/thm3_reconstruction/thm3_offsets.png>`
# ```

# %%
pages.glue("off_cut", off_num["pinv_cut"])
pages.show_figure(ch.thm3_offsets(off_df), out_dir, "thm3_offsets", ch.thm3_offsets_data(off_df))

# %% [markdown]
# ## (c) Complex weights
# With complex $W$ and $\sigma(x) = x^2$ applied to complex pre-activations (the author's
# `use_complex_weights`), the node whose two raw halves carry the same character
# $\chi_k(m) = e^{2\pi i km/M}$, $\mathbf w \propto [\alpha\chi_k; \beta\chi_k]$, has the feature
# $\alpha^2\chi_{2k}(a) + \beta^2\chi_{2k}(b) + 2\alpha\beta\,\chi_k(a+b)$: the whole label character, plus
# junk that the $\pm$ partner ($\beta \to -\beta$) cancels. In the paper's notation $[\mathbf u; P\mathbf v]$ this
# is $\mathbf v = (\beta/\alpha)\bar{\mathbf u}$, i.e. $[\mathbf u; \pm P\bar{\mathbf u}]$: the conjugate, not
# $[\mathbf u;\pm P\mathbf u]$. (With $\mathbf u = \chi_k$ the paper's form $[\mathbf u; \pm P\mathbf u]$ has the
# cross term $\chi_k(a - b)$, which carries nothing of the label.) We first check what projected ascent of
# $\mathcal E(\mathbf w) = \frac12\|\tilde Y^\top\sigma(X\mathbf w)\|^2$ over $\mathbb C^{2M}$ finds
# (`theory.energy_complex`, `theory.project_ascent`), then count nodes for two readouts:
# **complex least squares** $\min_V\|\tilde Y - \tilde FV\|$ (the theorem's setting) and the author's
# **real-part readout** $\min_V\|\tilde Y - \mathrm{Re}(\tilde FV)\|$, in which $k$ and $-k$ give the same
# real features (`theory.reconstruct_complex`; `chapters.thm3_reconstruction.complex_width_curves`).

# %%
lc = ch.learned_complex_maxima(G, n_starts, seed + 1, ascent_steps, ascent_tol)
resc, convc, spec, ratio = lc.ascent, lc.converged, lc.spectrum, lc.ratio
dist_c = ch.paper_form_distance(lc.W, G)
cw = ch.complex_width_curves(M, G, lc.W, lc.k, seed)
curves.update(cw.curves)
rK = ch.residual_lookup(curves)
cr = cw.residuals
K_pm, K_pm_half = cw.W_pm.shape[1], cw.W_pm_half.shape[1]
rank_c = ch.span_by_label(lc.W, lc.k, range(1, M), G)
c_num = dict(c_conv=int(convc.sum()), c_E_min=float(resc.E[convc].min()), c_E_max=float(resc.E[convc].max()),
             c_spec_min=float(spec.max(-1).values.min()), c_ratio_dev=float((ratio.abs() - 1).abs().max()),
             c_arg_min=float(torch.angle(ratio).min()), c_arg_max=float(torch.angle(ratio).max()),
             c_dist_min=float(dist_c.min()), c_E_node=float(th.energy_complex(fourier.complex_fourier_node(M, 1), G)[0]),
             c_E_paper_form=ch.complex_paper_form_energy(G), r_cpm=cr.pm, r_cpm_less=cr.pm_less, r_cpm_real=cr.pm_real,
             r_half_complex=cr.half_complex, r_half_real=cr.half_real, r_half_real_less=cr.half_real_less,
             r_cl3=cr.learned3, r_cl2=cr.learned2, r_cp3=cr.pairs3, r_cp2=cr.pairs2, r_cp4=cr.pairs4,
             r_cp4_default=cr.pairs4_default,
             K_pm=K_pm, K_pm_half=K_pm_half, K_c3=3 * (M - 1), K_cp3=3 * nf,
             min_pm=ch.min_width(rK[ch.PM_COMPLEX], TOL) or 0, min_half_real=ch.min_width(rK[ch.PM_HALF_REAL], TOL) or 0,
             min_cl=ch.min_width(rK[ch.LEARNED_COMPLEX], TOL) or 0,
             rank_c=", ".join(sorted({str(v) for v in rank_c.values()})))
for name, value in c_num.items():
    pages.glue(name, value)
pages.show_markdown(markdown_table(
    ["complex nodes", "readout", "K (count)", "residual", "K", "residual"],
    [["± pairs, all characters", "complex LS", f"{K_pm} (2M − 2, paper)", f"{cr.pm:.1e}", K_pm - 1,
      f"{cr.pm_less:.4f}"],
     ["± pairs, all characters", "real part", f"{K_pm} (2M − 2, paper)", f"{cr.pm_real:.1e}", "—", "—"],
     ["± pairs, k ≤ M/2", "complex LS", f"{K_pm_half} (M − 1)", f"{cr.half_complex:.4f}", "—", "—"],
     ["± pairs, k ≤ M/2", "real part", f"{K_pm_half} (M − 1)", f"{cr.half_real:.1e}", K_pm_half - 1,
      f"{cr.half_real_less:.4f}"],
     ["learned maxima, 2 per character", "complex LS", f"{2 * (M - 1)} (2M − 2, paper)", f"{cr.learned2:.4f}",
      "—", "—"],
     ["learned maxima, 3 per character", "complex LS", f"{3 * (M - 1)} (3(M − 1))", f"{cr.learned3:.1e}", "—", "—"],
     ["learned maxima, 4 per pair {k, −k}", "real part", f"{4 * nf} (2M − 2, paper)", f"{cr.pairs4:.1e}", "—", "—"],
     ["learned maxima, 3 per pair {k, −k}", "real part", f"{3 * nf} (3(M − 1)/2)", f"{cr.pairs3:.1e}", 2 * nf,
      f"{cr.pairs2:.4f}"]]))

# %% [markdown]
# The complex ascent converges from {glue:text}`c_conv` of the {glue:text}`n_starts` starts, with $\mathcal E$
# between {glue:text}`c_E_min:.12f` and {glue:text}`c_E_max:.12f` ($M/2$ = {glue:text}`M_over_2:g`; the
# constructed node $[\chi_1; \chi_1]/\|\cdot\|$ has {glue:text}`c_E_node:.12f`), all power in one character in
# both halves (at least {glue:text}`c_spec_min:.12f`), and $|\beta/\alpha| = 1$ to {glue:text}`c_ratio_dev:.1e`
# with $\arg(\beta/\alpha)$ spread over {glue:text}`c_arg_min:.2f` to {glue:text}`c_arg_max:.2f` rad: the maxima are
# $[\mathbf u; e^{i\theta}P\bar{\mathbf u}]$ with any $\theta$. Their distance from the paper's form
# $[\mathbf u;\pm P\mathbf u]$ is at least {glue:text}`c_dist_min:.4f` (relative to $\|\mathbf u\|$; $\sqrt2$
# means orthogonal), and at the paper's form $\mathcal E$ = {glue:text}`c_E_paper_form:.1e`.
#
# Reconstruction: the $\pm$ pairs of all characters reconstruct with the paper's $2M-2$ = {glue:text}`K_pm`
# nodes (residual {glue:text}`r_cpm:.1e`; one fewer: {glue:text}`r_cpm_less:.4f`), so with a complex readout the
# paper's count is also the measured minimum ({glue:text}`min_pm`). With the author's real-part readout the
# same nodes reconstruct too ({glue:text}`r_cpm_real:.1e`), and fewer suffice: the $\pm$ pairs of
# $k \le M/2$ alone, $M-1$ = {glue:text}`K_pm_half` nodes ({glue:text}`r_half_real:.1e`; one fewer:
# {glue:text}`r_half_real_less:.4f`), because $k$ and $-k$ give the same real features; the same nodes with a
# complex readout leave {glue:text}`r_half_complex:.4f`. The *learned* maxima are not $\pm$ pairs: with a
# complex readout, 2 per character (the paper's count) leave {glue:text}`r_cl2:.4f` and 3 per character,
# $3(M-1)$ = {glue:text}`K_c3` nodes, are needed ({glue:text}`r_cl3:.1e`); the features of all learned maxima of
# one character span {glue:md}`rank_c` real dimensions (3 complex: $\chi_k(h)$, $\chi_{2k}(a)$, $\chi_{2k}(b)$).
# With the real-part readout the paper's count (4 per pair $\{k, -k\}$) reconstructs ({glue:text}`r_cp4:.1e`), and
# 3 per pair, {glue:text}`K_cp3` nodes, already do ({glue:text}`r_cp3:.1e`; 2 per pair: {glue:text}`r_cp2:.4f`).
# Four learned maxima per pair are more than the span of their features, so the extra directions of
# $\tilde F$ hold only the maxima's convergence error (about $10^{-12}$); we fit them with the pseudo-inverse
# cut-off $10^{-10}$ that the non-Abelian section uses for the same reason. With the default cut-off that
# noise is inverted and the residual is {glue:text}`r_cp4_default:.1e`.
#
# ## (d) Memorisation and random nodes, and the whole picture
# The memorisation solution uses one node per pair, $(\mathbf e_a + \mathbf e_{M+b})/\sqrt2$; random
# Gaussian nodes are the lazy regime's features. Both need the centred features to span *all* functions of
# the pair, a space of dimension $M^2-1$: the paper's $M^2$ suffices, and one node fewer does too (after
# centring one node is redundant).

# %%
curves.update(ch.dense_node_curves(M, G, seed))
rK = ch.residual_lookup(curves)
r_mem_full, r_mem_less, r_mem_M2 = rK[ch.MEMORISATION][M * M - 1], rK[ch.MEMORISATION][M * M - 2], \
    rK[ch.MEMORISATION][M * M]
r_rnd_full, r_rnd_less, r_rnd_M2 = rK[ch.RANDOM][M * M - 1], rK[ch.RANDOM][M * M - 2], rK[ch.RANDOM][M * M]
d_num = dict(r_mem_full=r_mem_full, r_mem_less=r_mem_less, r_mem_M2=r_mem_M2, r_rnd_full=r_rnd_full,
             r_rnd_less=r_rnd_less, r_rnd_M2=r_rnd_M2, K_M2=M * M, K_M2m1=M * M - 1,
             min_mem=ch.min_width(rK[ch.MEMORISATION], TOL) or 0, min_rnd=ch.min_width(rK[ch.RANDOM], TOL) or 0)
for name, value in d_num.items():
    pages.glue(name, value)
widths = ch.width_table(curves, M, TOL)
pages.show_markdown(pages.frame_markdown(widths, ".2g"))

# %% [markdown]
# The memorisation nodes reconstruct with the paper's $M^2$ = {glue:text}`K_M2` (residual
# {glue:text}`r_mem_M2:.1e`) and with $M^2-1$ = {glue:text}`K_M2m1` ({glue:text}`r_mem_full:.1e`), not with
# $M^2-2$ ({glue:text}`r_mem_less:.4f`); random nodes likewise ({glue:text}`r_rnd_full:.1e` and
# {glue:text}`r_rnd_less:.4f`). The table above collects the measured minimum width of every family, and the
# figure shows the whole curves.
#
# ```{glue:figure} thm3_residual_vs_K
# :name: fig-thm3-reconstruction-residual-vs-k
# :alt: Log-log plot of the reconstruction residual against the number of hidden nodes for ten node families; the exact real maxima stay at one over root two, every other family drops to round-off at one width, marked by dotted vertical lines at M minus 1, 2M minus 2, 3(M minus 1), 4(M minus 1) and M squared minus 1.
# :figwidth: 100%
#
# **Theorem 3: residual against width.** The relative residual of the least-squares readout from the first $K$
# nodes of each family on $\mathbb Z_M$, $M$ = {glue:text}`M` (floored at $10^{-16}$ for the log axis); dotted: the
# widths $M-1$, $2M-2$ (the paper's count, for complex weights), $3(M-1)$, $4(M-1)$ and $M^2-1$. For complex
# families $K$ counts complex nodes, each worth two real ones.
# {download}`Data (CSV) <../figures/thm3_reconstruction/thm3_residual_vs_K.csv>` ·
# {download}`image (PNG) <../figures/thm3_reconstruction/thm3_residual_vs_K.png>`
# ```

# %%
curve_df = ch.curve_frame(curves)
pages.show_figure(ch.thm3_residual_vs_K(curve_df, ch.width_marks(M)), out_dir, "thm3_residual_vs_K",
                  ch.thm3_residual_vs_K_data(curve_df))

# %% [markdown]
# Reading {numref}`fig-thm3-reconstruction-residual-vs-k`: the exact maxima stay at $1/\sqrt2$; every other family
# drops to round-off at one width and not before: $M-1$ complex nodes with the real-part readout, $2M-2$ for
# complex $\pm$ pairs with a complex readout (the paper's count) and for the quadrature real layout, $3(M-1)$ for
# generic learned complex maxima, $4(M-1)$ for generic or learned real maxima, and $M^2-1$ for memorisation and
# random nodes.
#
# ## Non-Abelian groups
# Same procedure on the non-Abelian groups {glue:md}`nonab_names`
# (`chapters.thm3_reconstruction.nonabelian_widths`): real ascent maxima, classified by the real isotypic
# component holding their power (`fourier.dominant_component`), and for each component the measured dimension of
# the span of all its maxima's features (`theory.feature_rank`). We then feed $1, 2, \dots$ learned maxima per
# component (at most its span). These are real weights, so the question is the paper's real-weight one: do
# maxima $[\mathbf u; \pm P\mathbf u']$ reconstruct, and with how many nodes? The paper's count
# $2\sum_k m_k^2 d_k^2$ is stated for complex weights (assumption 1); we quote it for orientation only. The sign
# irrep ($d_k = 1$, real) is a strict maximum ([the Thm 2 chapter](thm2_maxima.ipynb)) and contributes one
# feature direction. The width generic learned maxima need is the dimension of the span of all their features
# together (`theory.feature_rank`; for groups such as $\mathrm{Dic}_3$ or $S_4$ the components' spans overlap and
# it is less than their sum).

# %%
nonab_list = [ch.nonabelian_widths(Hg, 3 * n_starts, seed + 2, ascent_steps, ascent_tol) for Hg in nonab_groups]
nonab = {d["name"]: d for d in nonab_list}
pages.show_markdown(markdown_table(
    ["group (M)", "converged; E values", "span per component (d_k-d type)", "residual, one fewer / enough per comp.",
     "all maxima", "measured K", "paper's K (complex)", "M²"],
    [[f"{d['name']} ({d['M']})", f"{d['conv']}/{d['starts']}; " + ", ".join(f"{e:g}" for e in d["E"]),
      ", ".join(f"{d['span'][c]} ({d['kind'][c][0]}-d {d['kind'][c][1]})" for c in d["span"]),
      f"{d['res'][d['smax'] - 1]:.4f} / {d['res'][d['smax']]:.1e}" if d["smax"] > 1 else f"{d['res'][1]:.1e}",
      f"{d['res_all']:.1e}", d["K_meas"], d["K_paper"], d["M"] ** 2] for d in nonab_list]))
nonab_text = "; ".join(f"{d['name']}: {d['K_meas']} nodes (spans {', '.join(str(v) for v in d['span'].values())} "
                       f"per component; all maxima: residual {d['res_all']:.1e}; the paper's complex-weight count "
                       f"{d['K_paper']}, memorisation {d['M'] ** 2})" for d in nonab_list) or "none computed"
pages.glue("nonab_text", nonab_text)

# %% [markdown]
# Measured widths: {glue:md}`nonab_text`. In every group the learned real maxima reconstruct $\tilde Y$, each
# component's maxima become sufficient exactly when they fill its feature span, and the width stays far below
# memorisation's $M^2$.
#
# ```{glue:figure} thm3_per_component
# :name: fig-thm3-reconstruction-per-component
# :alt: Panels, one per case, of the residual against the number of learned maxima per irrep component on a log axis; each drops to round-off at the solid line of the measured span; the dashed red line of the paper's count is drawn only in the two complex-weight panels.
# :figwidth: 100%
#
# **How many learned maxima per irrep.** Residual against the number of learned maxima per irrep component, on
# $\mathbb Z_M$ ($M$ = {glue:text}`M`: real maxima per frequency pair; complex maxima per character with complex
# least squares, and per pair $\{k, -k\}$ with the real-part readout) and on each non-Abelian group (real maxima
# per component, at most its span). Solid: the measured number needed; dashed red: the paper's count, drawn only
# for complex weights, the setting it is stated for.
# {download}`Data (CSV) <../figures/thm3_reconstruction/thm3_per_component.csv>` ·
# {download}`image (PNG) <../figures/thm3_reconstruction/thm3_per_component.png>`
# ```

# %%
pc_df = ch.per_component_frame(M, G, rK, max(rank_learn.values()), cw.W_learn_pairs, nonab_list)
pages.show_figure(ch.thm3_per_component(pc_df), out_dir, "thm3_per_component", ch.thm3_per_component_data(pc_df))

# %% [markdown]
# ## Deviations from the paper
#
# ```{admonition} Deviation: the complex maxima are [u; exp(iθ)·Pū], not [u; ±Pu]
# :class: warning
# **Claim (Thm 3, assumption 2):** the learned complex weights come in pairs $\mathbf w = [\mathbf u; \pm P\mathbf u]$.
# **Computed:** every one of the {glue:text}`c_conv` maxima that projected ascent of $\mathcal E$ over
# $\mathbb C^{2M}$ finds is at distance at least {glue:text}`c_dist_min:.4f` from that form (relative to
# $\|\mathbf u\|$: orthogonal); they are $[\mathbf u; e^{i\theta}P\bar{\mathbf u}]$ ($|\beta/\alpha| = 1$ to
# {glue:text}`c_ratio_dev:.1e`, $\theta$ spread over {glue:text}`c_arg_min:.2f` to {glue:text}`c_arg_max:.2f` rad)
# with $\mathcal E$ = {glue:text}`c_E_max:.6f` = $M/2$, while the paper's form has $\mathcal E$ =
# {glue:text}`c_E_paper_form:.1e`. **Likely reason:** with $\sigma(x) = x^2$ on complex numbers (no conjugation),
# the label term $\chi_k(a + b)$ needs the same character in both raw halves, i.e. the conjugate $\bar{\mathbf u}$
# after $P$; the paper's $\{\mathbf u\mathbf u^*\}$ argument treats the features as Hermitian.
# ```
#
# ```{admonition} Deviation: the learned complex maxima need 3(M − 1) nodes with a complex readout, not 2M − 2
# :class: warning
# **Claim (Thm 3):** $K = 2M - 2$ learned complex maxima reconstruct $\tilde Y$ on an Abelian group (complex least
# squares, the theorem's setting). **Computed:** 2 learned maxima per character ($K$ = {glue:text}`K_pm`) leave a
# residual of {glue:text}`r_cl2:.4f`; 3 per character, $3(M-1)$ = {glue:text}`K_c3` nodes, reconstruct
# ({glue:text}`r_cl3:.1e`). Constructed $\pm$ pairs do reconstruct with $2M-2$ ({glue:text}`r_cpm:.1e`), and with
# the author's real-part readout the paper's count suffices for learned maxima too ({glue:text}`r_cp4:.1e`).
# **Likely reason:** the maxima ascent finds are not the $\pm$ pairs of assumption 2 (previous box): each has a free
# relative phase $\theta$, so its junk $\chi_{2k}(a)$, $\chi_{2k}(b)$ is not cancelled by a partner, and each
# character's features span {glue:md}`rank_c` real (3 complex) dimensions.
# ```
#
# The rest agrees with the paper's statements: the exact real maxima fail (the paper says no real theorem holds
# for them), real maxima with offsets reconstruct (the paper gives no count for them), and wherever the paper
# gives a count, that count suffices; in several cases fewer nodes do, which the theorem allows. The Notes page
# collects the deviations of every chapter ([notes on the paper](notes_on_the_paper.ipynb)).
#
# ## Checks
# Each claim, measured above. Thresholds, fixed before looking: a family "reconstructs" when its residual is at
# most {glue:text}`TOL:g`, and is "one node short" when the residual is at least {glue:text}`GAP:g` (far above
# round-off); identities of the theory hold to 1e-9 (1e-6 where the ascent's convergence enters). Where the paper
# gives a count, the row checks that the count suffices and reports the measured minimum; the real-weight rows
# check the paper's real-weight statement, which has no count.

# %% tags=["checks"]
P3 = "Thm 3"
P_REAL = "Thm 3 over ℝ: holds for [u; ±Pu′], u′ a small perturbation (no count)"
checks.add("learned real maxima (the converged starts) have E = M/4: min, max of E − M/4",
           {"converged": f"{int(conv.sum())}/{n_starts}", "E − M/4": f"{lr_num['lr_E_min'] - M / 4:.1e}, "
            f"{lr_num['lr_E_max'] - M / 4:.1e}"},
           bool(conv.any()) and max(abs(lr_num["lr_E_min"] - M / 4), abs(lr_num["lr_E_max"] - M / 4)) <= 1e-9,
           threshold="within 1e-9", source="theory", paper="Thm 2, Cor. 2 (literal value, see the Thm 2 chapter)")
checks.add("learned real maxima are single-frequency (min power share)", lr_num["lr_purity"],
           lr_num["lr_purity"] >= 1 - 1e-6, threshold="≥ 1 − 1e-6", source="paper", paper="Cor. 2", fmt=".12f")
checks.add("learned real maxima carry an offset between the halves, [u; ±Pu′] (median |sin δ|)",
           lr_num["sd_median"], lr_num["sd_median"] > 1e-6, threshold="> 1e-6 (the ascent's accuracy)",
           source="theory", paper="E does not depend on δ (Thm 2 chapter)")
checks.add("(a) exact real maxima [u; ±Pu]: residual with 8 per frequency", ex_num["ex_res"],
           abs(ex_num["ex_res"] - 1 / math.sqrt(2)) <= 1e-9, threshold="1/√2 within 1e-9", source="theory",
           paper="Thm 3 fails over ℝ for exact maxima", fmt=".15f")
checks.add("(a) no width helps the exact maxima: smallest residual over K = 1..8 per frequency",
           ex_num["ex_min"], ex_num["ex_min"] >= 1 / math.sqrt(2) - 1e-9, threshold="≥ 1/√2 − 1e-9", source="theory",
           paper="Thm 3 fails over ℝ for exact maxima", fmt=".15f")
checks.add("(a) the fit of the exact maxima is the cosine half of Ỹ: max |Ŷ − cosine half|", cos_half_err,
           cos_half_err <= 1e-9, threshold="≤ 1e-9", source="theory", paper="—")
checks.add(f"(b) real maxima with generic offsets {offset:g} reconstruct: residual at K = 4(M − 1) = "
           f"{8 * nf}; measured minimum K", {"residual": f"{r_rand_full:.1e}", "minimum K": min_rand},
           r_rand_full <= TOL, threshold=f"≤ {TOL:g}", source="fixed before looking", paper=P_REAL)
checks.add("(b) generic offsets: 4(M − 1) is the minimum (residual with 7 per frequency)", r_rand_less,
           r_rand_less >= GAP, threshold=f"≥ {GAP:g}", source="theory", paper="— (no real-weight count)")
checks.add(f"(b) quadrature layout: 2M − 2 = {4 * nf} reconstruct, one fewer does not",
           {"K = 2M − 2": f"{r_quad_full:.1e}", "one fewer": f"{r_quad_less:.4f}"},
           r_quad_full <= TOL and r_quad_less >= GAP, threshold=f"≤ {TOL:g}; ≥ {GAP:g}", source="theory",
           paper=P_REAL)
checks.add(f"(b) learned real maxima reconstruct: residual at K = 4(M − 1) = {8 * nf}; measured minimum K",
           {"residual": f"{r_learn_full:.1e}", "7 per frequency": f"{r_learn_less:.4f}", "minimum K": min_learn},
           r_learn_full <= TOL and r_learn_less >= GAP, threshold=f"≤ {TOL:g}; ≥ {GAP:g}",
           source="fixed before looking", paper=P_REAL)
checks.add("(b) the features of the learned real maxima span 8 dimensions per frequency pair",
           b_num["rank_learn"], set(rank_learn.values()) == {8}, threshold="= 8 (2 label + 6 junk)", source="theory",
           paper="—")
checks.add("(b) small offsets suffice: largest residual for offsets ≥ 1e-4 (both layouts)",
           off_num["off_small_max"], off_num["off_small_max"] <= TOL, threshold=f"≤ {TOL:g}",
           source="fixed before looking", paper=P_REAL)
checks.add("(c) complex maxima (the converged starts) have E = M/2: min, max of E − M/2",
           {"converged": f"{int(convc.sum())}/{n_starts}", "E − M/2": f"{c_num['c_E_min'] - M / 2:.1e}, "
            f"{c_num['c_E_max'] - M / 2:.1e}"},
           bool(convc.any()) and max(abs(c_num["c_E_min"] - M / 2), abs(c_num["c_E_max"] - M / 2)) <= 1e-9,
           threshold="within 1e-9", source="theory", paper="— (E over ℂ at [χₖ; χₖ])")
checks.add("(c) learned complex maxima have the form [u; ±Pu]: smallest distance from it (relative to ‖u‖)",
           c_num["c_dist_min"], c_num["c_dist_min"] <= 1e-6, threshold="≤ 1e-6", source="paper",
           paper=f"{P3}, assumption 2: pairs [u; ±Pu]",
           deviation="the complex maxima are [u; exp(iθ)·Pū] with any θ (E = M/2); at the paper's form E ≈ 0: with "
                     "σ(x) = x² on complex numbers the label term needs the same character in both raw halves")
checks.add("(c) learned complex maxima are [u; exp(iθ)·Pū]: max ||β/α| − 1|", c_num["c_ratio_dev"],
           c_num["c_ratio_dev"] <= 1e-6, threshold="≤ 1e-6", source="theory", paper="—")
checks.add(f"(c) complex ± pairs, complex LS: the paper's 2M − 2 = {K_pm} suffice; measured minimum K",
           {"residual": f"{cr.pm:.1e}", "one fewer": f"{cr.pm_less:.4f}", "minimum K": c_num["min_pm"]},
           cr.pm <= TOL, threshold=f"≤ {TOL:g}", source="paper", paper=f"{P3}: K = 2M − 2 (Abelian)")
checks.add("(c) complex ± pairs, the author's real-part readout: the paper's 2M − 2 suffice; measured minimum K",
           {"residual": f"{cr.pm_real:.1e}", "minimum K": c_num["min_half_real"],
            "residual at the minimum": f"{cr.half_real:.1e}", "one fewer": f"{cr.half_real_less:.4f}"},
           cr.pm_real <= TOL, threshold=f"≤ {TOL:g}", source="paper", paper=f"{P3}: K = 2M − 2 (Abelian)")
checks.add("(c) the real-part readout is what halves the count: ± pairs of k ≤ M/2 with complex LS",
           cr.half_complex, abs(cr.half_complex - 1 / math.sqrt(2)) <= 1e-9, threshold="1/√2 within 1e-9",
           source="theory", paper="—", fmt=".6f")
checks.add(f"(c) learned complex maxima, complex LS: the paper's 2M − 2 = {2 * (M - 1)} (2 per character) suffice",
           {"residual": f"{cr.learned2:.4f}", "3 per character": f"{cr.learned3:.1e}",
            "minimum K": c_num["min_cl"]},
           cr.learned2 <= TOL, threshold=f"≤ {TOL:g}", source="paper", paper=f"{P3}: K = 2M − 2 (Abelian)",
           deviation="the learned maxima are not the ± pairs of assumption 2; each keeps its junk χ₂ₖ(a), χ₂ₖ(b), "
                     "so 3 per character, 3(M − 1), are needed")
checks.add(f"(c) learned complex maxima, real-part readout: the paper's count (4 per pair {{k, −k}}, K = {4 * nf}) "
           "suffices (pinv cut-off 1e-10); measured minimum per pair",
           {"4 per pair": f"{cr.pairs4:.1e}", "3 per pair": f"{cr.pairs3:.1e}", "2 per pair": f"{cr.pairs2:.4f}"},
           cr.pairs4 <= TOL and cr.pairs3 <= TOL and cr.pairs2 >= GAP, threshold=f"≤ {TOL:g} (4 and 3); ≥ {GAP:g} (2)",
           source="paper", paper=f"{P3}: K = 2M − 2 (Abelian)")
checks.add(f"(d) memorisation nodes: the paper's M² = {M * M} suffice; measured minimum K",
           {"M²": f"{r_mem_M2:.1e}", "M² − 1": f"{r_mem_full:.1e}", "M² − 2": f"{r_mem_less:.4f}",
            "minimum K": d_num["min_mem"]},
           r_mem_M2 <= TOL and r_mem_full <= TOL and r_mem_less >= GAP, threshold=f"≤ {TOL:g} (M², M² − 1); ≥ {GAP:g}",
           source="paper", paper="memorisation would require M² nodes")
checks.add("(d) random Gaussian nodes need M² − 1 as well", {"M² − 1": f"{r_rnd_full:.1e}", "M² − 2": f"{r_rnd_less:.4f}"},
           r_rnd_full <= TOL and r_rnd_less >= GAP, threshold=f"≤ {TOL:g}; ≥ {GAP:g}", source="theory", paper="—")
checks.add("maxima are far more efficient than memorisation: largest measured Fourier width against M² − 1",
           {"Fourier": max(min_learn or 0, c_num["min_cl"], c_num["min_pm"]), "memorisation": d_num["min_mem"]},
           0 < max(min_learn or 0, c_num["min_cl"], c_num["min_pm"]) < d_num["min_mem"], threshold="smaller",
           source="paper", paper="“much more efficient than … M² nodes”")
for name, d in nonab.items():
    q = d["per_needed"]
    below = d["res"].get((q or 1) - 1, float("nan"))
    checks.add(f"{name}: learned real maxima reconstruct; measured K and maxima per component needed",
               {"all maxima": f"{d['res_all']:.1e}", "K": d["K_meas"], "per component": q,
                "one fewer": f"{below:.3f}" if q and q > 1 else "—", "irreps missed": d["missing"]},
               d["missing"] == 0 and d["res_all"] <= TOL and q is not None and (q == 1 or below >= GAP)
               and q == d["smax"] and d["K_meas"] < d["M"] ** 2,
               threshold=f"≤ {TOL:g}; ≥ {GAP:g} one fewer; per component = its span; K < M²",
               source="fixed before looking", paper=P_REAL)
checks.finish(out_dir)

# %%
pages.rerun_box("thm3_reconstruction", globals(), profile, time.time() - t_start)
