"""ResNet-18 in plain torch and the ``resnet`` family: the MED authors' image experiment (paper-med §2.4, MED Fig. 7).

:class:`ResNet18` is torchvision's ``resnet18`` architecture written out (torchvision is not installed here, and no
pretrained weights can be downloaded): a stem, four stages of two :class:`BasicBlock` each (``[2, 2, 2, 2]``,
channels ``w, 2w, 4w, 8w``, stride 2 from the second stage on, a 1x1 convolution + BatchNorm on the shortcut where
the shape changes), adaptive average pooling and a linear head. Two options, both departures from torchvision:

* ``width``: the base channel count ``w`` (torchvision's 64); ``w = 8`` is a net 64 times cheaper for the CPU.
* ``stem``: ``"imagenet"`` (torchvision's 7x7 stride-2 convolution, BatchNorm, ReLU, 3x3 stride-2 max-pool) or
  ``"small"`` (a 3x3 stride-1 convolution, BatchNorm, ReLU, no pool: the usual CIFAR stem, for tiny images).

The initialisation is torchvision's: Kaiming-normal (fan-out, ReLU) convolutions, BatchNorm weight 1 and bias 0,
the head as ``nn.Linear``'s default; every draw from ``torch.manual_seed(seed)`` inside ``torch.random.fork_rng``
(the global stream is left as it was). The authors start from ImageNet-pretrained weights; this book trains from
scratch (nothing can be downloaded).

The family :class:`ResNet` trains ``R`` runs as ``R`` separate modules (BatchNorm's batch statistics make a
vmap over runs awkward), each with the authors' optimizer ``torch.optim.Adam(lr, weight_decay)`` (L2 coupled into
Adam), minibatches of ``minibatch`` training images reshuffled every epoch from the run's own seeded
generator (the last, smaller minibatch kept, as a ``DataLoader`` without ``drop_last``), so one
:meth:`ResNet.step` is one epoch. Accuracy and loss are taken in eval mode (BatchNorm running statistics) on
every image. Inputs: the grey images of :func:`li2core.tasks.shape_images` as three equal channels, scaled to
[0, 1] and normalised by the ImageNet mean and std (the authors' ``ToTensor`` + ``Normalize``; their
``Resize(256)`` + ``CenterCrop(224)`` is not applied).
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch
from torch import nn

from ..tasks import SHAPE_SIDES, Task, shape_images, shape_task

if TYPE_CHECKING:
    from ..models import BatchData
    from ..train import TrainConfig

__all__ = ["BasicBlock", "ResNet18", "ResNet", "N_CLASSES", "STEMS", "IMAGENET_MEAN", "IMAGENET_STD",
           "check_resnet_fields", "resnet18_param_count", "normalise"]

#: The authors' head: ``Linear(512, 52)`` (labels 0..48 are used).
N_CLASSES = 52
STEMS = ("imagenet", "small")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: The resnet fields of :class:`~li2core.train.TrainConfig` and their defaults (the paper's setting).
RESNET_DEFAULTS = {"image_size": 224, "shapes": None, "radius_quirk": True, "stem": "imagenet",
                   "minibatch": None}


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)


class BasicBlock(nn.Module):
    """torchvision's ``BasicBlock``: ``relu(bn(conv3x3(relu(bn(conv3x3(x))))) + shortcut(x))``."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv(cin, cout, 3, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = _conv(cout, cout, 3), nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(_conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """ResNet-18 (see the module docstring): ``(B, 3, H, W)`` images -> ``(B, n_classes)`` logits."""

    def __init__(self, n_classes: int = N_CLASSES, width: int = 64, stem: str = "imagenet") -> None:
        super().__init__()
        if stem not in STEMS:
            raise ValueError(f"stem: unknown stem {stem!r}; accepted: {', '.join(STEMS)}")
        w = int(width)
        if stem == "imagenet":
            self.stem = nn.Sequential(nn.Conv2d(3, w, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(w),
                                      nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
        else:
            self.stem = nn.Sequential(_conv(3, w, 3), nn.BatchNorm2d(w), nn.ReLU())
        chans = [w, 2 * w, 4 * w, 8 * w]
        layers, cin = [], w
        for i, c in enumerate(chans):
            s = 1 if i == 0 else 2
            layers.append(nn.Sequential(BasicBlock(cin, c, s), BasicBlock(c, c)))
            cin = c
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(8 * w, n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1))


def resnet18_param_count(n_classes: int = N_CLASSES, width: int = 64, stem: str = "imagenet") -> int:
    """The number of parameters of :class:`ResNet18` in closed form (convolutions ``k^2 c_in c_out``, BatchNorm
    ``2 c``, the head ``(8w + 1) n_classes``): 11,689,512 for torchvision's ``resnet18`` (1000 classes)."""
    w = int(width)
    k = 7 if stem == "imagenet" else 3
    total = k * k * 3 * w + 2 * w
    cin = w
    for i, c in enumerate([w, 2 * w, 4 * w, 8 * w]):
        total += 9 * cin * c + 2 * c + 9 * c * c + 2 * c  # first block
        if i > 0:
            total += cin * c + 2 * c  # its 1x1 shortcut
        total += 2 * (9 * c * c + 2 * c)  # second block
        cin = c
    return total + (8 * w + 1) * n_classes


def normalise(grey: torch.Tensor) -> torch.Tensor:
    """uint8 grey images ``(B, H, W)`` -> float ``(B, 3, H, W)``: three equal channels, ``/ 255``, then the ImageNet
    mean and std per channel (the authors' ``ToTensor`` + ``Normalize``)."""
    x = grey.to(torch.float32).div_(255.0)[:, None]
    mean = torch.tensor(IMAGENET_MEAN, device=grey.device)[None, :, None, None]
    std = torch.tensor(IMAGENET_STD, device=grey.device)[None, :, None, None]
    return (x - mean) / std


def _is_int(x: object) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_resnet_fields(cfg: TrainConfig) -> None:
    """Validate the resnet fields (``TrainConfig.__post_init__``): one-line ``ValueError``s naming the field; for the
    other families every such field must be at its default (:data:`RESNET_DEFAULTS`)."""
    if cfg.model_family != ResNet.name:
        for f, v in RESNET_DEFAULTS.items():
            if getattr(cfg, f) != v:
                raise ValueError(f"{f}: only the resnet family reads it (family {cfg.model_family!r}); leave it at {v}")
        return
    if not _is_int(cfg.image_size) or cfg.image_size < 8 or cfg.image_size % 2:
        raise ValueError(f"image_size: an even integer >= 8 (px); got {cfg.image_size!r}")
    if cfg.shapes is not None and not isinstance(cfg.shapes, str):
        raise ValueError(f"shapes: comma-separated side counts such as '0,3,4' or None (the authors' 11); "
                         f"got {cfg.shapes!r}")
    try:
        shapes = _shapes(cfg)
    except ValueError:
        raise ValueError(f"shapes: need distinct side counts, each 0 (blank) or 3..12; got {cfg.shapes!r}") from None
    if cfg.group != f"Z{len(shapes) ** 2}":
        raise ValueError(f"group: the resnet family indexes its {len(shapes)}^4 images as pairs of "
                         f"Z{len(shapes) ** 2}; "
                         f"got {cfg.group!r} (use li2core.train.resnet_config)")
    if not isinstance(cfg.radius_quirk, (bool, np.bool_)):
        raise ValueError(f"radius_quirk: must be True or False; got {cfg.radius_quirk!r}")
    if cfg.stem not in STEMS:
        raise ValueError(f"stem: unknown stem {cfg.stem!r}; accepted: {', '.join(STEMS)}")
    if cfg.minibatch is not None and (not _is_int(cfg.minibatch) or cfg.minibatch < 1):
        raise ValueError(f"minibatch: an integer >= 1 or None (full batch); got {cfg.minibatch!r}")
    if cfg.op is not None or cfg.split not in ("random", "shuffle"):
        raise ValueError(f"split: the resnet family takes a random split ('random' or 'shuffle'); got {cfg.split!r}")
    if cfg.loss != "nll" or cfg.optimizer != "adam" or cfg.warmup_steps:
        raise ValueError(f"optimizer: the resnet family trains cross-entropy (loss 'nll') with torch's Adam and no "
                         f"warm-up; got loss {cfg.loss!r}, optimizer {cfg.optimizer!r}, warmup {cfg.warmup_steps}")
    if cfg.has_variant or cfg.top_layer_init_multiplier != 1.0 or cfg.dtype != "float32":
        raise ValueError("family: 'resnet' has no Li2 variants, top-layer multiplier or float64; leave them at "
                         "their defaults")


@functools.lru_cache(maxsize=4)
def _images(size: int, shapes: tuple[int, ...], quirk: bool) -> torch.Tensor:
    return torch.from_numpy(shape_images(size, shapes, quirk).images)


def _shapes(cfg: TrainConfig) -> tuple[int, ...]:
    """The config's dictionary as a tuple (``shapes`` is a string ``"0,3,4"`` so frames and hashes keep a scalar)."""
    if cfg.shapes is None:
        return SHAPE_SIDES
    vals = tuple(int(v) for v in str(cfg.shapes).split(","))
    if not vals or len(set(vals)) != len(vals) or any(v != 0 and not 3 <= v <= 12 for v in vals):
        raise ValueError(f"shapes: need distinct side counts, each 0 (blank) or 3..12; got {cfg.shapes!r}")
    return vals


class ResNet:
    """``R`` runs of ResNet-18 on the shape images (family ``"resnet"``): ``R`` modules looped (module docstring)."""

    name: ClassVar[str] = "resnet"
    extra_metrics: ClassVar[tuple[str, ...]] = ()
    #: Images per forward pass in :meth:`evaluate`.
    eval_batch: ClassVar[int] = 500

    @staticmethod
    def make_task(cfg: TrainConfig) -> Task:
        """The trainer's task for this family: the shape images' labels (:func:`li2core.tasks.shape_task`)."""
        return shape_task(_shapes(cfg))

    @staticmethod
    def per_run_bytes(cfg: TrainConfig, itemsize: int) -> tuple[int, int]:
        """Rough peak bytes per run: weights, gradients and Adam moments, and about 30 activation maps of ``w``
        channels at the stem's resolution per image of a minibatch (training) or of an evaluation batch."""
        side = cfg.image_size // 4 if cfg.stem == "imagenet" else cfg.image_size
        act = 30 * cfg.width * side * side * 4
        params = 4 * 4 * resnet18_param_count(N_CLASSES, cfg.width, cfg.stem)
        B = cfg.minibatch or cfg.n_train
        return params + 2 * B * act, params + ResNet.eval_batch * act // 3

    def __init__(self, cfgs: Sequence[TrainConfig], data: BatchData, metrics: frozenset[str]) -> None:
        self.cfgs, self.data, self.dev = list(cfgs), data, data.device
        c0 = cfgs[0]
        self.images = _images(int(c0.image_size), _shapes(c0), bool(c0.radius_quirk)).to(self.dev)
        self.nets: list[ResNet18] = []
        self.opts: list[torch.optim.Optimizer] = []
        self.gens: list[torch.Generator] = []
        for c in self.cfgs:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(c.seed))
                net = ResNet18(N_CLASSES, int(c.width), c.stem)
            net = net.to(self.dev)
            self.nets.append(net)
            self.opts.append(torch.optim.Adam(net.parameters(), lr=float(c.lr), betas=(float(c.beta1), float(c.beta2)),
                                              weight_decay=float(c.weight_decay)))
            self.gens.append(torch.Generator().manual_seed(int(c.seed) + 1_000_003))
        self.train_idx = [data.tr_idx[r, : data.n_train[r]].to(self.dev) for r in range(data.R)]
        self.train_y = [data.tr_y[r, : data.n_train[r]].to(self.dev) for r in range(data.R)]

    def step(self) -> None:
        """One epoch of every run: its training images in a fresh seeded order, in minibatches of ``minibatch``."""
        for r, (net, opt, c) in enumerate(zip(self.nets, self.opts, self.cfgs)):
            n = self.data.n_train[r]
            B = c.minibatch or n
            perm = torch.randperm(n, generator=self.gens[r]).to(self.dev)
            net.train()
            for s in range(0, n, B):
                j = perm[s : s + B]
                x = normalise(self.images[self.train_idx[r][j]])
                loss = nn.functional.cross_entropy(net(x), self.train_y[r][j])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

    def prev_state(self) -> None:
        return None

    @torch.no_grad()
    def evaluate(self, s: slice, prev: tuple[torch.Tensor, ...] | None,
                 score: Callable[[torch.Tensor], None]) -> dict[str, torch.Tensor]:
        """Eval-mode logits of runs ``s`` on every image, ``(r, N, 52)``, handed to ``score``."""
        outs = []
        N = self.images.shape[0]
        for net in self.nets[s]:
            net.eval()
            outs.append(torch.cat([net(normalise(self.images[i : i + self.eval_batch]))
                                   for i in range(0, N, self.eval_batch)]))
        score(torch.stack(outs))
        return {}

    def weights(self, r: int) -> tuple[torch.Tensor, ...]:
        """Run ``r``'s ``state_dict`` tensors (parameters and BatchNorm buffers, in its order) as CPU copies."""
        return tuple(t.detach().cpu().clone() for t in self.nets[r].state_dict().values())
