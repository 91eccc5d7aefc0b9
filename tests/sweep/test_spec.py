"""Sweep specs (li2core.sweep.spec): grid expansion, YAML specs and their validation, config hashes, seed ranges;
and the layering of the package (spec <- store <- run, never the CLI)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import li2core.sweep as sweep_pkg
from li2core.sweep import Sweep, canonical_config, config_hash, expand_grid
from li2core.sweep.spec import parse_seeds
from li2core.tasks import critical_train_frac
from li2core.train import TrainConfig

TINY = dict(width=8, epochs=20, eval_every=5, lr=1e-2, weight_decay=1e-3)


# ------------------------------------------------------------------------------------------ grids
def test_expand_grid_product_zip_extra():
    cfgs = expand_grid({"width": 8, "epochs": 5}, {"group": ["Z5", "Z7"], "seed": [0, 1, 2]})
    assert [(c.group, c.seed) for c in cfgs] == [(g, s) for g in ("Z5", "Z7") for s in (0, 1, 2)]
    assert all(c.width == 8 and c.epochs == 5 for c in cfgs)

    cfgs = expand_grid({"width": 8}, {"seed": "0-1"}, zipped={"lr": [1e-3, 1e-2], "weight_decay": [0.0, 1e-4]},
                       extra=[{"group": "Z7", "lr": 0.5}])
    assert [(c.seed, c.lr, c.weight_decay) for c in cfgs[:4]] == [
        (0, 1e-3, 0.0), (0, 1e-2, 1e-4), (1, 1e-3, 0.0), (1, 1e-2, 1e-4)]
    assert (cfgs[4].group, cfgs[4].lr, cfgs[4].seed, cfgs[4].width) == ("Z7", 0.5, 0, 8)

    # critical_delta without an explicit train_frac switches the split rule; scalars are single values
    cfgs = expand_grid({"group": "Z7"}, {"critical_delta": [0.0, 0.5], "width": 8})
    assert [c.train_frac for c in cfgs] == [None, None]
    assert cfgs[1].p == pytest.approx(critical_train_frac(7, 0.5))
    # YAML 1.1 reads 5e-4 as a string: numeric strings are accepted for float fields
    assert expand_grid({"lr": "5e-4"}, {"seed": [0]})[0].lr == 5e-4


@pytest.mark.parametrize(
    "base, grid, kw, names",
    [
        ({}, {"widht": [8]}, {}, "widht"),
        ({"epoch": 3}, {"seed": [0]}, {}, "epoch"),
        ({}, {"width": [8, 0]}, {}, "width:"),
        ({}, {"group": ["Z5", "Q5"]}, {}, "group:"),
        ({}, {"train_frac": [1.5]}, {}, "train_frac:"),
        ({}, {"lr": [-1.0]}, {}, "lr:"),
        ({}, {"seed": []}, {}, "grid.seed"),
        ({}, {"seed": "a-b"}, {}, "seed"),
        ({}, {}, {"zipped": {"lr": [1e-3, 1e-2], "seed": [0]}}, "zip"),
        ({}, {"seed": [0]}, {"zipped": {"seed": [1]}}, "seed"),
        ({}, {}, {"extra": [{"activation": "tanh"}]}, "activation:"),
        ({"train_frac": 0.5}, {"critical_delta": [0.0]}, {}, "train_frac:"),
    ],
)
def test_expand_grid_errors_name_the_field(base, grid, kw, names):
    with pytest.raises(ValueError, match=names):
        expand_grid(base, grid, **kw)


def test_sweep_spec_yaml_and_validation(tmp_path):
    spec = {"name": "s", "base": {**TINY, "group": "Z5"}, "grid": {"seed": [0, 1, 1]}, "metrics": "basic"}
    p = tmp_path / "s.yml"
    p.write_text(yaml.safe_dump(spec))
    sw = Sweep.from_yaml(p)
    assert sw.name == "s" and len(sw) == 2  # duplicate config kept once
    assert sw.hashes == [config_hash(c) for c in sw.configs] and len(set(sw.hashes)) == 2
    # the hash is canonical: lr 1 and lr 1.0 are the same config
    assert config_hash(TrainConfig(lr=1)) == config_hash(TrainConfig(lr=1.0))
    assert config_hash(TrainConfig(seed=1)) != config_hash(TrainConfig(seed=2))
    for bad, msg in [
        ({k: v for k, v in spec.items() if k != "name"}, "name:"),
        ({**spec, "grd": {}}, "grd"),
        ({**spec, "metrics": "some"}, "metrics:"),
        ({**spec, "metrics": ["test_acc", "nope"]}, "metrics:"),
        ({"name": "x", "base": TINY}, "grid"),
        ([1, 2], "spec:"),
    ]:
        with pytest.raises(ValueError, match=msg):
            Sweep.from_dict(bad)
    p.write_text("name: [unclosed\n")
    with pytest.raises(ValueError, match="YAML"):
        Sweep.from_yaml(p)


def test_seed_ranges_live_in_the_spec_module():
    """parse_seeds is the library's (the CLI re-exports it); its cases are in tests/test_cli.py."""
    import li2core.cli

    assert li2core.cli.parse_seeds is parse_seeds
    assert parse_seeds("0-2,9") == [0, 1, 2, 9]
    assert [c.seed for c in expand_grid({"group": "Z5"}, {"seed": "0-2,9"})] == [0, 1, 2, 9]


