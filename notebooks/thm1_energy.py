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
# **Claim (Tian, Li₂, Sec. 4.1, Eq. 6–7, Theorem 1).** Once Stage I has made the backpropagated gradient
# proportional to the signal term, $G_F \propto \tilde Y\tilde Y^\top F$ (Eq. 3–5), the hidden nodes learn
# *independently*: node $j$ follows
#
# $$\dot{\mathbf w}_j = X^\top D_j\,\mathbf g_j,\qquad \mathbf g_j \propto \tilde Y\tilde Y^\top\sigma(X\mathbf w_j),\qquad
# D_j = \mathrm{diag}\big(\sigma'(X\mathbf w_j)\big)\qquad\text{(Eq. 6)}$$
#
# and Theorem 1 identifies this as gradient ascent on one energy.
#
# :::{prf:theorem} Energy function (Li₂ Thm 1)
# :label: thm-energy
# The dynamics of Eq. 6 is exactly gradient ascent of
# $$\mathcal E(\mathbf w) = \tfrac12\big\|\tilde Y^\top\sigma(X\mathbf w)\big\|_2^2 \qquad\text{(Eq. 7)},$$
# with $\nabla\mathcal E(\mathbf w) = X^\top D\,\tilde Y\tilde Y^\top\sigma(X\mathbf w)$ — a nonlinear canonical
# correlation analysis between the inputs $X$ and the centred targets $\tilde Y$. In Stage II, weight decay is
# modelled by the constraint $\|\mathbf w\|_2 = 1$.
# :::
#
# **What we compute.**
#
# * **(a) The identity.** For random unit nodes on the training pairs of $\mathbb Z_M$: the library's analytic
#   $\nabla\mathcal E$ (`theory.energy_grad`, which never builds $X$) against central finite differences of
#   $\mathcal E$ (`theory.energy_grad_fd`), and against Eq. 6's right-hand side computed *literally* with the
#   explicit one-hot $X$ and $\tilde Y$, $X^\top D_j\tilde Y\tilde Y^\top\sigma(X\mathbf w_j)$ (`theory.eq6_rhs`).
# * **(b) A real training run.** Modular addition on $\mathbb Z_{41}$, $K = 512$, $p = 0.4$, $\sigma(x) = x^2$, the
#   author's `mse_class` loss (outputs centred over classes; see [the setting](../setting.md)), the Fig. 3 CPU
#   setting of [the Fig. 3 chapter](fig3_grokking.ipynb) (Adam, lr $10^{-3}$, weight decay $6\times10^{-4}$), which
#   groks. Between the end of Stage I (train accuracy ≥ 0.99) and grokking (test accuracy ≥ 0.95) we take, for every
#   column $j$ of $W$ and every few epochs $t$, the cosine between $\nabla\mathcal E(\mathbf w_j(t))$ — with $\mathcal E$
#   on the run's training pairs — and
#   1. the **negative loss gradient** $-\partial L/\partial\mathbf w_j$ (`theory.loss_grad`): its column $j$ is
#      $X^\top D_j\mathbf g_j$ with $\mathbf g_j$ column $j$ of $G_F = -\partial L/\partial F$, so this tests exactly the
#      premise $\mathbf g_j \propto \tilde Y\tilde Y^\top\sigma(X\mathbf w_j)$ with one constant for all $j$,
#      independently of the optimizer;
#   2. the **actual update** $\mathbf w_j(t+1) - \mathbf w_j(t)$ of the optimizer. Adam's update is *not* the
#      gradient direction (per-coordinate preconditioning, sign-like early on), so we also train with **SGD**
#      (torch's SGD with **momentum 0.9**, the library's `sgd`; lr 2, weight decay $10^{-3}$, chosen so that it
#      groks within a few hundred epochs). Both updates include the optimizer's weight decay, which
#      $-\partial L/\partial W$ does not.
#
#   Each cosine is reported raw and **on the sphere** ("tangent": both vectors projected on $\mathbf w_j^\perp$),
#   because Stage II constrains $\|\mathbf w_j\| = 1$: for $\sigma(x) = x^2$, $\mathcal E$ is homogeneous of degree 4,
#   so $\mathbf w^\top\nabla\mathcal E = 4\mathcal E > 0$ and $\nabla\mathcal E$ always has a large radial part
#   (growing the norm), which says nothing about the *feature* the node learns. We also record how far each node is
#   from a critical point of $\mathcal E$ on the sphere ($\|\nabla_\perp\mathcal E\|/\|\nabla\mathcal E\|$, 0 at a
#   critical point), the nodes' Fourier purity, and the independence proxy of the paper's check,
#   $\mathrm{median}_{j\neq j'}|\cos(\mathbf g_j, \mathbf g_{j'})|$ over the columns of $G_F$.
#
# **Thresholds fixed before looking at the Stage-II numbers** (from the theory: Eq. 6 predicts cosine 1 for the
# loss gradient; a random direction in $\mathbb R^{2M}$ has $|\cos| \approx 1/\sqrt{2M} = 0.11$): the median
# over nodes, runs and Stage-II epochs must be ≥ 0.5 for the loss gradient and for the SGD update, ≥ 0.3 for the
# Adam update (preconditioned), each both raw and tangent; the independence proxy ≤ 0.3 (random vectors in the
# $(M-1)$-dimensional span of $\tilde Y$ give ≈ $0.67/\sqrt{M-1} = 0.11$; 1 would mean all nodes receive the same signal).

