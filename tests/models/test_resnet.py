"""ResNet-18 in plain torch and the resnet family (li2core.models.resnet) through the one trainer."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from li2core.config import LATE_FIELDS, TrainConfig, config_fields, resnet_config
from li2core.models import FAMILIES, BatchedModel, family_for
from li2core.models.resnet import (IMAGENET_MEAN, IMAGENET_STD, N_CLASSES, ResNet, ResNet18, normalise,
                                   resnet18_param_count)
from li2core.tasks import shape_images, split_pairs, shape_task
from li2core.train import train

TINY = dict(shapes=(0, 3, 4), image_size=16, width=4, stem="small", minibatch=7, epochs=2, eval_every=1)


def _count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def test_torchvision_parameter_count():
    # torchvision.models.resnet18(): 11,689,512 parameters (1000 classes)
    net = ResNet18(1000, 64, "imagenet")
    assert _count(net) == resnet18_param_count(1000) == 11_689_512
    assert _count(ResNet18(N_CLASSES)) == resnet18_param_count(N_CLASSES) == 11_689_512 - 948 * 512 - 948
    for w, stem in ((8, "imagenet"), (16, "small"), (5, "small")):
        assert _count(ResNet18(N_CLASSES, w, stem)) == resnet18_param_count(N_CLASSES, w, stem)


def test_architecture_and_output_shapes():
    net = ResNet18(N_CLASSES, 8, "imagenet").eval()
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 1 + 16 + 3  # stem, 8 blocks x 2, 3 shortcuts: 17 + fc = the "18" layers with weights
    assert convs[0].kernel_size == (7, 7) and convs[0].stride == (2, 2)
    with torch.no_grad():
        assert net(torch.zeros(3, 3, 64, 64)).shape == (3, N_CLASSES)
        assert net(torch.zeros(2, 3, 224, 224)).shape == (2, N_CLASSES)
        # the stride-32 path: a 64 px image ends at 2x2 before the pool
        assert net.layers(net.stem(torch.zeros(1, 3, 64, 64))).shape == (1, 64, 2, 2)
        small = ResNet18(10, 4, "small").eval()
        assert small.layers(small.stem(torch.zeros(1, 3, 16, 16))).shape == (1, 32, 2, 2)
        assert not any(isinstance(m, torch.nn.MaxPool2d) for m in small.modules())


def test_gradient_check_on_a_tiny_net():
    torch.manual_seed(0)
    net = ResNet18(5, 2, "small").double().eval()  # eval: BatchNorm is an affine map of its running stats
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: net(t), (x,), eps=1e-6, atol=1e-5)
    net.train()  # batch statistics: still a smooth function of the input; and the gradient of a weight
    assert torch.autograd.gradcheck(lambda t: net(t), (x,), eps=1e-6, atol=1e-5)
    W = net.stem[0].weight  # the first layer's 54 weights: the gradient through the whole net

    def of_weight(w):
        return torch.func.functional_call(net, {"stem.0.weight": w}, (x.detach(),))
    assert torch.autograd.gradcheck(of_weight, (W.detach().clone().requires_grad_(),), eps=1e-6, atol=1e-5)


def test_normalise_is_imagenet_totensor_normalize():
    g = torch.tensor([[[0, 255], [51, 128]]], dtype=torch.uint8)
    x = normalise(g)
    assert x.shape == (1, 3, 2, 2)
    for c in range(3):
        want = (g[0].double() / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]
        assert torch.allclose(x[0, c].double(), want, atol=1e-6)


def test_family_is_registered_and_configs_keep_their_hash():
    assert FAMILIES["resnet"] is ResNet and issubclass(ResNet, object) and isinstance(ResNet.name, str)
    for f in ("image_size", "shapes", "radius_quirk", "stem", "minibatch"):
        assert f in LATE_FIELDS and f not in config_fields(TrainConfig())
    cfg = resnet_config()
    assert family_for(cfg) is ResNet and cfg.group == "Z121" and cfg.n_train == 3660
    assert (cfg.lr, cfg.weight_decay, cfg.minibatch, cfg.optimizer, cfg.beta2) == (1e-3, 1e-4, 200, "adam", 0.999)
    assert resnet_config(shapes=(0, 3)).group == "Z4"


@pytest.mark.parametrize("change, field", [(dict(stem="big"), "stem"), (dict(minibatch=0), "minibatch"),
                                           (dict(shapes="0,1"), "shapes"), (dict(group="Z5"), "group"),
                                           (dict(image_size=15), "image_size"), (dict(optimizer="adamw"), "optimizer"),
                                           (dict(split="square", dugout=1), "split"),
                                           (dict(radius_quirk=1), "radius_quirk")])
def test_bad_resnet_fields_are_one_line_value_errors(change, field):
    base = dataclasses.asdict(resnet_config(**TINY))
    base.update(change)
    with pytest.raises(ValueError, match=f"^{field}:") as ei:
        TrainConfig(**base)
    assert "\n" not in str(ei.value)


def test_other_families_must_leave_the_resnet_fields_at_their_defaults():
    with pytest.raises(ValueError, match="^image_size:"):
        TrainConfig(group="Z5", width=4, image_size=32)


def test_trains_through_the_trainer_and_batched_runs_equal_runs_alone():
    torch.set_num_threads(1)
    cfgs = [resnet_config(**TINY, seed=s) for s in (0, 1)]
    both = train(cfgs, device="cpu", metrics="basic")
    assert both.batches == [[0, 1]]
    f = both.frame()
    assert list(f["epoch"].unique()) == [0, 1, 2] and set(f["shapes"]) == {"0,3,4"}
    for r, c in enumerate(cfgs):
        alone = train(c, device="cpu", metrics="basic")
        for m in ("train_acc", "test_acc", "train_loss", "test_loss"):
            np.testing.assert_array_equal(alone.metrics[0][m], both.metrics[r][m])
        for a, b in zip(alone.final_weights(0), both.final_weights(r)):
            assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(both.final_weights(0), both.final_weights(1)))


def test_accuracy_and_loss_are_eval_mode_outputs_on_the_split():
    torch.set_num_threads(1)
    cfg = resnet_config(**{**TINY, "epochs": 1})
    res = train(cfg, device="cpu", metrics="basic")
    # rebuild the net from the final state dict and score it by hand
    net = ResNet18(N_CLASSES, 4, "small")
    net.load_state_dict(dict(zip(net.state_dict().keys(), res.final_weights(0))))
    net.eval()
    imgs = torch.from_numpy(shape_images(16, (0, 3, 4)).images)
    task = shape_task((0, 3, 4))
    sp = split_pairs(task, "shuffle", 0.25, 0, None)
    with torch.no_grad():
        O = net(normalise(imgs))
    hit = (O.argmax(1) == task.y).double()
    loss = torch.nn.functional.cross_entropy(O, task.y, reduction="none").double()
    assert res.n_train[0] == sp.n_train == int(0.25 * 81)
    assert np.isclose(res.metrics[0]["train_acc"][-1], hit[sp.train].mean().item())
    assert np.isclose(res.metrics[0]["test_acc"][-1], hit[sp.test].mean().item())
    assert np.isclose(res.metrics[0]["test_loss"][-1], loss[sp.test].mean().item(), rtol=1e-5)


def test_one_step_is_one_epoch_of_seeded_minibatches():
    """A step of the family equals a hand-written epoch: the run's own generator's permutation, minibatches of 7
    (the last one smaller), torch Adam with coupled L2."""
    torch.set_num_threads(1)
    from li2core.train import _Batch

    cfg = resnet_config(**TINY)
    batch = _Batch([cfg], shape_task((0, 3, 4)), torch.device("cpu"), ("train_acc",))
    model = batch.model
    assert isinstance(model, BatchedModel)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        ref = ResNet18(N_CLASSES, 4, "small")
    opt = torch.optim.Adam(ref.parameters(), lr=1e-3, weight_decay=1e-4)
    imgs = torch.from_numpy(shape_images(16, (0, 3, 4)).images)
    idx, y = batch.data.tr_idx[0, :20], batch.data.tr_y[0, :20]
    g = torch.Generator().manual_seed(0 + 1_000_003)
    model.step()
    perm = torch.randperm(20, generator=g)
    ref.train()
    sizes = []
    for s in range(0, 20, 7):
        j = perm[s:s + 7]
        sizes.append(len(j))
        loss = torch.nn.functional.cross_entropy(ref(normalise(imgs[idx[j]])), y[j])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert sizes == [7, 7, 6]
    for a, b in zip(ref.state_dict().values(), model.weights(0)):
        assert torch.equal(a, b)
