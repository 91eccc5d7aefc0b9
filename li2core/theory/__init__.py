"""Theory quantities of the Li2 framework (paper-li2 §1.1, §2): tensors in, tensors out.

One module per stage or theorem family; every public name is re-exported here, so ``from li2core import theory
as th; th.energy(...)`` reaches all of them. Each function's docstring names the paper label(s) it implements
and the chapter that checks it; :data:`li2core.PAPER` maps every label to its code.

========================  ===============================================================  =======================
module                    what                                                             chapter
========================  ===============================================================  =======================
:mod:`.pairs`             groups, rows and weights of a task; the literal one-hot ``X, Y``  (shared)
:mod:`.stage1`            Eq. 2-5, Prop. 1, Props. 2-4, Lemma 1: lazy learning, ``G_F``     ``stage1_lazy``
:mod:`.energy`            Thm 1, Eq. 6-7: the energy, its gradient and Hessian             ``thm1_energy``
:mod:`.ascent`            projected ascent on the sphere (real and complex weights)        ``thm2_maxima``
:mod:`.maxima`            Thm 2, Cor. 1-2: the paper's E*, the linear case                 ``thm2_maxima``
:mod:`.reconstruction`    Thm 3: least-squares reconstruction, node counts                 ``thm3_reconstruction``
:mod:`.scaling`           Thm 4: the critical ratio, boundary crossings, Fig. 7's levels   ``fig5_scaling_law``
:mod:`.memorization`      Thm 5: the reduced memorisation problem                          ``thm5_memorization``
:mod:`.repulsion`         Thm 6, Eq. 9: B, its Schur-complement entries, the sign rule     ``thm6_repulsion``
:mod:`.topdown`           Thm 7: the modified energy E_S given learned irreps              ``thm7_topdown``
:mod:`.muon`              Lemma 2, Lemma 9, Thm 8, Lemma 10: Muon and the coupon collector ``muon``
:mod:`.deep`              Eq. 11 (deeper nets), App. C.3 (the output scale)                ``deep_networks``, ``output_scale``
:mod:`.coverage`          MED Thm 3.10, 3.12: nearest same-class training pair, coverage   ``med_splits``
:mod:`.med`               MED Lemma 3.4, Thm 3.12 (MC), Remark 3.9, Lemma B.1, App. C, E   ``med_theory``
========================  ===============================================================  =======================

The Fourier / irrep vocabulary (single-frequency nodes, the inversion map, purity) is :mod:`li2core.fourier`; the
activations (``sigma, sigma', sigma''``) are :mod:`li2core.activations`; the centring ``P_1^perp`` is
:func:`li2core.losses.center`. Experiment drivers that build the chapters' frames live in :mod:`li2core.chapters`.
"""
from __future__ import annotations

from . import ascent as _ascent
from . import coverage as _coverage
from . import deep as _deep
from . import energy as _energy
from . import maxima as _maxima
from . import med as _med
from . import memorization as _memorization
from . import muon as _muon
from . import pairs as _pairs
from . import reconstruction as _reconstruction
from . import repulsion as _repulsion
from . import scaling as _scaling
from . import stage1 as _stage1
from . import topdown as _topdown
from .ascent import *  # noqa: F403
from .coverage import *  # noqa: F403
from .deep import *  # noqa: F403
from .energy import *  # noqa: F403
from .maxima import *  # noqa: F403
from .med import *  # noqa: F403
from .memorization import *  # noqa: F403
from .muon import *  # noqa: F403
from .pairs import *  # noqa: F403
from .reconstruction import *  # noqa: F403
from .repulsion import *  # noqa: F403
from .scaling import *  # noqa: F403
from .stage1 import *  # noqa: F403
from .topdown import *  # noqa: F403

#: The theory modules, in the book's order. (``li2core.theory.energy`` is the function :func:`energy`; the module
#: is ``MODULES[2]`` or ``sys.modules["li2core.theory.energy"]``.)
MODULES = (_pairs, _stage1, _energy, _ascent, _maxima, _reconstruction, _scaling, _memorization, _repulsion, _topdown,
           _muon, _deep, _coverage, _med)
__all__ = [name for m in MODULES for name in m.__all__]