# %% tags=["parameters"]
M = 41  # group order: the task is Z_M (modular addition)
width = 512  # hidden width K
train_frac = 0.4  # training fraction p, n / M^2
seeds = 2  # seeds 0..seeds-1 for each optimizer
activation = "sqr"
loss = "mse_class"
adam_lr = 1e-3  # Adam (the Fig. 3 CPU setting)
adam_weight_decay = 6e-4
adam_epochs = 300
sgd_lr = 2.0  # SGD with momentum 0.9 (li2core's "sgd")
sgd_weight_decay = 1e-3
sgd_epochs = 220
eval_every = 10  # accuracy every this many epochs (defines the Stage-II window)
align_every = 5  # the alignment measures every this many epochs
train_thr = 0.99  # Stage II starts at the first epoch with train accuracy at least train_thr
test_thr = 0.95  # and ends at the first epoch with test accuracy at least test_thr (grokking)
gradcheck_nodes = 8  # random unit nodes for part (a)
gradcheck_activations = ["sqr", "silu"]  # Theorem 1 holds for any smooth sigma
fd_step = 1e-6  # central-difference step
device = "auto"
out_dir = "_output/thm1_energy"  # figures and their CSV data go here
profile = "custom"

# %%
FIGURES = ["thm1_gradcheck", "thm1_alignment"]  # declared outputs: <out_dir>/<name>.png and <name>.csv

import time

import matplotlib.pyplot as plt
import pandas as pd
import torch

import li2core
from li2core import figures
from li2core import theory as th
from li2core.chapters import thm1_energy as ch
from li2core.tasks import make_task, split

t_start = time.time()
group = f"Z{M}"
configs = ch.stage2_configs(
    group, train_frac, width, activation, loss, eval_every, seeds,
    adam_lr=adam_lr, adam_weight_decay=adam_weight_decay, adam_epochs=adam_epochs,
    sgd_lr=sgd_lr, sgd_weight_decay=sgd_weight_decay, sgd_epochs=sgd_epochs,
)  # seeds Adam runs, then seeds SGD runs; validated here: a bad parameter raises ValueError naming it
for name in gradcheck_activations:
    th.energy(torch.zeros(2 * M, dtype=torch.float64), group, name)  # validates the activation names
