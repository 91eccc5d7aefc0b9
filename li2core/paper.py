"""The paper index: from a label of the paper ("Eq. 4", "Thm 3", "Fig. 5" ...) to the code that computes it and the
chapter that checks it, in one hop.

``li2core.PAPER["Thm 3"]`` is a :class:`PaperResult`: the label, a one-line statement, the dotted names of the
functions that compute it (``.code``; :meth:`PaperResult.functions` imports and returns them) and the stem of the
chapter that re-derives it (``notebooks/<chapter>.py``, ``li2core/chapters/<chapter>.py``). :func:`lookup` accepts
the spellings the paper and the book use ("Theorem 3", "Thm. 3", "thm3", "Proposition 1", "Figure 5").

Labels follow the Li2 paper (arXiv 2509.21519, v5 numbering; digest in ``paper-li2.md``); those of the second paper,
Gu et al., "Beyond Progress Measures" (arXiv 2504.03162; digest in ``paper-med.md``), carry the prefix ``MED``
("MED Thm 3.10", "MED Table 1", "MED Def. 4.2"). Each public function of
:mod:`li2core.theory` names its labels and chapter in its docstring (``Paper: ... Chapter: ...``); the README's result
table has a code column; ``tests/test_paper.py`` checks that the three agree and that every name resolves.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["PaperResult", "PAPER", "lookup"]


@dataclass(frozen=True)
class PaperResult:
    """One labelled result of the paper: ``label``, ``statement`` (one line), ``code`` (dotted names of the functions
    that compute it), ``chapter`` (the notebook stem that checks it)."""

    label: str
    statement: str
    code: tuple[str, ...]
    chapter: str

    def functions(self) -> list[Callable[..., Any]]:
        """The objects named in :attr:`code`, imported (``ImportError`` if one does not exist)."""
        out = []
        for dotted in self.code:
            parts = dotted.split(".")
            for i in range(len(parts), 0, -1):  # the longest importable module prefix, then attributes
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                except ModuleNotFoundError:
                    continue
                for attr in parts[i:]:
                    obj = getattr(obj, attr)
                break
            else:
                raise ImportError(f"{self.label}: cannot import {dotted!r}")
            out.append(obj)
        return out


_F = "li2core.fourier."
_CH = "li2core.chapters."
_M = "li2core.theory.muon."

_ENTRIES = [
    # ------------------------------------------------------------------ the setting
    ("Eq. 1", "the loss: 1/2 ||P1perp (Y - F V)||_F^2, centred over the samples",
     ("li2core.losses.loss_and_grad", "li2core.theory.energy.loss_grad"), "thm1_energy"),
    ("Eq. 2", "the backpropagated gradient G_F = P1perp (Y - F V) V^T",
     ("li2core.theory.stage1.G_F",), "stage1_lazy"),
    ("Eq. 8", "the irrep decomposition of the regular representation R_h",
     ("li2core.groups.Group.irreps", "li2core.irreps.rho_from_block"), "thm2_maxima"),
    ("Eq. 35", "the central idempotents Pi_k = (d_k / M) sum_g conj(chi_k(g)) R_g (isotypic projectors)",
     ("li2core.irreps.central_idempotent", "li2core.groups.Group.isotypic_projectors", _F + "purity"), "thm2_maxima"),
    # ------------------------------------------------------------------ Stage I
    ("Prop. 1", "lazy stage: ||G_F|| rises from O(alpha), then converges to the ridge fixed point (Eq. 4)",
     ("li2core.theory.stage1.lazy_flow", "li2core.theory.stage1.lazy_dynamics", "li2core.theory.stage1.G_F_infinity", "li2core.theory.stage1.ridge_readout"), "stage1_lazy"),
    ("Eq. 3", "early times: G_F(t) = t Y~ Y~^T F~ + O(alpha) + O(alpha t) + O(t^2)",
     ("li2core.theory.stage1.lazy_flow", "li2core.theory.stage1.signal_direction"), "stage1_lazy"),
    ("Eq. 4", "the fixed point G_F(+inf) = P_eta Y~ Y~^T F~ B (Eq. 2 at the ridge readout)",
     ("li2core.theory.stage1.G_F_infinity", "li2core.theory.stage1.fixed_point_norms", "li2core.theory.stage1.B_matrix", "li2core.theory.stage1.P_eta"), "stage1_lazy"),
    ("Eq. 47", "the ridge objective on V, J(V) = 1/2 (||Y~ - F~ V||^2 + eta ||V||^2)",
     ("li2core.theory.stage1.ridge_readout", "li2core.theory.stage1.lazy_flow"), "stage1_lazy"),
    ("Prop. 2", "G_F(t) = Y~ V0^T + t Y~ Y~^T F~ + O(t alpha + t^2), whatever eta",
     ("li2core.theory.stage1.lazy_flow", "li2core.theory.stage1.signal_direction"), "stage1_lazy"),
    ("Prop. 3", "eta = 0, realizable: ||G_F(t)|| decays to 0 at rate sigma_min(F~)^2",
     ("li2core.theory.stage1.realizability_residual", "li2core.theory.stage1.gram_spectrum", "li2core.theory.stage1.lazy_flow"), "stage1_lazy"),
    ("Prop. 4", "eta > 0: G_F converges to G* != 0 at rate lambda_min(F~^T F~ + eta I)",
     ("li2core.theory.stage1.gram_spectrum", "li2core.theory.stage1.lazy_flow", "li2core.theory.stage1.plateau_slope_bound"), "stage1_lazy"),
    ("Lemma 1", "F~^T F~ and F~ F~^T near multiples of the identity, so G_F(+inf) ~ Eq. 5",
     ("li2core.theory.stage1.lemma1_measures", "li2core.theory.stage1.lemma1_constants", _CH + "stage1_lazy.lemma1_sweep"), "stage1_lazy"),
    ("Eq. 5", "G_F(+inf) ~ eta / ((K c1 + eta)(n c2 + eta)) Y~ Y~^T F~",
     ("li2core.theory.stage1.G_F_lemma1", "li2core.theory.stage1.lemma1_prefactor"), "stage1_lazy"),
    ("Sec. 3.2", "zero-init: with V(0) = 0, G_F carries only the signal term from the start",
     ("li2core.theory.stage1.lazy_flow", "li2core.models.init_weights"), "stage1_lazy"),
    # ------------------------------------------------------------------ Stage II
    ("Eq. 6", "the decoupled dynamics of each node: w_j' = X^T D_j Y~ Y~^T sigma(X w_j)",
     ("li2core.theory.energy.eq6_rhs", "li2core.theory.energy.energy_grad", "li2core.theory.energy.loss_grad"), "thm1_energy"),
    ("Eq. 7", "the energy E(w) = 1/2 ||Y~^T sigma(X w)||^2",
     ("li2core.theory.energy.energy", "li2core.theory.energy.energy_and_grad", "li2core.theory.energy.class_signal"), "thm1_energy"),
    ("Thm 1", "Eq. 6 is gradient ascent on the energy E (Eq. 7)",
     ("li2core.theory.energy.energy_grad", "li2core.theory.energy.eq6_rhs", "li2core.theory.energy.energy_grad_fd", _CH + "thm1_energy.stage2_alignment"),
     "thm1_energy"),
    ("Thm 2", "for sigma = x^2 the local maxima of E are single irreps [u; +-P u], with E* = M/(8 d_k) or M/(16 d_k)",
     ("li2core.theory.ascent.project_ascent", "li2core.theory.maxima.paper_energy_constant", _F + "fourier_node", _CH + "thm2_maxima.maxima_survey"),
     "thm2_maxima"),
    ("App. A.1", "the group form of E: S = (u o u) 1^T + 1 (v o v)^T + u v^T in the proof of Thm 2",
     ("li2core.theory.energy.energy_cross_term", "li2core.theory.energy.class_signal"), "thm2_maxima"),
    ("Cor. 1", "every local maximum of E is flat (a zero eigenvalue of the tangent Hessian) for M > 2",
     ("li2core.theory.energy.tangent_hessian", "li2core.theory.energy.tangent_hessian_batch", "li2core.theory.energy.tangent_hessian_matrix"), "thm2_maxima"),
    ("Cor. 2", "modular addition: the maxima are the Fourier nodes; for linear sigma, the LDA direction",
     (_F + "fourier_node", "li2core.theory.maxima.lda_matrix", "li2core.theory.maxima.class_means"), "thm2_maxima"),
    ("Thm 3", "enough learned maxima reconstruct Y~ by least squares (K = 2 sum_k m_k^2 d_k^2 nodes)",
     ("li2core.theory.reconstruction.reconstruct", "li2core.theory.reconstruction.reconstruct_complex", "li2core.theory.reconstruction.theorem3_width", "li2core.theory.reconstruction.theorem3_counts"),
     "thm3_reconstruction"),
    ("Thm 4", "n >~ d_k^2 M log(M / delta) random samples keep the maxima: p_crit ~ c ln M / M",
     ("li2core.theory.scaling.critical_ratio", "li2core.theory.scaling.c_statistics",
      _CH + "fig5_scaling_law.maxima_survival", _CH + "fig5_scaling_law.fit_c"),
     "fig5_scaling_law"),
    ("Thm 5", "with too little data the maxima memorise: focused for x^2, spreading for ReLU, SiLU",
     ("li2core.theory.memorization.memorization_reduced", "li2core.theory.memorization.memorization_kkt", "li2core.theory.memorization.single_target_weights"), "thm5_memorization"),
    ("Lemma 5", "the KKT condition of the reduced problem, p_g phi(s_g) = 2 lambda (Eq. 34)",
     ("li2core.theory.memorization.memorization_profile", "li2core.theory.memorization.memorization_phi"), "thm5_memorization"),
    ("Lemma 6", "the monotonicity of phi = sigma'(x)/x decides focused against spreading memorisation",
     ("li2core.theory.memorization.memorization_kkt", "li2core.theory.memorization.memorization_phi"), "thm5_memorization"),
    # ------------------------------------------------------------------ Stage III
    ("Eq. 9", "column j of F~B is b_jj f~_j + sum over l != j of b_jl f~_l (the printed l = 1..K counts j twice)",
     ("li2core.theory.repulsion.eq9_rhs",), "thm6_repulsion"),
    ("Thm 6", "repulsion: b_jl = -beta / (alpha gamma - beta^2), so sign b_jl = -sign(f~_j^T P_{eta,-jl} f~_l)",
     ("li2core.theory.repulsion.B_schur", "li2core.theory.repulsion.schur_pairs",
      "li2core.theory.repulsion.schur_pairs_P_eta", "li2core.theory.repulsion.repulsion_sign",
      "li2core.theory.repulsion.top_similar_pairs", _CH + "thm6_repulsion.snapshot_measures"), "thm6_repulsion"),
    ("Thm 7", "top-down modulation: with S learned, G_F carries the residual; E_S keeps maxima only on the missing irreps",
     ("li2core.theory.topdown.energy_missing", "li2core.theory.topdown.energy_missing_closed_form",
      "li2core.theory.topdown.irrep_residual", "li2core.theory.topdown.ls_residual",
      "li2core.theory.topdown.ascend_missing", "li2core.measures.gf_spectrum", _CH + "thm7_topdown.spectrum_frame"),
     "thm7_topdown"),
    ("Eq. 20", "the Schur form of E: (M/2) sum_k |sum_r tr S^_k,r|^2 / d_k as printed; exact with ||.||_F^2 (= for d_k = 1)",
     ("li2core.theory.topdown.energy_missing_closed_form",), "thm7_topdown"),
    ("Lemma 2", "Muon's update U V^T of G = U D V^T ascends the same objective: <U V^T, G> = tr D >= 0",
     (_M + "lemma2_inner", _M + "polar_factor", "li2core.optim.newton_schulz5", _CH + "muon.lemma2_frame"), "muon"),
    ("Lemma 9", "the orthogonalised last column of [Q, v] ~ v_perp / ||v_perp|| + v_par / (1 + ||v_perp||)",
     (_M + "muon_last_column", _M + "lemma9_approx", _M + "lemma9_factor", _M + "polar_factor",
      _M + "muon_sequential_flow", _CH + "muon.lemma9_frame"), "muon"),
    ("Eq. 10", "the model dynamics of one node: w' = A(w) w, ||w|| <= 1, A(w) = sum_l lambda_l zeta_l zeta_l^T",
     (_M + "plain_flow", _M + "muon_sequential_flow"), "muon"),
    ("Lemma 7", "Frechet starts (CDF exp(-x^-a)): node ends at maximum l with p_l = mu_l^a / sum mu^a",
     (_M + "frechet_sample", _M + "collection_probabilities"), "muon"),
    ("Lemma 8", "the initial leader arg max_l mu_l alpha_l(0) is the maximum the independent flow reaches",
     (_M + "plain_flow", _M + "collection_probabilities"), "muon"),
    ("Thm 8", "Muon: independent nodes need T_0 (coupon collector) to reach all L maxima, Muon-guided ones T_a <= ...",
     (_M + "plain_flow", _M + "muon_sequential_flow", _M + "coupon_collector_T0", _M + "coupon_bounds",
      _M + "muon_T_bound", _M + "coupon_time_dp", _M + "first_collection", _M + "distinct_maxima",
      _M + "expected_distinct", _M + "collection_probabilities", _M + "frechet_sample", _CH + "muon.coupon_frame"),
     "muon"),
    ("Eq. 41", "T_0 = int_0^inf (1 - prod_l (1 - exp(-p_l t))) dt, the expected coupon-collector time",
     (_M + "coupon_collector_T0", _M + "coupon_time_dp", _M + "first_collection"), "muon"),
    ("Eq. 46", "the Muon-guided time T_a <= 2^-a T_0 + (1 - 2^-a) L",
     (_M + "muon_T_bound", _M + "coupon_time_dp"), "muon"),
    ("Lemma 10", "T_0 >= max(1 / min_l p_l, L sum_{l<=L} 1/l), attained at p_l = 1/L (the main text drops the L)",
     (_M + "coupon_bounds",), "muon"),
    # ------------------------------------------------------------------ deeper nets, the output scale
    ("Eq. 11", "deeper nets: G_{L-1} = D_L Y~ Y~^T D_L F_{L-1} W_L W_L^T ~ D_L Y~ Y~^T D_L F_{L-1} (homogeneous sigma)",
     ("li2core.theory.deep.eq11_G", "li2core.theory.deep.eq11_top_gradient", "li2core.theory.deep.gram_identity_gap",
      "li2core.theory.deep.residual_layer_matrix", "li2core.models.deep.Deep", _CH + "deep_networks.eq11_frame"),
     "deep_networks"),
    ("Sec. 6", "deeper nets: grokking is more delayed with depth; the lowest layer learns first; its features stay Fourier",
     ("li2core.models.deep.Deep", _CH + "deep_networks.deep_configs", _CH + "deep_networks.run_frame",
      _CH + "deep_networks.layer_onsets", _CH + "deep_networks.drift_frame", _CH + "deep_networks.drift_onsets"),
     "deep_networks"),
    ("App. C.3", "the output scale beta: G*_beta = G* / beta^2 (Eq. 69; exactly: Eq. 4 at eta / beta^2)",
     ("li2core.theory.deep.G_star_output_scale", "li2core.theory.deep.eq69_G_star", "li2core.theory.deep.eq69_gap",
      _CH + "output_scale.eq69_frame", _CH + "output_scale.gd_fixed_point", _CH + "output_scale.scale_frame",
      _CH + "output_scale.lazy_prediction"), "output_scale"),
    # ------------------------------------------------------------------ figures
    ("Fig. 3", "grokking with weight decay and none without; ||G_F||, two-stage Delta W, diagonality",
     ("li2core.train.train", _CH + "fig3_grokking.fig3_dynamics", _CH + "fig3_grokking.fig3_two_stage"),
     "fig3_grokking"),
    ("Fig. 5", "the phase diagrams and the boundary p_crit = c ln M / M (cyclic, products, non-Abelian)",
     ("li2core.sweep.run_sweep", "li2core.theory.scaling.grid_boundary", "li2core.theory.scaling.bootstrap_c",
      _CH + "fig5_scaling_law.boundary", _CH + "fig5_scaling_law.fit_c",
      _CH + "fig5_scaling_law.fig5_phase"), "fig5_scaling_law"),
    ("Fig. 6", "the learning rate near the boundary: small lr makes generalising solutions more likely",
     (_CH + "fig5_scaling_law.fig6_lr",), "fig5_scaling_law"),
    ("Fig. 7", "the energy E of the learned nodes: Fourier (low E) against memorisation (high E)",
     (_CH + "fig5_scaling_law.node_energies", "li2core.theory.scaling.reference_energies", _CH + "fig5_scaling_law.fig7_energy"),
     "fig5_scaling_law"),
    ("Fig. 8", "Adam vs Muon on Z_71 at small K: test loss and the number of distinct frequencies the nodes cover",
     ("li2core.optim.BatchedOptimizer", "li2core.optim.newton_schulz5", _CH + "muon.fig8_configs",
      _CH + "muon.fig8_frame", _CH + "muon.fig8_summary", _CH + "muon.muon_fig8"), "muon"),
    ("Fig. 10", "the real baseline on Z_M (M in {23, 41, 89, 127}, K = 256, 80 % train, Adam): grokking epochs per seed",
     ("li2core.train.train", _CH + "weight_variants.variant_configs", _CH + "weight_variants.run_frame",
      _CH + "weight_variants.variant_curves"), "weight_variants"),
    ("Fig. 11", "complex weights seem to grok faster; the author's use_complex_weights is the real net (imaginary parts "
                "stay 0); a genuinely complex init (complex_imag_init) named apart",
     ("li2core.models.deep.Deep", _CH + "weight_variants.complex_equivalence", _CH + "weight_variants.variant_summary",
      _CH + "weight_variants.variant_epochs"), "weight_variants"),
    ("Fig. 12", "V replaced by the ridge solution at every step (set_weight_reg): grokking slower at M = 23, faster at "
                "M = 41, 89, 127",
     ("li2core.models.deep.Deep", _CH + "weight_variants.variant_summary", _CH + "weight_variants.variant_epochs"),
     "weight_variants"),
    ("Fig. 13", "M = 23, 500 epochs, ridge V: grokking happens, later than the baseline",
     (_CH + "weight_variants.fig13_data", _CH + "weight_variants.fig13_curves"), "weight_variants"),
    ("Fig. 14", "zero-init V(0) = 0 against the default init across data fractions, M = 41: grokking epochs, paired ratios",
     (_CH + "zero_init.zero_init_configs", _CH + "zero_init.grok_frame", _CH + "zero_init.ratio_frame",
      _CH + "zero_init.ratio_summary", _CH + "zero_init.zero_init_curves", _CH + "zero_init.zero_init_epochs"),
     "zero_init"),
    ("Fig. 15", "the same at M = 89",
     (_CH + "zero_init.grok_frame", _CH + "zero_init.ratio_summary", _CH + "zero_init.zero_init_curves",
      _CH + "zero_init.zero_init_epochs"), "zero_init"),
    ("Fig. 16", "the same at M = 127 (Adam lr 0.005, wd 5e-5, K = 1024, x^2, MSE); the early G_F direction",
     (_CH + "zero_init.grok_frame", _CH + "zero_init.ratio_summary", _CH + "zero_init.zero_init_curves",
      _CH + "zero_init.zero_init_epochs", _CH + "zero_init.early_alignment", _CH + "zero_init.zero_init_alignment"),
     "zero_init"),
    ("Fig. 9", "2-, 3- and 4-layer ReLU nets: training curves, grokking later with depth, lowest-layer Fourier features",
     (_CH + "deep_networks.deep_curves", _CH + "deep_networks.deep_features", _CH + "deep_networks.spectrum_frame",
      _CH + "deep_networks.deep_grok"), "deep_networks"),
    ("Fig. 17", "zero-init V(0) = 0 in deeper nets: often about 10x faster (Adam lr 5e-3, eta 1e-4, K 2048, ReLU, MSE)",
     (_CH + "deep_networks.deep_grok", _CH + "deep_networks.zero_init_ratios", _CH + "deep_networks.depth_summary"),
     "deep_networks"),
]

# ------------------------------------------------------------------ the second paper: Gu et al. (MED)
_MP = _CH + "med_progress."
_MED_OPS = {12: ("x-y", 128, 0.3), 13: ("xy", 128, 0.3), 14: ("x^2+y^2", 256, 0.2), 15: ("x^3+y^3", 128, 0.2),
            16: ("x^2+xy+y^2", 128, 0.3), 17: ("x^2+xy+y^2", 256, 0.3), 18: ("x^2+xy+y^2", 256, 0.4),
            19: ("x^3+xy+y^3", 256, 0.5)}
_ENTRIES += [
    ("MED Def. 4.2", "MED = (1/p) sum_i ||phi(i+1) - phi(i)||, cyclic, beside the authors' calculate_embedding_diff, "
                     "on trained embeddings",
     ("li2core.measures.med", "li2core.measures.med_code", _MP + "embedding_measures", _MP + "init_med"),
     "med_progress"),
    ("MED Fig. 5", "MED against the test loss through training (add, p in {47, 97, 211, 379}, frac 0.3): post-fit "
                   "Pearson/Spearman per seed, beside the embedding norm, the weight-decay term, MED / row norm, the gap "
                   "CV and the Fourier purity; half-change leads",
     (_MP + "med_configs", _MP + "trace_frame", _MP + "correlations", _MP + "corr_summary", _MP + "lead_frame",
      _MP + "med_fig5", _MP + "med_measures", _MP + "med_compare"), "med_progress"),
    ("MED Thm 3.8", "a small weight-decay term bounds MED: MED <= 2 sqrt(W/p), W = sum ||theta||^2; MED against W "
                    "along training", (_MP + "thm38_bound", _MP + "med_thm38"), "med_progress"),
    *((f"MED Fig. {k}", f"MED against the test loss for {op}, p = 97, d_model {dm}, frac {fr} (paper profile)",
       (_MP + "parse_cases", _MP + "med_configs", _MP + "med_fig5", _MP + "correlations"), "med_progress")
      for k, (op, dm, fr) in _MED_OPS.items()),
]

_MD = _CH + "med_depth."
_ENTRIES += [
    ("MED Fig. 2", "with more transformer layers test accuracy fluctuates violently while MED keeps decreasing (Sec. 5; "
                   "read as region fragmentation): post-fit fluctuation of test accuracy and the fall of MED per depth",
     (_MD + "depth_configs", _MD + "run_frame", _MD + "fluctuation", _MD + "fall_share", _MD + "depth_summary",
      _MD + "depth_curves", _MD + "depth_measures"), "med_depth"),
    ("MED Thm 3.5", "mastered pairs concentrate around class vectors: ||phi(i)+phi(j) - k_r|| < delta_r (Liu et al.'s "
                    "parallelogram condition), on the cls residual before the unembedding",
     ("li2core.measures.parallelogram_spread", _MD + "cls_residual", _MD + "spread_frame", _MD + "depth_measures"),
     "med_depth"),
]

_MS = _CH + "med_splits."
_CV = "li2core.theory.coverage."
_ENTRIES += [
    ("MED Table 1", "the training distribution caps test accuracy: square (k) and strip (t) dug-outs forced into the test "
                    "set (p = 97, add, frac 0.3, d = 0): U-Acc, L-Acc, GO-epoch beside the trivial share of test points "
                    "outside the dug-out",
     ("li2core.tasks.split_pairs", "li2core.tasks.trivial_share", _MS + "table1_rows", _MS + "curve_stats",
      _MS + "table1_frame", _MS + "dugout_accuracy", _MS + "table1_summary"), "med_splits"),
    ("MED Fig. 4", "x^2+xy+y^2 on random splits, frac 0.5/0.6/0.7: the accuracy ceiling rises with frac while "
                   "Acc (1 - frac) stays about constant; the torus coverage count as the data-side model",
     (_MS + "fig4_configs", _MS + "fig4_frame", _MS + "frac_slope", _MS + "coverage_frame", _MS + "fig4_figure"),
     "med_splits"),
    ("MED Thm 3.10", "a right test answer imitates a nearby same-class training pair (L1): per test point the nearest "
                     "same-class training distance against correctness; UB_D against the measured accuracy",
     (_CV + "nearest_same_class_distance", _CV + "coverage_ceiling", _MS + "pair_frame", _MS + "distance_accuracy",
      _MS + "ceiling_frame", _MS + "thm310_figure"), "med_splits"),
    ("MED Thm 3.12", "full coverage of the p^2 pairs by random training points covering C each: P >= 1 - N (1 - C/N)^m, "
                     "alpha > 2 ln p / C",
     (_CV + "ball_size", _CV + "thm312_threshold", _CV + "full_coverage_bound", _MS + "thm312_frame",
      _MS + "full_coverage_mc", "li2core.theory.med.uncovered_counts", "li2core.theory.med.expected_uncovered",
      _CH + "med_theory.coverage_frame"), "med_theory"),  # also in med_splits, beside Thm 3.10
]

_MT = _CH + "med_theory."
_TM = "li2core.theory.med."
_ENTRIES += [
    ("MED Lemma 3.4", "operator vs Frobenius norm: ||M||_2 <= ||M||_F <= sqrt(min(m, n)) ||M||_2, on random matrices "
                      "(with the equality cases) and on every weight matrix of the MED transformer along training",
     (_TM + "operator_frobenius", _MT + "random_norms", _MT + "norm_frame", _MT + "norm_sums", _MT + "norms_figure"),
     "med_theory"),
    ("MED Remark 3.9", "for every class the uniform layout lowers the weight-decay term; read on the toy "
                       "min sum ||x_i||^2 + ||L||_F^2 s.t. L x_i + L x_j = c_r(i,j) for all classes of addition "
                       "mod p: whether the constraint can hold, the gap CV and the dominant frequency",
     (_TM + "pair_sum_residual", _TM + "fit_pair_sum", _TM + "frequency_spectrum", _TM + "gap_cv_open",
      _MT + "toy_cases", _MT + "toy_frame", _MT + "toy_figure"), "med_theory"),
    ("MED Lemma B.1", "under a single linear constraint the weight-decay minimum lays the embeddings out uniformly "
                      "and the sum of consecutive gaps decreases: the closed form sqrt(p) ||c|| (all embeddings at one "
                      "point) against the penalty method",
     (_TM + "single_class_minimum", _TM + "fit_pair_sum", _MT + "toy_frame"), "med_theory"),
    ("MED App. C", "the three-scalar flow x' = -(xwu - 1) wu (and cyclically), with and without weight decay: the "
                   "manifold of equilibria xwu = 1, the balanced point weight decay selects, the delay "
                   "ln(100) / (2 lambda)",
     (_TM + "xwu_field", _TM + "rk4", _TM + "manifold_limit", _TM + "balanced_equilibrium", _TM + "field_jacobian",
      _MT + "ode_frame", _MT + "jacobian_frame", _MT + "ode_figure"), "med_theory"),
    ("MED App. E", "Toeplitz-initialised embeddings (the authors' commented-out W_E = toeplitz(v, v)[:, :d_vocab] / "
                   "sqrt(d_model)) against random ones: epochs to grokking, per seed pair",
     (_TM + "toeplitz_embedding", _MT + "embedding_configs", _MT + "train_with_inits", _MT + "grok_frame",
      _MT + "pair_frame", _MT + "toeplitz_figure"), "med_theory"),
]

_MR = _CH + "med_resnet."
_ENTRIES += [
    ("MED Fig. 6", "the ResNet dataset: a dictionary of 11 shapes (side counts 0, 3..12) fills the 2x2 quadrants in "
                   "every way (11^4 = 14,641 images), label = the sum of the side counts; the label histogram against "
                   "an independent convolution count and the authors' radius quirk measured on the pixels",
     ("li2core.tasks.shape_images", "li2core.tasks.shape_label_counts", "li2core.tasks.quadrant_radius",
      _MR + "label_frame", _MR + "quirk_extent", _MR + "dataset_figure"), "med_resnet"),
    ("MED Fig. 7", "ResNet-18 (plain torch, from scratch) on 25 % of the shape images, Adam lr 1e-3 with coupled L2 "
                   "1e-4, minibatches of 200: train accuracy -> 1, a test plateau, then grokking (ci: a reduced net "
                   "fits and test accuracy stays low; grokking only in the paper profile)",
     ("li2core.models.resnet.ResNet18", "li2core.models.resnet.ResNet", "li2core.train.resnet_config",
      _MR + "curves_frame", _MR + "majority_share", _MR + "curves_figure"), "med_resnet"),
]

# ------------------------------------------------------------------ both papers on the same runs
_BR = _CH + "bridge_med_li2."
_ENTRIES += [
    ("MED Def. 4.1", "a progress measure signals the phenomenon; here: which of MED and the Li2 signals moves first on "
                     "the same runs (MED of the Li2 net's hidden rows; the first-layer dL/dF and diagonality on the "
                     "MED transformer), per-seed lags",
     tuple(_BR + n for n in ("med_rows", "node_energy", "first_layer_gradient", "first_layer_gradient_closed",
                             "tf_layer_measures", "half_move", "run_events", "lag_frame", "lag_summary",
                             "course_figure", "lag_figure")),
     "bridge_med_li2"),
]

#: Label -> :class:`PaperResult`, in the order of the paper (setting, Stage I, Stage II, Stage III, figures).
PAPER: dict[str, PaperResult] = {lab: PaperResult(lab, st, code, ch) for lab, st, code, ch in _ENTRIES}

_KIND = {"eq": "Eq.", "equation": "Eq.", "prop": "Prop.", "proposition": "Prop.", "lemma": "Lemma",
         "thm": "Thm", "theorem": "Thm", "cor": "Cor.", "corollary": "Cor.", "fig": "Fig.", "figure": "Fig.",
         "sec": "Sec.", "section": "Sec.", "app": "App.", "appendix": "App.", "def": "Def.", "definition": "Def.",
         "table": "Table", "remark": "Remark"}
_LABEL = re.compile(r"^\s*(MED\s+)?([A-Za-z]+)\.?\s*([0-9A-Z][0-9.]*)\s*$", re.IGNORECASE)


def lookup(label: str) -> PaperResult:
    """The :class:`PaperResult` of ``label`` in any common spelling ("Theorem 3", "Thm. 3", "thm3", "Eq 4",
    "Figure 5"; the second paper's with the prefix "MED": "MED Theorem 3.10", "MED Table 1"). ``KeyError`` naming
    the known labels if there is none."""
    m = _LABEL.match(str(label))
    key = None
    if m and m.group(2).lower() in _KIND:
        kind = _KIND[m.group(2).lower()]
        key = f"{'MED ' if m.group(1) else ''}{kind} {m.group(3).rstrip('.')}"
    if key not in PAPER:
        raise KeyError(f"label: no result {label!r} in li2core.PAPER; known: {', '.join(PAPER)}")
    return PAPER[key]