# ------------------------------------------------------------------------------------------ layering
def _imports(path: Path) -> set[str]:
    """The modules a source file imports, relative imports resolved against ``li2core.sweep``."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = {0: "", 1: "li2core.sweep", 2: "li2core"}[node.level]
            mod = ".".join(x for x in (base, node.module or "") if x)
            out.add(mod)
            if node.module is None:  # from . import store
                out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def test_package_layers_spec_store_run_without_cycle_or_cli(subprocess_env):
    folder = Path(sweep_pkg.__file__).parent
    allowed = {  # each module imports only the ones before it
        "spec": set(),
        "store": {"spec"},
        "run": {"spec", "store"},
    }
    for name, ok in allowed.items():
        imported = _imports(folder / f"{name}.py")
        ours = {m.split(".")[2] for m in imported if m.startswith("li2core.sweep.")}
        assert ours <= ok, (name, ours)
        assert not any(m == "li2core.cli" or m.startswith("li2core.cli.") for m in imported), name
    # the whole library, imported fresh: the CLI is never loaded
    code = "import sys, li2core, li2core.sweep; assert 'li2core.cli' not in sys.modules, sorted(sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], env=subprocess_env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


# The hashes of two configs computed at commit af16881, before the variant fields (extra_layers, complex_weights,
# ridge_V, output_scale, family) existed: adding fields must keep every earlier config's hash (li2core.train.LATE_FIELDS).
_OLD_HASHES = {
    "default": "b4b1f36cd501d81b4a58bd2d368ac26b3eb501d91aaf70a22a36d04e896a62fb",
    "other": "5759cc39302b674811c8e90710c6f6616db2c4cb0751ff932dc8eeb63d4d3516",
}


def _old_configs():
    return {"default": TrainConfig(),
            "other": TrainConfig(group="Z11", train_frac=None, critical_delta=0.3, lr=1, width=16, activation="relu",
                                 loss="nll", optimizer="sgd", seed=3, dtype="float64", top_layer_init_multiplier=0.0,
                                 eval_every=7, epochs=9, weight_decay=0)}


def test_config_hashes_of_configs_without_variants_are_unchanged():
    from li2core.train import LATE_FIELDS

    for name, c in _old_configs().items():
        assert config_hash(c) == _OLD_HASHES[name], name
        assert set(canonical_config(c)).isdisjoint(LATE_FIELDS)
        # setting a late field to its default explicitly is the same config
        assert config_hash(c.replace(**LATE_FIELDS)) == _OLD_HASHES[name]
    c = _old_configs()["default"]
    variants = [c.replace(extra_layers=1), c.replace(complex_weights=True), c.replace(ridge_V=1e-3),
                c.replace(output_scale=2.0), c.replace(family="deep")]
    hashes = {config_hash(v) for v in variants}
    assert len(hashes) == len(variants) and _OLD_HASHES["default"] not in hashes
    assert canonical_config(variants[2])["ridge_V"] == 1e-3 and "extra_layers" not in canonical_config(variants[2])
    assert TrainConfig(**canonical_config(variants[0])) == variants[0]  # a record's config rebuilds the config