if not (isinstance(align_every, int) and align_every >= 1):
    raise ValueError(f"align_every: must be an integer >= 1; got {align_every!r}")
task = make_task(group)
train_rows = {s: split(task, train_frac, s).train for s in range(seeds)}
print(f"profile={profile}: {group}, K={width}, n_train={configs[0].n_train} (p={train_frac}), sigma={activation}, "
      f"loss={loss}, {seeds} seeds; Adam lr={adam_lr} wd={adam_weight_decay} ({adam_epochs} epochs); "
      f"SGD(momentum 0.9) lr={sgd_lr} wd={sgd_weight_decay} ({sgd_epochs} epochs)")

# %% [markdown]
# ## (a) Eq. 6 is the gradient of $\mathcal E$
#
# Random unit nodes $\mathbf w \in \mathbb R^{2M}$, $\mathcal E$ on the training pairs of seed 0 (float64).

# %%
gradcheck, gc = ch.gradcheck_frame(group, gradcheck_activations, train_rows[0], gradcheck_nodes, fd_step, seed=123)
for act, (e_fd, e_eq6) in gc.items():
    print(f"sigma={act}: max relative error (max over nodes of max_i |.-grad E|_i / max_i |grad E|_i): "
          f"finite differences {e_fd:.2e}, Eq. 6 with explicit X {e_eq6:.2e}")
fig = ch.thm1_gradcheck(gradcheck)
figures.save_figure(fig, out_dir, "thm1_gradcheck", ch.thm1_gradcheck_data(gradcheck))
plt.show()

# %% [markdown]
# The analytic gradient, the finite differences and the literal right-hand side of Eq. 6 agree (the finite
# differences to their truncation/round-off error, Eq. 6 to machine precision): the per-node dynamics of
# Eq. 6 *is* gradient ascent on $\mathcal E$. That part of Theorem 1 is an identity. The substantive part is the
# premise — that training actually produces $\mathbf g_j \propto \tilde Y\tilde Y^\top\sigma(X\mathbf w_j)$ — which (b) tests.
#
# ## (b) Do the columns of $W$ follow $\nabla\mathcal E$ during Stage II?

# %%
t0 = time.time()
snap = ch.snapshot_epochs(configs, align_every)  # every t of the alignment measures and t + 1
res = li2core.train(configs, device=device, snapshots=snap, progress=False, metrics="basic")  # accuracy and loss only
df = res.frame()
print(f"{len(configs)} runs trained on {res.device} in {time.time() - t0:.1f} s")

t0 = time.time()
align = ch.alignment_frame(res, configs, align_every, train_rows)
print(f"alignment measures at {align['epoch'].nunique()} epochs x {len(configs)} runs x K={width} nodes: {time.time() - t0:.1f} s")

windows = ch.stage2_windows(df, configs, train_thr, test_thr)
print(windows.to_string(index=False))
curves = ch.accuracy_curves(df)

# %%
titles = ch.optimizer_titles(adam_lr, adam_weight_decay, sgd_lr, sgd_weight_decay)
fig = ch.thm1_alignment(align, curves, windows, titles=titles)
figures.save_figure(fig, out_dir, "thm1_alignment", ch.thm1_alignment_data(align, curves, windows))
plt.show()

