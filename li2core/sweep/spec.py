"""Sweep specs: YAML specs, grids of :class:`~li2core.train.TrainConfig`, seed ranges, config hashes.

A :class:`Sweep` is a name, a list of configs (duplicates kept once, identified by :func:`config_hash`) and a
metric set; :func:`expand_grid` builds the configs of a ``base`` / ``grid`` / ``zip`` / ``configs`` spec (the
format is described in :mod:`li2core.sweep`). Nothing here touches the store or trains.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..train import METRIC_SETS, METRICS, TrainConfig, config_fields

__all__ = ["SPEC_KEYS", "Sweep", "canonical_config", "config_hash", "expand_grid", "parse_seeds"]

#: The keys a spec mapping may have.
SPEC_KEYS = ("name", "description", "base", "grid", "zip", "configs", "metrics")

_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _field_types(name: str) -> set[str]:
    t = _FIELDS[name].type
    return {s.strip() for s in (t if isinstance(t, str) else getattr(t, "__name__", str(t))).split("|")}


_FLOAT_FIELDS = frozenset(n for n in _FIELDS if "float" in _field_types(n))
_INT_FIELDS = frozenset(n for n in _FIELDS if "int" in _field_types(n) and n not in _FLOAT_FIELDS)
_BOOL_FIELDS = frozenset(n for n in _FIELDS if _field_types(n) == {"bool"})


def _sql_type(name: str) -> str:
    return "REAL" if name in _FLOAT_FIELDS else "INTEGER" if name in _INT_FIELDS | _BOOL_FIELDS else "TEXT"


def parse_seeds(text: str) -> list[int]:
    """``"0-14"`` → 0..14, ``"0,3,7"`` → [0, 3, 7], ``"5"`` → [5]; combinations like ``"0-2,9"``.

    Raises ``argparse.ArgumentTypeError`` (a ``--seeds`` type for argparse; :func:`expand_grid` turns it into
    a ``ValueError``).
    """
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if hi < lo:
                    raise ValueError
                seeds.extend(range(lo, hi + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid seeds {text!r}: use e.g. '0-14', '0,3,7' or '5'") from None
    if any(s < 0 for s in seeds):
        raise argparse.ArgumentTypeError(f"invalid seeds {text!r}: seeds must be >= 0")
    return seeds


# ------------------------------------------------------------------------------------------ hashing
# (here, not in the store: a Sweep identifies and de-duplicates its configs by their hash)
def canonical_config(config: TrainConfig) -> dict[str, Any]:
    """:func:`li2core.train.config_fields` (``dataclasses.asdict`` without the late fields at their defaults, so a
    config's hash does not change when fields are added) with plain Python values and float fields as floats
    (``lr: 1`` == ``1.0``)."""
    out: dict[str, Any] = {}
    for k, v in config_fields(config).items():
        if isinstance(v, np.generic):
            v = v.item()
        if k in _FLOAT_FIELDS and v is not None and not isinstance(v, bool):
            v = float(v)
        out[k] = v
    return out


def _canonical_json(d: Mapping[str, Any]) -> str:
    return json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_hash(config: TrainConfig) -> str:
    """SHA-256 (hex) of the canonical JSON of the config (:func:`canonical_config`)."""
    return hashlib.sha256(_canonical_json(canonical_config(config)).encode()).hexdigest()


# ------------------------------------------------------------------------------------------ specs
def _metric_names(metrics: str | Sequence[str]) -> tuple[str, ...]:
    """The metric names ``train(..., metrics=metrics)`` records (accuracy and loss always), validated."""
    if isinstance(metrics, str):
        if metrics not in METRIC_SETS:
            raise ValueError(
                f"metrics: unknown metric set {metrics!r}; accepted: {', '.join(METRIC_SETS)} or a list of "
                f"{', '.join(METRICS)}"
            )
        wanted = set(METRIC_SETS[metrics])
    else:
        if not isinstance(metrics, (list, tuple)) or not metrics:
            raise ValueError(f"metrics: expected a metric set name or a non-empty list; got {metrics!r}")
        bad = [m for m in metrics if m not in METRICS]
        if bad:
            raise ValueError(f"metrics: unknown metrics {bad}; accepted: {', '.join(METRICS)}")
        wanted = set(metrics)
    wanted |= set(METRIC_SETS["basic"])
    return tuple(m for m in METRICS if m in wanted)


def _coerce(name: str, value: Any) -> Any:
    """YAML 1.1 reads ``5e-4`` (no dot) as a string: accept numeric strings for float fields."""
    if name in _FLOAT_FIELDS and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_fields(where: str, keys: Iterable[Any]) -> None:
    for k in keys:
        if k not in _FIELDS:
            raise ValueError(f"{where}: unknown TrainConfig field {k!r}; accepted: {', '.join(_FIELDS)}")


def _as_values(where: str, name: str, v: Any) -> list[Any]:
    if name == "seed" and isinstance(v, str):  # "0-4", "0,3,7"
        try:
            return list(parse_seeds(v))
        except argparse.ArgumentTypeError:
            raise ValueError(f"{where}.seed: invalid seeds {v!r}; use e.g. '0-14', '0,3,7' or a list") from None
    vals = list(v) if isinstance(v, (list, tuple)) else [v]
    if not vals:
        raise ValueError(f"{where}.{name}: empty list of values")
    return vals


def expand_grid(
    base: Mapping[str, Any] | None = None,
    grid: Mapping[str, Any] | None = None,
    *,
    zipped: Mapping[str, Sequence[Any]] | None = None,
    extra: Sequence[Mapping[str, Any]] | None = None,
) -> list[TrainConfig]:
    """The configs of a grid: ``grid`` (cartesian product, first key slowest) x ``zipped`` (rows of
    equal-length lists, varied together), each merged onto ``base``; then ``extra`` configs merged onto ``base``.

    A value in ``grid`` that is not a list is a single value; ``seed`` also accepts ``"0-4"`` / ``"0,3,7"``.
    Raises ``ValueError`` naming the bad field (unknown field, or a value ``TrainConfig`` rejects).
    """
    base = {} if base is None else base
    grid = {} if grid is None else grid
    zipped = {} if zipped is None else zipped
    extra = [] if extra is None else extra
    for where, m in (("base", base), ("grid", grid), ("zip", zipped)):
        if not isinstance(m, Mapping):
            raise ValueError(f"{where}: expected a mapping of TrainConfig fields; got {type(m).__name__}")  # noqa: TRY004
        _check_fields(where, m)
    if not isinstance(extra, (list, tuple)):
        raise ValueError(f"configs: expected a list of mappings; got {type(extra).__name__}")  # noqa: TRY004
    both = sorted(set(grid) & set(zipped))
    if both:
        raise ValueError(f"zip: field {both[0]!r} is also in grid; give it in one of them")
    gkeys = list(grid)
    gvals = [_as_values("grid", k, grid[k]) for k in gkeys]
    zkeys = list(zipped)
    zvals = [_as_values("zip", k, zipped[k]) for k in zkeys]
    lengths = {k: len(v) for k, v in zip(zkeys, zvals)}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"zip: lists must have equal lengths; got {lengths}")
    nz = len(zvals[0]) if zvals else 1
    rows: list[dict[str, Any]] = []
    for combo in itertools.product(*gvals):
        for j in range(nz):
            d = dict(zip(gkeys, combo))
            d.update({k: v[j] for k, v in zip(zkeys, zvals)})
            rows.append(d)
    for i, e in enumerate(extra):
        if not isinstance(e, Mapping):
            raise ValueError(f"configs[{i}]: expected a mapping of TrainConfig fields; got {type(e).__name__}")  # noqa: TRY004
        _check_fields(f"configs[{i}]", e)
        rows.append(dict(e))
    out = []
    for i, over in enumerate(rows):
        d = {**base, **over}
        if d.get("critical_delta") is not None and "train_frac" not in d:
            d["train_frac"] = None
        d = {k: _coerce(k, v) for k, v in d.items()}
        try:
            out.append(TrainConfig(**d))
        except (ValueError, TypeError) as e:
            shown = ", ".join(f"{k}={v!r}" for k, v in over.items())
            raise ValueError(f"{e} (sweep config {i + 1} of {len(rows)}: {shown or 'base only'})") from None
    return out


@dataclass
class Sweep:
    """A named list of configs and the metrics to record. Duplicate configs are kept once.

    ``spec`` is the spec it was built from (stored with the sweep; informational).
    """

    name: str
    configs: list[TrainConfig]
    metrics: str | Sequence[str] = "basic"
    spec: dict[str, Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name: the sweep needs a non-empty name; got {self.name!r}")
        cfgs = [self.configs] if isinstance(self.configs, TrainConfig) else list(self.configs)
        seen: dict[str, TrainConfig] = {}
        for i, c in enumerate(cfgs):
            if not isinstance(c, TrainConfig):
                raise TypeError(f"configs[{i}]: expected a TrainConfig, got {type(c).__name__}")
            c = TrainConfig(**canonical_config(c))
            seen.setdefault(config_hash(c), c)
        if not seen:
            raise ValueError(f"configs: sweep {self.name!r} has no configs")
        self.configs = list(seen.values())
        self._hashes = list(seen)
        if not isinstance(self.metrics, str):
            self.metrics = tuple(self.metrics)
        self.metric_names = _metric_names(self.metrics)

    def __len__(self) -> int:
        return len(self.configs)

    @property
    def hashes(self) -> list[str]:
        """:func:`config_hash` of each config, in order."""
        return list(self._hashes)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Sweep:
        """A sweep from a spec mapping (the YAML's contents; see :mod:`li2core.sweep`)."""
        if not isinstance(spec, Mapping):
            raise ValueError(  # noqa: TRY004  (a bad spec is a ValueError: one line from the CLI)
                f"spec: expected a mapping with keys {', '.join(SPEC_KEYS)}; got {type(spec).__name__}")
        for k in spec:
            if k not in SPEC_KEYS:
                raise ValueError(f"spec: unknown key {k!r}; accepted: {', '.join(SPEC_KEYS)}")
        if "name" not in spec:
            raise ValueError("name: the spec needs a 'name' (the sweep's key in the store)")
        if not any(k in spec for k in ("grid", "zip", "configs")):
            raise ValueError("spec: give at least one of 'grid', 'zip' or 'configs'")
        configs = expand_grid(spec.get("base"), spec.get("grid"), zipped=spec.get("zip"), extra=spec.get("configs"))
        metrics = spec.get("metrics", "basic")
        return cls(name=spec["name"], configs=configs, metrics=metrics, spec=json.loads(json.dumps(spec, default=str)))

    @classmethod
    def from_yaml(cls, path: str | Path) -> Sweep:
        """A sweep from a YAML spec file. ``ValueError`` (one line) for a bad spec; ``OSError`` if unreadable."""
        text = Path(path).read_text()
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ValueError(f"spec: {path} is not valid YAML: {' '.join(str(e).split())}") from None
        if spec is None:
            raise ValueError(f"spec: {path} is empty")
        return cls.from_dict(spec)