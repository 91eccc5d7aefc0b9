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
# # Notes on the paper
#
# Every place where a literal computation disagrees with a statement or a constant printed in
# Tian, *Provable Scaling Laws of Feature Emergence from Learning Dynamics of Grokking* (v5), in one table.
# The numbers in the table are **recomputed on this page** from `li2core` (they are not copied from the
# chapters), and the last cell asserts them, so the table cannot drift from the code. Each row links to the
# chapter that derives it at length. Where the paper is only ambiguous or has a typo, the row says so.
#
# None of these changes *where* the paper's maxima sit or the shape of its scaling law; most are constants,
# counts or the scope of a statement.

# %% tags=["parameters"]
M_odd = 23  # odd group order for the Z_M rows
M_even = 12  # even group order for the Z_M rows
out_dir = "_output/notes_on_the_paper"
profile = "custom"

# %%
FIGURES = ["notes_energy_ratio"]  # declared outputs: <out_dir>/<name>.png and <name>.csv

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from li2core import figures, groups
from li2core.chapters import notes_on_the_paper as ch

G_odd, G_even = groups.make(f"Z{M_odd}"), groups.make(f"Z{M_even}")  # validates the parameters
rows: list[dict[str, str]] = []  # the notes table, one ch.note(...) per disagreement

# %% [markdown]
# ## The energy at a maximum (Theorem 2, Corollary 2)
# The paper gives $\mathcal E^* = M/16$ at a single-frequency maximum of $\mathbb Z_M$ (complex pair) and
# $M/8$ at the real frequency $M/2$ of even $M$; in general $M/(16 d_k)$ and $M/(8 d_k)$. Evaluating Eq. 7
# literally (unit-norm $\mathbf w$ over both halves, all $M^2$ pairs, $\tilde Y$ centred over samples):

# %%
energy_df = ch.energy_at_maxima(M_odd, M_even)
display(energy_df.round(6))
ratio = energy_df["ratio"]
rows.append(ch.energy_note(energy_df))

# %%
fig = ch.notes_energy_ratio(energy_df)
figures.save_figure(fig, out_dir, "notes_energy_ratio", ch.notes_energy_ratio_data(energy_df))
plt.show()

# %% [markdown]
# ## Flatness (Corollary 1) and the set of maxima (Theorem 2)

# %%
flat = ch.maxima_flatness(M_odd, M_even)
ev_pair, ev_real, E0, E_off = flat["ev_pair"], flat["ev_real"], flat["E0"], flat["E_off"]
print(f"Z{M_even}, frequency 1: top tangent-Hessian eigenvalues {np.round(ev_pair[:3], 9).tolist()}")
print(f"Z{M_even}, frequency {M_even // 2}: top tangent-Hessian eigenvalues {np.round(ev_real[:3], 9).tolist()}")
print(f"Z{M_odd}: E([u; Pu]) = {E0:.12f}, E([u; Pu'] with a relative phase 0.7) = {E_off:.12f}")
rows += ch.maxima_notes(flat, M_even)

# %%
lda_norm = ch.linear_sigma_norm(G_odd)
print(f"Z{M_odd}, all pairs: ||Y~^T X||_F = {lda_norm:.1e} (linear sigma: E(w) = 1/2 ||Y~^T X w||^2 = 0 for every w)")
rows.append(ch.linear_sigma_note(lda_norm))
rows += ch.stage_notes()

# %% [markdown]
# ## Reconstruction (Theorem 3) and widths

# %%
M_small = 7  # the group order of the memorisation-width rows
rec = ch.reconstruction_residuals(M_odd, M_small)
res_exact, res_off, res_off_short = rec["res_exact"], rec["res_off"], rec["res_off_short"]
res_mem, res_mem_m1, res_mem_short = rec["res_mem"], rec["res_mem_m1"], rec["res_mem_short"]
print(f"Z{M_odd}: exact real maxima (K = {rec['K_exact']}): residual {res_exact:.12f} (1/sqrt 2 = {1 / math.sqrt(2):.12f})")
print(f"Z{M_odd}: offsets 0.1, K = 4(M-1) = {4 * (M_odd - 1)}: {res_off:.2e}; one node fewer: {res_off_short:.3f}")
print(f"Z{M_small}: memorisation nodes K = M^2 = {M_small**2}: {res_mem:.2e}; K = M^2 - 1: {res_mem_m1:.2e}; "
      f"K = M^2 - 2: {res_mem_short:.3f}")
rows += ch.reconstruction_notes(rec, M_odd, M_small)
rows += ch.width_notes(("S3", "D5"))

# %% [markdown]
# ## Memorisation (Theorem 5), the critical ratio and typos

# %%
rows += ch.memorization_notes()
cyclic_in_disguise = ch.cyclic_in_disguise(ch.FIG5_PRODUCTS)
print(f"Fig. 5 product groups that are cyclic (an element of order |G|): {cyclic_in_disguise}")
rows += ch.scaling_notes(cyclic_in_disguise, len(ch.FIG5_PRODUCTS))
rows += ch.typo_notes()

# %%
table = ch.notes_table(rows)
pd.set_option("display.max_colwidth", None)
display(table.style.hide(axis="index"))

# %% [markdown]
# ## Checks
# The computed values the table reports, asserted.

# %%
assert np.allclose(ratio, 4.0, rtol=1e-9), f"E*/paper ratio is not 4: {ratio.tolist()}"
assert abs(ev_pair[0]) < 1e-8 and abs(ev_pair[1]) < 1e-8 and ev_pair[2] < -1e-6, ev_pair[:3]
assert ev_real[0] < -1e-3, f"the j = M/2 maximum is not strict: {ev_real[0]}"
assert abs(E_off - E0) < 1e-10 * E0, (E0, E_off)
assert lda_norm < 1e-10, lda_norm
assert set(cyclic_in_disguise) == {"Z4xZ7", "Z5xZ6", "Z13xZ11", "Z3xZ2xZ17"}, cyclic_in_disguise
assert abs(res_exact - 1 / math.sqrt(2)) < 1e-9, res_exact
assert res_off < 1e-8 and res_off_short > 1e-4, (res_off, res_off_short)
assert res_mem < 1e-8 and res_mem_m1 < 1e-8 and res_mem_short > 1e-4, (res_mem, res_mem_m1, res_mem_short)
print(f"{len(table)} notes; all recomputed values hold.")