# %% [markdown]
# How to read the figure (one column per optimizer, lines = medians over the 512 nodes and the seeds, bands =
# quartiles; grey = Stage II as defined above):
#
# * **Row 2, the premise of Eq. 6.** The raw cosine between $-\partial L/\partial\mathbf w_j$ and
#   $\nabla\mathcal E(\mathbf w_j)$ is high (≈ 0.75–0.95) from about epoch 20 to the end. On the sphere (tangent parts) it
#   is high only briefly: it peaks (≈ 0.86 with Adam, ≈ 0.95 with SGD) around epochs 25–30, as memorisation completes,
#   and then drops to ≈ 0.1–0.25 for most of Stage II.
#   The raw agreement after that is the shared radial part (both gradients grow $\|\mathbf w_j\|$).
# * **Row 3, the optimizer.** The actual update's raw cosine with $\nabla\mathcal E$ turns negative in the second half:
#   once the training loss is small, weight decay (radially inward) dominates the update. Its tangent part follows
#   $\nabla\mathcal E$ only in the same early window. The green curve shows that the update does follow the *loss
#   gradient* on the sphere (SGD ≈ 0.85–0.98, Adam ≈ 0.65–0.85), so the later misalignment with $\nabla\mathcal E$ comes
#   from the loss gradient, not from the optimizer.
# * **Row 4.** The nodes stay far from critical points of $\mathcal E$ ($\|\nabla_\perp\mathcal E\|/\|\nabla\mathcal E\|$ ≈ 0.45 at
#   grokking, against 0 at a maximum) and far from single frequencies: the median share of a node's power in its
#   dominant frequency pair rises from ≈ 0.13 (random) to only ≈ 0.35 at grokking at this size. The independence proxy
#   stays at the random-subspace level ≈ 0.11: the nodes' signals $\mathbf g_j$ are not collapsed on one direction.

# %%
# Stage-II medians per (optimizer, measure); peak over epochs of the per-epoch median, and its epoch
stage2, peak, peak_epoch = ch.stage2_summary(align, windows)
show = ["lossgrad_vs_gradE", "lossgrad_vs_gradE_tangent", "update_vs_gradE", "update_vs_gradE_tangent",
        "update_vs_lossgrad_tangent", "gradE_tangent_share", "purity", "independence"]
print("Median over nodes, seeds and Stage-II epochs:")
print(stage2[show].to_string(float_format=lambda v: f"{v:.3f}"))
print("Peak over epochs of the per-epoch median (and its epoch):")
print(pd.concat([peak[show[:5]], peak_epoch[show[:5]].add_suffix("@")], axis=1).to_string(float_format=lambda v: f"{v:.3f}"))

# %% [markdown]
# ```{admonition} Deviation: the Stage-II alignment with ∇E holds early, not through Stage II
# :class: warning
# **Claim (Eq. 6, Thm 1):** during Stage II each column of $W$ moves along $\nabla\mathcal E(\mathbf w_j)$, because
# $G_F \propto \tilde Y\tilde Y^\top F$.
# **Computed** (table above, medians over nodes, seeds and the Stage-II epochs; thresholds fixed beforehand): the
# loss gradient passes raw (≈ 0.85–0.87 ≥ 0.5) but **fails on the sphere** (≈ 0.13–0.25 < 0.5). The optimizer updates
# **fail** both raw (Adam ≈ 0.1 < 0.3, SGD ≈ 0.15–0.2 < 0.5) and tangent (Adam ≈ 0.2 < 0.3, SGD ≈ 0.1 < 0.5). On the
# sphere, the alignment is strong only in a short early window around the end of memorisation (peak of the
# per-epoch median ≈ 0.85 for the loss gradient with Adam, ≈ 0.95 with SGD).
# **Likely reasons:** (i) the premise $G_F \propto \tilde Y\tilde Y^\top F$ is a Stage-I fixed-point approximation
# (Lemma 1 / Eq. 5). Once $V$ has fitted the training set and the nodes have moved, the other terms of $G_F$ (the
# node–node interactions of Stage III, $G_F = P_\eta\tilde Y\tilde Y^\top\tilde F B$ with a non-diagonal $B$)
# dominate the direction on the sphere. The window "train acc ≥ 0.99 until test acc ≥ 0.95" thus contains
# much more than the paper's Stage II, as the three-stage picture itself suggests. (ii) The raw cosine is
# inflated by the radial component that both gradients share (Euler: $\mathbf w^\top\nabla\mathcal E = 4\mathcal E$).
# (iii) The optimizers add weight decay, which is radial and dominates the update late; Adam also preconditions.
# The loss here is the author's `mse_class`, not the paper's sample-centred Eq. 1.
# ```
#
# ## Checks

# %%
print("(a) gradient check, max relative error:", {k: f"fd {v[0]:.2e}, eq6 {v[1]:.2e}" for k, v in gc.items()})
print(f"(b) Stage-II windows (start, end) per run: "
      f"{[(configs[r].optimizer, configs[r].seed, s, e) for r, s, e in windows[['run', 'start', 'end']].itertuples(index=False)]}")
pre = {  # (optimizer, measure): threshold fixed before looking at the numbers
    ("adam", "lossgrad_vs_gradE"): 0.5, ("sgd", "lossgrad_vs_gradE"): 0.5,
    ("adam", "lossgrad_vs_gradE_tangent"): 0.5, ("sgd", "lossgrad_vs_gradE_tangent"): 0.5,
    ("adam", "update_vs_gradE"): 0.3, ("sgd", "update_vs_gradE"): 0.5,
    ("adam", "update_vs_gradE_tangent"): 0.3, ("sgd", "update_vs_gradE_tangent"): 0.5,
}
outcome = {k: (float(stage2.loc[k[0], k[1]]), thr, float(stage2.loc[k[0], k[1]]) >= thr) for k, thr in pre.items()}
for (opt, m), (v, thr, ok) in outcome.items():
    print(f"  {opt:4s} {m:28s} Stage-II median {v:+.3f}  threshold {thr}  {'PASS' if ok else 'FAIL (declared deviation)'}")
indep = stage2["independence"]
print(f"  independence proxy (median over Stage II): {indep.round(3).to_dict()}  threshold 0.3")
peak_tan = peak["lossgrad_vs_gradE_tangent"]
print(f"  peak per-epoch median of the tangent loss-gradient cosine: {peak_tan.round(3).to_dict()} "
      f"at epochs {peak_epoch['lossgrad_vs_gradE_tangent'].to_dict()}")
print(f"notebook time so far: {time.time() - t_start:.1f} s")

# %%
for act, (e_fd, e_eq6) in gc.items():
    assert e_fd <= 1e-6, f"Theorem 1 gradient check (sigma={act}): finite differences differ by {e_fd:.2e} > 1e-6"
    assert e_eq6 <= 1e-10, f"Theorem 1 identity (sigma={act}): Eq. 6 with explicit X differs from grad E by {e_eq6:.2e}"
assert windows["start"].notna().all() and windows["end"].notna().all(), \
    f"a run did not memorise or did not grok, so it has no Stage-II window:\n{windows}"
for opt in ("adam", "sgd"):
    v = outcome[(opt, "lossgrad_vs_gradE")][0]
    assert v >= 0.5, f"Eq. 6 premise ({opt} run): Stage-II median cos(-dL/dw_j, grad E) = {v:.3f} < 0.5"
    assert indep[opt] <= 0.3, f"independence proxy ({opt} run): median |cos(g_j, g_j')| = {indep[opt]:.3f} > 0.3"
# Declared deviation (measured behaviour): on the sphere and for the optimizer updates the Stage-II medians are
# below the pre-registered thresholds; if one passes, the deviation note above is out of date.
failing = [k for k in pre if k[1] != "lossgrad_vs_gradE"]
now_pass = [k for k in failing if outcome[k][2]]
assert not now_pass, f"declared deviation no longer holds (update the notebook's text): these now pass: {now_pass}"
# ... while the early-Stage-II alignment on the sphere is real (threshold set after looking, documenting the pattern)
assert (peak_tan >= 0.7).all(), f"early Stage-II tangent alignment of -dL/dw_j with grad E is gone: peaks {peak_tan.to_dict()}"
print("Theorem 1 checks hold: identity exact; Stage-II alignment as declared (raw yes; on the sphere only early).")
