"""Build driver for the li2-book: execute the notebooks with papermill, then build the HTML with Jupyter Book 1.

Usage (from any directory; the script finds the repository root itself, see :func:`find_root`)::

    python tools/build_book.py [--profile ci|paper|paper-cached|PATH.yml] [--only NAME ...] [--no-html]
                               [--offline-math] [--record] [--set NAME=VALUE ...] [--jobs N]

``make book [PROFILE=paper] [BOOK_ARGS=...]`` runs it with the venv's interpreter. Tests import it as the
module ``build_book`` (``tests/conftest.py`` puts ``tools/`` on ``sys.path``).

Steps

1. Discover the notebooks: every ``notebooks/<name>.py`` (jupytext ``py:percent`` source) is one chapter.
2. Load the profile ``book/profiles/<profile>.yml``: a mapping ``notebook name -> {parameter: value}``. A missing
   (or empty) section means "the notebook's own defaults". Sections must name existing notebooks and
   parameters must be declared in the notebook's ``parameters`` cell; anything else is an error (typos in a
   profile must not silently fall back to defaults).
3. For each notebook (``--jobs N`` at a time, default the CPU cores but at most 8, each kernel on cores / N
   threads; the Notes page, which reads the other chapters' ``checks.json``, after all others): convert it
   to ``.ipynb`` with jupytext, execute it with papermill in a kernel running *this* interpreter
   (``sys.executable``), with the working directory at the repository root and the parameters
   ``profile section + out_dir=<abs path of book/figures/<name>> + profile=<profile name>``. The executed
   notebook is written to ``book/_executed/<name>.ipynb``. The figure folder is emptied first, so whatever
   is in it afterwards was rebuilt by this run. If a cell fails (e.g. the checks cell), the build
   stops with a non-zero exit naming the notebook and the failing cell's error; the partial notebook is kept
   as ``book/_executed/<name>.failed.ipynb`` and no HTML is built.
4. Unless ``--no-html``: make MathJax local (``npm pack mathjax@3`` -> ``book/_static/mathjax/``, cached), run
   ``jupyter-book build`` at the repository root and print the absolute path of ``_build/html/index.html`` as
   the last line.

Results cache (``li2core.results``, ``results/<name>/``): ``--record`` (with ``--only``) runs the notebooks with
``cache="record"``: they train, then write their frames and provenance (the command line is passed to the kernel
in ``$LI2_RESULTS_COMMAND``); ``--set NAME=VALUE`` replaces a profile value (e.g. fewer seeds, which the
provenance then shows). A *cached* profile (``book/profiles/paper-cached.yml``: ``base``, ``fallback``, ``live``)
runs each chapter in one of three modes (:func:`chapter_modes`, :func:`chapter_run`): ``cached`` (a cache entry
exists: the base profile's parameters with ``cache="use"``, no training), ``live`` (theory: the base profile's
size) or ``fallback`` (the fallback profile's size); the mode reaches the page through
``$LI2_BOOK_CHAPTER_MODE``.

Exit status: 0 on success (the last line of stdout is the built ``index.html``, or ``book/_executed`` with
``--no-html``); 1 when a step fails, including a bad profile or an unknown ``--only`` name (one line
``ERROR: ...`` on stderr; a failed notebook adds its cell and traceback); 2 for command-line usage errors
(argparse: unknown option, missing value); 130 when interrupted.

This script is not part of the :mod:`li2core` package: it imports nothing from it (the notebooks do, in their
kernels) and imports papermill / jupytext / nbformat lazily, so ``--help`` and the profile checks need only
PyYAML.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "BookError",
    "NotebookFailed",
    "INJECTED_PARAMETERS",
    "find_root",
    "discover_notebooks",
    "load_profile",
    "notebook_parameters",
    "execute_notebook",
    "ensure_mathjax",
    "build_html",
    "build",
    "toc_order",
    "chapter_modes",
    "chapter_run",
    "cached_base",
    "parse_overrides",
    "main",
]

#: Parameters the driver always injects into every notebook (notebooks declare them in their ``parameters`` cell):
#: ``out_dir`` (str, the notebook's figure folder), ``profile`` (str, the profile name, e.g. ``"ci"`` or
#: ``"paper"``) and ``strict`` (True: a FAIL in the chapter's checks table fails the build; li2core.checks).
INJECTED_PARAMETERS: tuple[str, ...] = ("out_dir", "profile", "strict")
#: Injected only into notebooks that declare it: ``cache`` (``"off"``, ``"record"`` or ``"use"``: how the chapter uses
#: the results cache ``results/<name>/``, li2core.results).
CACHE_PARAMETER = "cache"
#: The results cache (li2core.results) and the chapter modes of a cached profile (:func:`chapter_modes`).
RESULTS_DIR = Path("results")
PROVENANCE = "provenance.json"
CHAPTER_MODES = ("cached", "live", "fallback")
#: Environment of the kernels: the command that records a chapter (li2core.results), and the chapter's mode in a
#: cached build (li2core.pages.rerun_box says so on the page).
COMMAND_ENV = "LI2_RESULTS_COMMAND"
MODE_ENV = "LI2_BOOK_CHAPTER_MODE"

#: Where things live, relative to the repository root.
NOTEBOOKS_DIR = Path("notebooks")
PROFILES_DIR = Path("book/profiles")
BOOK_DIR = Path("book")
EXECUTED_SUBDIR = "_executed"
FIGURES_SUBDIR = "figures"
MATHJAX_DIR = Path("book/_static/mathjax")
MATHJAX_ENTRY = "tex-chtml.js"  # must match `sphinx.config.mathjax_path` in _config.yml
MATHJAX_NPM_SPEC = "mathjax@3"
HTML_INDEX = Path("_build/html/index.html")

#: Kernel used when the standard ``python3`` kernelspec does not resolve to this interpreter.
PRIVATE_KERNEL_NAME = "li2-book-python3"
STANDARD_KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class BookError(RuntimeError):
    """A build step failed; the message says which step and why."""


class NotebookFailed(BookError):
    """A notebook raised while being executed (a failed check, or any other error)."""

    def __init__(self, name: str, message: str, partial: Path | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.partial = partial

    def __reduce__(self) -> tuple[Any, ...]:  # a worker process sends it back to the driver (--jobs)
        return (type(self), (self.name, str(self), self.partial))


def _log(msg: str) -> None:
    print(f"[book] {msg}", flush=True)


def _warn(msg: str) -> None:
    print(f"[book] WARNING: {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------------------
# Repository layout
# ----------------------------------------------------------------------------------------------------------
def _is_root(path: Path) -> bool:
    return (path / "_toc.yml").is_file() and (path / NOTEBOOKS_DIR).is_dir()


def find_root(start: Path | None = None) -> Path:
    """Return the repository root (the folder holding ``_toc.yml`` and ``notebooks/``).

    Order: ``$LI2_BOOK_ROOT``; ``start`` (default: the current directory) and its parents; the folder above
    ``tools/`` that holds this script (so ``python /path/to/repo/tools/build_book.py`` works from anywhere).
    """
    env = os.environ.get("LI2_BOOK_ROOT")
    if env:
        root = Path(env).resolve()
        if not _is_root(root):
            raise BookError(f"LI2_BOOK_ROOT={env} does not hold _toc.yml and notebooks/")
        return root
    here = (start or Path.cwd()).resolve()
    for cand in (here, *here.parents):
        if _is_root(cand):
            return cand
    script_root = Path(__file__).resolve().parents[1]  # <root>/tools/build_book.py -> <root>
    if _is_root(script_root):
        return script_root
    raise BookError(f"cannot find the book root (_toc.yml + notebooks/) from {here}; run from the repository")


def toc_order(names: Sequence[str], root: Path | None = None) -> list[str]:
    """``names`` in the order of ``_toc.yml`` (the book's order; the Notes page, which collects the chapters'
    declared deviations, comes last), names not in the toc after them in the given order."""
    import yaml

    root = root or find_root()
    toc_path = root / "_toc.yml"
    order: list[str] = []
    if toc_path.is_file():
        order = [Path(f).name for f in _toc_files(yaml.safe_load(toc_path.read_text(encoding="utf8")))]
    rank = {n: i for i, n in enumerate(order)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), list(names).index(n)))


def discover_notebooks(root: Path | None = None) -> dict[str, Path]:
    """Map notebook name -> jupytext source path, for every ``notebooks/*.py`` (sorted by name)."""
    root = root or find_root()
    return {p.stem: p for p in sorted((root / NOTEBOOKS_DIR).glob("*.py")) if not p.name.startswith("_")}


# ----------------------------------------------------------------------------------------------------------
# Profiles
# ----------------------------------------------------------------------------------------------------------
def _yaml_loader() -> type:
    """A SafeLoader that reads floats the YAML 1.2 way, so ``2e-4`` is a float (PyYAML alone reads a string)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    float_re = re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
            |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
            |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
        re.X,
    )
    # Replace the float resolver (keep the others: int, bool, null, ...).
    Loader.yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:float"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver("tag:yaml.org,2002:float", float_re, list("-+0123456789."))
    return Loader


def _profile_path(profile: str | Path, root: Path) -> tuple[str, Path]:
    p = Path(profile)
    if p.suffix in {".yml", ".yaml"}:
        path = p if p.is_absolute() else (Path.cwd() / p)
        return p.stem, path.resolve()
    return str(profile), root / PROFILES_DIR / f"{profile}.yml"


def load_profile(
    profile: str | Path = "ci", root: Path | None = None, notebooks: Iterable[str] | None = None
) -> tuple[str, dict[str, dict[str, Any]]]:
    """Load a profile; return ``(profile name, {notebook: parameters})``.

    ``profile`` is a name (``ci`` -> ``book/profiles/ci.yml``) or a path to a ``.yml`` file. Sections for
    notebooks that do not exist, non-mapping sections and the reserved parameters ``out_dir``/``profile`` are
    errors. A missing or empty section means the notebook's defaults.
    """
    import yaml

    root = root or find_root()
    name, path = _profile_path(profile, root)
    if not path.is_file():
        avail = sorted(p.stem for p in (root / PROFILES_DIR).glob("*.yml"))
        raise BookError(f"profile '{profile}' not found ({path}); available: {', '.join(avail) or 'none'}")
    try:
        data = yaml.load(path.read_text(encoding="utf8"), Loader=_yaml_loader()) or {}
    except yaml.YAMLError as exc:
        raise BookError(f"profile {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise BookError(f"profile {path} must be a mapping 'notebook name -> parameters', got {type(data).__name__}")
    known = set(notebooks) if notebooks is not None else set(discover_notebooks(root))
    if "base" in data:  # a cached profile: the sections of its base or fallback profile, chapter by chapter
        modes = chapter_modes(profile, root, known)
        spec = _cached_spec(path, data, known)
        base = load_profile(spec["base"], root, known)[1]
        fallback = load_profile(spec["fallback"], root, known)[1]
        return name, {n: dict((fallback if m == "fallback" else base).get(n, {})) for n, m in modes.items()}
    sections: dict[str, dict[str, Any]] = {}
    for nb_name, section in data.items():
        if nb_name not in known:
            raise BookError(
                f"profile {path.name}: section '{nb_name}' matches no notebook in notebooks/ "
                f"(notebooks: {', '.join(sorted(known)) or 'none'})"
            )
        section = section or {}
        if not isinstance(section, Mapping):
            raise BookError(f"profile {path.name}: section '{nb_name}' must be a mapping of parameters")
        reserved = sorted(set(section) & set(INJECTED_PARAMETERS))
        if reserved:
            raise BookError(f"profile {path.name}: section '{nb_name}' sets {reserved}, which the driver injects")
        sections[str(nb_name)] = dict(section)
    return name, sections


def _cached_spec(path: Path, data: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """The validated keys of a cached profile: ``base`` and ``fallback`` (profile names) and ``live`` (notebooks)."""
    extra = sorted(set(data) - {"base", "fallback", "live"})
    if extra:
        raise BookError(f"cached profile {path.name}: unknown keys {extra} (accepted: base, fallback, live)")
    live = list(data.get("live") or [])
    bad = sorted(set(live) - set(known))
    if bad:
        raise BookError(f"cached profile {path.name}: 'live' names no notebook: {bad}")
    if not isinstance(data.get("base"), str) or not isinstance(data.get("fallback", "ci"), str):
        raise BookError(f"cached profile {path.name}: 'base' and 'fallback' must be profile names")
    return {"base": data["base"], "fallback": data.get("fallback", "ci"), "live": live}


def chapter_modes(profile: str | Path, root: Path | None = None,
                  notebooks: Iterable[str] | None = None) -> dict[str, str] | None:
    """For a cached profile (a ``.yml`` with ``base:``, e.g. ``paper-cached``), each notebook's mode:

    * ``"cached"``: ``results/<name>/provenance.json`` exists: the chapter runs with the base profile's parameters
      and ``cache="use"`` (its frames come from the cache, no training);
    * ``"live"``: listed under ``live:`` (its base profile is cheap theory): computed at the base profile's size;
    * ``"fallback"``: neither: the fallback profile's (``ci``) size, and the page says so.

    ``None`` for a plain profile.
    """
    import yaml

    root = root or find_root()
    _, path = _profile_path(profile, root)
    if not path.is_file():
        return None
    data = yaml.load(path.read_text(encoding="utf8"), Loader=_yaml_loader()) or {}
    if not isinstance(data, Mapping) or "base" not in data:
        return None
    known = sorted(notebooks) if notebooks is not None else sorted(discover_notebooks(root))
    spec = _cached_spec(path, data, known)
    return {n: ("cached" if (root / RESULTS_DIR / n / PROVENANCE).is_file() else
                "live" if n in spec["live"] else "fallback") for n in known}


def cached_base(profile: str | Path, root: Path | None = None) -> tuple[str, str] | None:
    """``(base, fallback)`` profile names of a cached profile, ``None`` for a plain one."""
    import yaml

    root = root or find_root()
    _, path = _profile_path(profile, root)
    data = yaml.load(path.read_text(encoding="utf8"), Loader=_yaml_loader()) if path.is_file() else None
    if not isinstance(data, Mapping) or "base" not in data:
        return None
    return str(data["base"]), str(data.get("fallback", "ci"))


def parse_overrides(items: Sequence[str] | None) -> dict[str, Any]:
    """``--set NAME=VALUE`` pairs as a dict (values read as YAML: ``5`` is an int, ``[1, 2]`` a list)."""
    import yaml

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, val = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise BookError(f"--set: expected NAME=VALUE, got {item!r}")
        out[key.strip()] = yaml.load(val, Loader=_yaml_loader())
    return out


# ----------------------------------------------------------------------------------------------------------
# Kernel and environment
# ----------------------------------------------------------------------------------------------------------
_private_kernel_dir: Path | None = None


def _ensure_kernel() -> tuple[str, bool]:
    """Return ``(kernel name, is_private)`` for a kernel that runs ``sys.executable``.

    jupyter_client launches the standard ``python3`` kernelspec with ``sys.executable`` when its command is a
    bare ``python``/``python3`` (the spec ipykernel installs in a venv). If ``python3`` resolves to another
    interpreter (e.g. a user-level kernelspec), a private kernelspec pointing at ``sys.executable`` is
    registered in a temporary ``JUPYTER_PATH`` entry for this process.
    """
    global _private_kernel_dir
    import importlib.util

    if importlib.util.find_spec("ipykernel") is None:
        raise BookError(f"ipykernel is not installed for {sys.executable}; run `make setup`")
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    try:
        argv0 = KernelSpecManager().get_kernel_spec("python3").argv[0]
    except NoSuchKernel:
        argv0 = None
    if argv0 is not None and (argv0 in bare or os.path.abspath(argv0) == os.path.abspath(sys.executable)):
        return "python3", False

    if _private_kernel_dir is None:
        base = Path(tempfile.mkdtemp(prefix="li2-book-jupyter-"))
        atexit.register(shutil.rmtree, base, True)
        kdir = base / "kernels" / PRIVATE_KERNEL_NAME
        kdir.mkdir(parents=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (li2-book)",
            "language": "python",
        }
        (kdir / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf8")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(base), os.environ.get("JUPYTER_PATH")]))
        _private_kernel_dir = base
        _log(f"kernelspec 'python3' runs {argv0!r}, not {sys.executable}; using a private kernelspec")
    return PRIVATE_KERNEL_NAME, True


#: Fonts the book's figures use: seaborn's default face and mathtext's (``$...$`` in labels). The build's
#: font cache must list them, or every figure with math logs ``findfont: Font family [...] not found``.
_REQUIRED_FONTS = ("DejaVu Sans", "STIXGeneral", "cmr10")
_WARM_FONTS = """
import sys, time
import matplotlib.font_manager as fm
t0 = time.perf_counter()
def missing():
    out = []
    for fam in sys.argv[1:]:
        try:
            fm.findfont(fm.FontProperties(family=fam), fallback_to_default=False, rebuild_if_missing=False)
        except ValueError:
            out.append(fam)
    return out
rebuilt = False
if missing():  # a cache written by another matplotlib install (its font paths): scan this one's fonts again
    fm.fontManager = fm._load_fontmanager(try_read_cache=False)
    rebuilt = True
left = missing()
print(f"{time.perf_counter() - t0:.1f} {int(rebuilt)} {', '.join(left)}")
"""
_mpl_ready: set[str] = set()


def mpl_config_dir(root: Path) -> Path:
    """The matplotlib config and cache folder of the build: ``_build/.matplotlib`` (``MPLCONFIGDIR``).

    The kernels do not share the user's ``~/.cache/matplotlib``: its font list holds the absolute font paths of
    whichever matplotlib wrote it (another venv, perhaps since deleted), and a list without matplotlib's own
    fonts makes every figure with math log ``findfont`` warnings onto the page; an unwritable home folder makes
    matplotlib warn about a temporary cache on every page; and a user's ``matplotlibrc`` would change the
    figures. The build's own folder avoids all three.
    """
    return root / "_build" / ".matplotlib"


def _prepare_matplotlib(root: Path) -> None:
    """Build (or repair) the font cache in :func:`mpl_config_dir` once, before the first kernel starts, so that
    no notebook prints matplotlib's "building the font cache" on its page."""
    cfg = mpl_config_dir(root)
    if str(cfg) in _mpl_ready:
        return
    cfg.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, MPLCONFIGDIR=str(cfg), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-c", _WARM_FONTS, *_REQUIRED_FONTS], env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise BookError(f"matplotlib could not build its font cache in {cfg}: {proc.stderr.strip()[-500:]}")
    last = (proc.stdout.strip().splitlines() or ["0 0"])[-1].split(" ")
    secs, rebuilt, left = last[0], last[1], " ".join(last[2:])
    if rebuilt == "1":
        _log(f"matplotlib: rebuilt the font cache in {_rel(cfg, root)} ({secs} s)")
    if left.strip():
        _warn(f"matplotlib finds no font for {left.strip()}; figures fall back to DejaVu Sans")
    _mpl_ready.add(str(cfg))


@contextlib.contextmanager
def _kernel_env(root: Path, extra: Mapping[str, str] | None = None) -> Iterator[None]:
    """Environment of the kernels started inside this block.

    * the repository root goes first on ``PYTHONPATH``, so ``import li2core`` works even when not installed;
    * ``MPLBACKEND`` is the inline backend, so figures are embedded in the executed notebook even if the
      caller exported e.g. ``MPLBACKEND=Agg`` (which the kernel would otherwise honour);
    * ``MPLCONFIGDIR`` is the build's own, with its font cache built beforehand (:func:`mpl_config_dir`);
    * ``LI2_BOOK_BUILD=1`` (:func:`li2core.pages.in_book_build`).
    """
    _prepare_matplotlib(root)
    keys = ("PYTHONPATH", "MPLBACKEND", "MPLCONFIGDIR", "LI2_BOOK_BUILD", COMMAND_ENV, MODE_ENV)
    saved = {k: os.environ.get(k) for k in keys}
    for k in (COMMAND_ENV, MODE_ENV):
        os.environ.pop(k, None)
    os.environ.update(extra or {})
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), saved["PYTHONPATH"]]))
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["MPLCONFIGDIR"] = str(mpl_config_dir(root))
    os.environ["LI2_BOOK_BUILD"] = "1"  # li2core.pages: glued figures appear where the prose places them
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ----------------------------------------------------------------------------------------------------------
# Notebook execution
# ----------------------------------------------------------------------------------------------------------
def _declared_parameters(nb_path: Path) -> dict[str, Any] | None:
    """Parameters declared in the notebook's ``parameters`` cell, or ``None`` if there is no such cell."""
    import papermill

    nb = json.loads(nb_path.read_text(encoding="utf8"))
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.get("cells", [])):
        return None
    return papermill.inspect_notebook(str(nb_path))


def notebook_parameters(
    name: str, profile: str | Path = "ci", out_dir: Path | str | None = None, root: Path | None = None
) -> dict[str, Any]:
    """The parameters the driver passes to notebook ``name``: profile section + ``out_dir`` + ``profile``."""
    root = root or find_root()
    prof_name, sections = load_profile(profile, root)
    params = dict(sections.get(name, {}))
    params["out_dir"] = str(Path(out_dir).resolve()) if out_dir else str(root / BOOK_DIR / FIGURES_SUBDIR / name)
    params["profile"] = prof_name
    params["strict"] = True  # the book build fails on an undeclared FAIL (li2core.checks)
    return params


def chapter_run(
    name: str,
    prof_name: str,
    sections: Mapping[str, Mapping[str, Any]],
    declared: Mapping[str, Any],
    *,
    modes: Mapping[str, str] | None = None,
    record: bool = False,
    overrides: Mapping[str, Any] | None = None,
    command: str | None = None,
    profile: str | Path = "",
    root: Path | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The parameters (without ``out_dir``) and the extra kernel environment of one notebook: the mode switch.

    * a plain profile: its section, ``profile`` = its name, ``cache="off"`` (when the notebook declares ``cache``);
    * ``record``: the same with ``cache="record"`` and the recording command in ``$LI2_RESULTS_COMMAND``; a notebook
      that does not declare ``cache`` cannot record (:class:`BookError`);
    * a cached profile (``modes`` from :func:`chapter_modes`): ``cached`` -> ``cache="use"``, ``profile`` = the
      cached profile's name; ``live`` -> ``profile`` = the base profile's; ``fallback`` -> the fallback's. The mode
      goes to the kernel as ``$LI2_BOOK_CHAPTER_MODE`` (``"<mode>:<cached profile>"``) for the page's note.

    ``overrides`` (``--set``) replace section values.
    """
    params = dict(sections.get(name, {}))
    params.update(overrides or {})
    env: dict[str, str] = {}
    mode = modes.get(name) if modes else None
    if mode is None:
        params["profile"] = prof_name
    else:
        base, fallback = cached_base(profile, root) or (prof_name, prof_name)
        params["profile"] = {"cached": prof_name, "live": base, "fallback": fallback}[mode]
        env[MODE_ENV] = f"{mode}:{prof_name}"
    params["strict"] = True  # the book build fails on an undeclared FAIL (li2core.checks)
    if record:
        if mode is not None:
            raise BookError(f"--record needs a plain profile (e.g. paper), not the cached profile '{prof_name}'")
        if CACHE_PARAMETER not in declared:
            raise BookError(f"notebook '{name}' has no results cache (its parameters cell does not declare "
                            f"`{CACHE_PARAMETER}`), so --record cannot record it")
        env[COMMAND_ENV] = command or f"python tools/build_book.py --profile {prof_name} --only {name} --record"
    if CACHE_PARAMETER in declared:
        params[CACHE_PARAMETER] = "record" if record else ("use" if mode == "cached" else "off")
    return params, env


def _format_failure(name: str, exc: BaseException, partial: Path | None) -> str:
    """A readable message for a failed notebook (papermill's error without ANSI codes, trimmed)."""
    lines = [f"notebook '{name}' failed"]
    ename = getattr(exc, "ename", None)
    if ename is not None:  # papermill.PapermillExecutionError
        cell = getattr(exc, "exec_count", None)
        lines[0] += f" in cell In[{cell}] (cell index {getattr(exc, 'cell_index', '?')})"
        lines.append(f"  {ename}: {_ANSI.sub('', str(getattr(exc, 'evalue', '')))}")
        src = str(getattr(exc, "source", "")).strip().splitlines()
        if src:
            shown = src[-12:]
            lines.append("  --- failing cell (last lines) ---")
            lines += [f"  | {s}" for s in shown]
        tb = _ANSI.sub("", "\n".join(getattr(exc, "traceback", []) or [])).strip().splitlines()
        if tb:
            lines.append("  --- traceback (last lines) ---")
            lines += [f"  {t}" for t in tb[-20:]]
    else:
        lines[0] += f": {type(exc).__name__}: {_ANSI.sub('', str(exc))}"
    if partial is not None:
        lines.append(f"  partially executed notebook: {partial}")
    return "\n".join(lines)


def execute_notebook(
    name: str,
    profile: str | Path = "ci",
    out_root: Path | None = None,
    *,
    root: Path | None = None,
    log_output: bool = False,
    progress_bar: bool | None = None,
    record: bool = False,
    overrides: Mapping[str, Any] | None = None,
    command: str | None = None,
) -> Path:
    """Execute ``notebooks/<name>.py`` with papermill; return the path of the executed ``.ipynb``.

    ``record``: the notebook records its results cache (``cache="record"``; it must declare ``cache``);
    ``overrides``: parameter values replacing the profile's (``--set``); ``command``: the command line the
    recorded provenance names. In a cached profile the chapter's mode decides its parameters (:func:`chapter_run`).

    Parameters
    ----------
    name:
        Notebook name (the file stem in ``notebooks/``).
    profile:
        Profile name (``book/profiles/<profile>.yml``) or path to a profile ``.yml``.
    out_root:
        Where outputs go: the executed notebook to ``<out_root>/_executed/<name>.ipynb`` and the figures to
        ``<out_root>/figures/<name>/`` (the notebook's ``out_dir``). Default: ``<root>/book``. Tests pass a
        temporary folder.
    root:
        Repository root (default: :func:`find_root`). The notebook runs with this as working directory.
    log_output:
        Stream the cells' output to the console while executing.
    progress_bar:
        Show papermill's progress bar (default: only when stderr is a terminal).

    Raises
    ------
    NotebookFailed
        If a cell raises; the message names the notebook, the cell and the error.
    BookError
        For an unknown notebook, a bad profile, or parameters the notebook does not declare.
    """
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    root = (root or find_root()).resolve()
    notebooks = discover_notebooks(root)
    if name not in notebooks:
        raise BookError(f"no notebook '{name}' in {root / NOTEBOOKS_DIR} (have: {', '.join(notebooks) or 'none'})")
    prof_name, sections = load_profile(profile, root, notebooks)

    out_root = Path(out_root).resolve() if out_root is not None else root / BOOK_DIR
    executed = out_root / EXECUTED_SUBDIR / f"{name}.ipynb"
    failed = executed.with_suffix(".failed.ipynb")
    fig_dir = out_root / FIGURES_SUBDIR / name
    executed.parent.mkdir(parents=True, exist_ok=True)
    for stale in (executed, failed):
        stale.unlink(missing_ok=True)
    shutil.rmtree(fig_dir, ignore_errors=True)  # whatever is there afterwards was rebuilt by this run
    fig_dir.mkdir(parents=True)

    modes = chapter_modes(profile, root, notebooks)
    # repo-relative when inside the repo (the kernel runs with cwd = root), so executed pages show no machine paths
    out_dir = _rel(fig_dir, root) if fig_dir.is_relative_to(root) else str(fig_dir)

    kernel, private = _ensure_kernel()
    nb = jupytext.read(notebooks[name])
    nb.metadata["kernelspec"] = dict(STANDARD_KERNELSPEC, name=kernel)
    nb.metadata.pop("jupytext", None)

    if progress_bar is None:
        progress_bar = sys.stderr.isatty()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"li2-book-{name}-") as tmp:
        src = Path(tmp) / f"{name}.ipynb"
        nbformat.write(nb, src)
        declared = _declared_parameters(src)
        if declared is None:
            raise BookError(f"notebook '{name}' has no cell tagged 'parameters' (`# %% tags=[\"parameters\"]`)")
        params, env = chapter_run(name, prof_name, sections, declared, modes=modes, record=record,
                                  overrides=overrides, command=command, profile=profile, root=root)
        params["out_dir"] = out_dir
        unknown = sorted(set(params) - set(declared) - set(INJECTED_PARAMETERS))
        if unknown:
            raise BookError(
                f"profile '{prof_name}' sets {unknown} for notebook '{name}', which its parameters cell does "
                f"not declare (declared: {', '.join(declared) or 'none'})"
            )
        missing = [p for p in INJECTED_PARAMETERS if p not in declared]
        if missing:
            _warn(f"notebook '{name}' does not declare {missing} in its parameters cell")
        _log(f"executing {name} (profile {prof_name}): {_short_params(params, root)}")
        try:
            with _kernel_env(root, env):
                papermill.execute_notebook(
                    str(src),
                    str(executed),
                    parameters=params,
                    kernel_name=kernel,
                    language="python",
                    cwd=str(root),
                    progress_bar=progress_bar,
                    log_output=log_output,
                    request_save_on_cell_execute=True,
                )
        except PapermillExecutionError as exc:
            partial = _keep_partial(executed, failed)
            raise NotebookFailed(name, _format_failure(name, exc, partial), partial) from exc
        except Exception as exc:  # kernel died, timeout, ...
            partial = _keep_partial(executed, failed)
            raise NotebookFailed(name, _format_failure(name, exc, partial), partial) from exc
    wall = time.perf_counter() - t0

    # Make the executed notebook portable: standard kernelspec, source path relative to the repository.
    out = nbformat.read(executed, as_version=4)
    out.metadata["kernelspec"] = dict(STANDARD_KERNELSPEC)
    pm = out.metadata.get("papermill", {})
    pm["input_path"] = notebooks[name].relative_to(root).as_posix()
    pm["output_path"] = _rel(executed, root)
    pm["parameters"] = {k: (_rel(Path(v), root) if k == "out_dir" else v) for k, v in pm.get("parameters", {}).items()}
    out.metadata["papermill"] = pm
    nbformat.write(out, executed)

    written = sorted(p.relative_to(fig_dir).as_posix() for p in fig_dir.rglob("*") if p.is_file())
    _log(f"{name}: done in {wall:.1f} s -> {_rel(executed, root)}")
    for text in stderr_outputs(out)[:3]:  # the site check fails on these; say here what they are
        _warn(f"notebook '{name}' printed to stderr (shown on its page): {text[:300]!r}")
    if written:
        _log(f"{name}: wrote {', '.join(written)} to {_rel(fig_dir, root)}")
    else:
        _warn(f"notebook '{name}' wrote nothing to its out_dir {fig_dir}")
    return executed


def stderr_outputs(nb: Any) -> list[str]:
    """The text of every stderr stream output of an executed notebook, cell by cell (each is a block on the page)."""
    out = []
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream" and o.get("name") == "stderr":
                text = o.get("text", "")
                out.append("".join(text) if isinstance(text, list) else str(text))
    return out


def _keep_partial(executed: Path, failed: Path) -> Path | None:
    if executed.exists():
        executed.replace(failed)
        return failed
    return None


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _short_params(params: Mapping[str, Any], root: Path) -> str:
    return ", ".join(f"{k}={_rel(Path(v), root) if k == 'out_dir' else v!r}" for k, v in params.items())


# ----------------------------------------------------------------------------------------------------------
# MathJax (offline math) and the HTML build
# ----------------------------------------------------------------------------------------------------------
def ensure_mathjax(root: Path | None = None, required: bool = False) -> bool:
    """Make MathJax 3 available locally under ``book/_static/mathjax/``; return True if it is.

    Cached: nothing is fetched if ``book/_static/mathjax/tex-chtml.js`` exists. Otherwise the ``mathjax@3``
    package is fetched from the npm registry with ``npm pack`` and its ``es5/`` folder is extracted there.
    Without npm (or if the fetch fails) this prints a WARNING that the book's math will load from a CDN and
    returns False, or raises :class:`BookError` if ``required``.
    """
    root = root or find_root()
    target = root / MATHJAX_DIR
    if (target / MATHJAX_ENTRY).is_file():
        return True

    def fail(why: str) -> bool:
        if required:
            raise BookError(f"local MathJax is required (--offline-math) but unavailable: {why}")
        _warn(f"{why}\n[book] WARNING: math in the book will load MathJax from a CDN (it shows as raw TeX offline).")
        return False

    npm = shutil.which("npm")
    if npm is None:
        return fail("npm not found, cannot fetch the `mathjax@3` package from the npm registry")
    _log(f"fetching {MATHJAX_NPM_SPEC} from the npm registry (npm pack) -> {_rel(target, root)}")
    with tempfile.TemporaryDirectory(prefix="li2-book-mathjax-") as tmp:
        try:
            proc = subprocess.run(
                [npm, "pack", MATHJAX_NPM_SPEC, "--silent"],
                cwd=tmp, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return fail(f"`npm pack {MATHJAX_NPM_SPEC}` failed: {exc}")
        tgz = sorted(Path(tmp).glob("mathjax-*.tgz"))
        if proc.returncode != 0 or not tgz:
            return fail(f"`npm pack {MATHJAX_NPM_SPEC}` failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
        staging = Path(tmp) / "es5"
        prefix = "package/es5/"
        with tarfile.open(tgz[0], "r:gz") as tar:
            members = []
            for m in tar.getmembers():
                if not m.name.startswith(prefix) or not (m.isfile() or m.isdir()):
                    continue
                rel = m.name[len(prefix):]
                if not rel or rel.startswith("/") or ".." in Path(rel).parts:
                    continue
                m.name = rel
                members.append(m)
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                tar.extractall(staging, members=members, filter="data")
            else:
                tar.extractall(staging, members=members)
        if not (staging / MATHJAX_ENTRY).is_file():
            return fail(f"{tgz[0].name} has no es5/{MATHJAX_ENTRY}")
        (staging / "VERSION").write_text(tgz[0].name.removesuffix(".tgz") + "\n", encoding="utf8")
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(target))
    _log(f"MathJax installed: {(target / 'VERSION').read_text().strip()} ({_count_files(target)} files)")
    return True


def _count_files(path: Path) -> int:
    return sum(1 for p in path.rglob("*") if p.is_file())


def _toc_files(toc: Any) -> list[str]:
    """All ``file:`` entries of a ``_toc.yml`` structure (recursively)."""
    found: list[str] = []
    if isinstance(toc, Mapping):
        for key, val in toc.items():
            if key in {"file", "root"} and isinstance(val, str):
                found.append(val)
            else:
                found += _toc_files(val)
    elif isinstance(toc, list):
        for item in toc:
            found += _toc_files(item)
    return found


def _check_toc(root: Path) -> None:
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf8"))
    missing = []
    for f in _toc_files(toc):
        p = root / f
        if not (p.exists() or any(p.with_suffix(s).exists() for s in (".md", ".ipynb", ".rst", ".py"))):
            missing.append(f)
    if missing:
        executed = [m for m in missing if f"/{EXECUTED_SUBDIR}/" in f"/{m}"]
        hint = (
            " (executed notebooks are generated: run `python tools/build_book.py` without --only, or `make book`)"
            if executed else ""
        )
        raise BookError(f"_toc.yml lists files that do not exist: {', '.join(missing)}{hint}")


_GLUE_MISS = re.compile(r"([^\s:]+\.ipynb)(?::\d+)?: WARNING: No key '([^']+)' found in glue data")


def glue_misses(log: str) -> list[str]:
    """``"<page>: '<key>'"`` for every ``{glue}`` role of the Sphinx output ``log`` whose key the page's notebook
    never glued (myst-nb warns and renders nothing: a number missing from the prose)."""
    return [f"{Path(m.group(1)).stem}: '{m.group(2)}'" for m in _GLUE_MISS.finditer(_ANSI.sub("", log))]


def build_html(root: Path | None = None, local_math: bool = True, strict: bool = False) -> Path:
    """Run ``jupyter-book build`` at the repository root; return the absolute path of ``index.html``.

    With ``local_math=False`` the book is built with a copy of ``_config.yml`` without ``mathjax_path``
    (Sphinx's default: MathJax from a CDN). ``strict`` turns Sphinx warnings into errors (``-W --keep-going``).
    """
    import yaml

    root = (root or find_root()).resolve()
    _check_toc(root)
    cmd = [
        sys.executable, "-c",
        "import sys; from jupyter_book.cli.main import main; sys.exit(main(prog_name='jupyter-book'))",
        "build", str(root),
    ]
    if not local_math:
        cfg = yaml.safe_load((root / "_config.yml").read_text(encoding="utf8")) or {}
        cfg.get("sphinx", {}).get("config", {}).pop("mathjax_path", None)
        alt = root / "_build" / "_config.cdn-math.yml"
        alt.parent.mkdir(parents=True, exist_ok=True)
        alt.write_text("# generated by tools/build_book.py: _config.yml without mathjax_path\n" + yaml.safe_dump(cfg))
        cmd += ["--config", str(alt)]
    if strict:
        cmd += ["-W", "--keep-going"]
    (root / BOOK_DIR / "_static").mkdir(parents=True, exist_ok=True)  # html_static_path entry
    _log("building HTML: jupyter-book " + " ".join(cmd[3:]))
    sys.stdout.flush()
    proc = subprocess.Popen(cmd, cwd=root, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    log = []
    for line in proc.stdout:  # shown as it comes, and kept for glue_misses
        sys.stdout.write(line)
        log.append(line)
    proc.wait()
    index = root / HTML_INDEX
    if proc.returncode != 0:
        raise BookError(f"jupyter-book build failed (exit {proc.returncode}); see the messages above")
    misses = glue_misses("".join(log))
    if misses:
        raise BookError(f"{len(misses)} glued value(s) missing, their pages would show a blank: " + "; ".join(misses))
    if not index.is_file():
        raise BookError(f"jupyter-book build finished but {index} does not exist")
    _report_math(index.parent, local_math)
    return index


def _report_math(html_dir: Path, local_math: bool) -> None:
    """Say where the built pages load MathJax from; warn if any page loads it from the network."""
    src_re = re.compile(r"<script[^>]*\bsrc=\"([^\"]*mathjax[^\"]*)\"", re.I)
    local, remote = 0, set()
    for page in html_dir.rglob("*.html"):
        for src in src_re.findall(page.read_text(encoding="utf8", errors="replace")):
            if "://" in src or src.startswith("//"):
                remote.add(src)
            else:
                local += 1
    if remote:
        (_warn if local_math else _log)(f"pages load MathJax from the network: {', '.join(sorted(remote))}")
    if local:
        _log(f"math: {local} page(s) load the local MathJax (_static/mathjax/{MATHJAX_ENTRY})")


# ----------------------------------------------------------------------------------------------------------
# Whole build and CLI
# ----------------------------------------------------------------------------------------------------------
def build(
    profile: str | Path = "ci",
    only: Sequence[str] | None = None,
    html: bool = True,
    *,
    root: Path | None = None,
    offline_math: bool = False,
    strict: bool = False,
    log_output: bool = False,
    record: bool = False,
    overrides: Mapping[str, Any] | None = None,
    command: str | None = None,
    jobs: int | None = None,
) -> Path:
    """Execute the notebooks (all, or ``only``) with ``profile``, then build the HTML book.

    ``record`` (only with ``only``): the notebooks write their results cache ``results/<name>/``; ``overrides``
    replace profile values in every notebook run (``--set``); ``command``: the command line for the provenance.
    ``jobs`` notebooks execute at a time (default :func:`default_jobs`), each in its own kernel; the pages that
    read other chapters' outputs (:data:`RUNS_LAST`) start when all others have finished.

    Returns the absolute path of ``_build/html/index.html`` (or of ``book/_executed`` when ``html=False``).
    Stops at the first failing notebook (raising :class:`NotebookFailed`): a book is never built with a failed
    check. ``offline_math`` makes a missing local MathJax an error instead of a warning.
    """
    root = (root or find_root()).resolve()
    notebooks = discover_notebooks(root)
    names = toc_order(list(dict.fromkeys(only)) if only else list(notebooks), root)
    unknown = [n for n in names if n not in notebooks]
    if unknown:
        raise BookError(f"unknown notebook(s) {unknown}; have: {', '.join(notebooks) or 'none'}")
    prof_name, _ = load_profile(profile, root, notebooks)  # validate the whole profile up front
    if record and not only:
        raise BookError("--record needs --only NAME ...: record one chapter's cache at a time")
    _log(f"root {root}; python {sys.executable}; profile {prof_name}; notebooks: {', '.join(names) or 'none'}")
    modes = chapter_modes(profile, root, notebooks)
    if modes:
        for m in CHAPTER_MODES:
            _log(f"{prof_name}: {m}: {', '.join(n for n in names if modes[n] == m) or 'none'}")

    t_all = time.perf_counter()
    times = _execute_all(names, profile, root, jobs=jobs, log_output=log_output, record=record,
                         overrides=overrides, command=command)
    if not html:
        _summary(times, None, time.perf_counter() - t_all)
        return root / BOOK_DIR / EXECUTED_SUBDIR

    local_math = ensure_mathjax(root, required=offline_math)
    t0 = time.perf_counter()
    index = build_html(root, local_math=local_math, strict=strict)
    _summary(times, time.perf_counter() - t0, time.perf_counter() - t_all)
    return index


#: Pages that read the other chapters' outputs (their ``checks.json``): they execute after every other notebook.
RUNS_LAST: tuple[str, ...] = ("notes_on_the_paper",)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


#: The most notebooks a build runs at a time by default (:func:`default_jobs`).
MAX_DEFAULT_JOBS = 8
#: Memory set aside per kernel by :func:`default_jobs`: the trainer's CPU batches plan for 3 GiB
#: (``li2core.train``'s memory budget), plus the kernel itself.
JOB_MEMORY = 4 * 2**30


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return None


def default_jobs(cores: int | None = None, memory: int | None = None) -> int:
    """Notebooks executed at a time by default: the usable CPU cores (``cores``, default this machine's), at most
    :data:`MAX_DEFAULT_JOBS` and at most one per :data:`JOB_MEMORY` of ``memory`` (bytes, default this machine's
    RAM; ignored when unknown), at least 1.

    Most chapters run torch on one thread (small tensors), so a kernel per core uses the machine fully; more would
    only contend (:func:`kernel_thread_env` shares the cores out). Each kernel is a separate process, and every
    chapter seeds its own draws.
    """
    jobs = min(MAX_DEFAULT_JOBS, cores or _usable_cores())
    memory = memory or _memory_bytes()
    if memory:
        jobs = min(jobs, memory // JOB_MEMORY)
    return max(1, jobs)


#: The thread-count variables a parallel build sets for its kernels (:func:`kernel_thread_env`).
THREAD_VARS: tuple[str, ...] = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def kernel_thread_env(jobs: int, cores: int | None = None,
                      environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment that caps each kernel's threads when ``jobs`` notebooks run at once: ``cores // jobs``
    (at least 1) for torch's OpenMP pool, MKL and numpy's OpenBLAS (:data:`THREAD_VARS`).

    Without it every kernel starts as many threads as there are cores, and two kernels that both use them
    (e.g. fig3_grokking's full-batch steps) oversubscribe the machine: measured on 2 cores, fig3_grokking took
    269 s beside another kernel against 39 s alone. ``{}`` for ``jobs == 1``; a variable the caller has set
    (``environ``, default ``os.environ``) is kept, so ``OMP_NUM_THREADS=4 make book`` still decides."""
    if jobs <= 1:
        return {}
    environ = os.environ if environ is None else environ
    n = str(max(1, (cores or _usable_cores()) // jobs))
    return {k: n for k in THREAD_VARS if not environ.get(k)}


def _execute_one(name: str, profile: str | Path, root: Path, log_output: bool, **kw: Any) -> float:
    t0 = time.perf_counter()
    execute_notebook(name, profile, root=root, log_output=log_output, **kw)
    return time.perf_counter() - t0


def _worker(name: str, profile: str | Path, root: Path, log_output: bool, threads: Mapping[str, str],
            **kw: Any) -> float:
    """What a worker process runs (a module-level name, so the pool can pickle it; it looks up
    :func:`_execute_one` at call time). ``threads`` (:func:`kernel_thread_env`) goes into this process's
    environment, which the kernels it starts inherit."""
    os.environ.update(threads)
    return _execute_one(name, profile, root, log_output, **kw)


def _execute_all(names: Sequence[str], profile: str | Path, root: Path, *, jobs: int | None,
                 log_output: bool, **kw: Any) -> dict[str, float]:
    """Execute ``names`` (``jobs`` at a time, each in a worker process) and return each one's wall time.

    The first failure stops the build: no new notebook starts, the ones running finish, then its
    :class:`NotebookFailed` is raised (the lowest in ``names`` if several failed).
    """
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise BookError(f"jobs must be at least 1 (got {jobs})")
    first = [n for n in names if n not in RUNS_LAST]
    last = [n for n in names if n in RUNS_LAST]
    times: dict[str, float] = {}
    if jobs == 1 or len(first) <= 1:
        for name in first:
            times[name] = _execute_one(name, profile, root, log_output, **kw)
    else:
        import concurrent.futures as cf
        import multiprocessing as mp

        _ensure_kernel()  # once, in this process: the workers inherit JUPYTER_PATH
        _prepare_matplotlib(root)
        threads = kernel_thread_env(jobs)
        cap = f", each kernel on {next(iter(threads.values()))} thread(s)" if threads else ""
        _log(f"executing {len(first)} notebooks, {jobs} at a time{cap}")
        errors: dict[str, BaseException] = {}
        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("fork")) as pool:
            futs = {pool.submit(_worker, n, profile, root, log_output, threads, **kw): n for n in first}
            for fut in cf.as_completed(futs):
                name = futs[fut]
                try:
                    times[name] = fut.result()
                except BaseException as exc:  # noqa: BLE001 - re-raised below, after the others stop
                    errors[name] = exc
                    for f in futs:
                        f.cancel()  # those not started yet
        if errors:
            raise errors[min(errors, key=list(names).index)]
        times = {n: times[n] for n in first}
    for name in last:
        times[name] = _execute_one(name, profile, root, log_output, **kw)
    return times


def _summary(times: Mapping[str, float], html_s: float | None, total_s: float) -> None:
    parts = [f"{n} {t:.1f} s" for n, t in times.items()]
    if html_s is not None:
        parts.append(f"html {html_s:.1f} s")
    _log(f"wall time: {'; '.join(parts) or 'nothing to do'}; total {total_s:.1f} s")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python tools/build_book.py``); returns the exit status."""
    ap = argparse.ArgumentParser(
        prog="python tools/build_book.py",
        description="Execute the book's notebooks with papermill and build the HTML with Jupyter Book.",
    )
    ap.add_argument("--profile", default="ci",
                    help="profile name in book/profiles/ (ci, paper) or a path to a profile .yml (default: ci)")
    ap.add_argument("--only", nargs="+", action="extend", metavar="NAME",
                    help="execute only these notebooks (names of notebooks/NAME.py); others keep their last run")
    ap.add_argument("--no-html", dest="html", action="store_false", help="execute notebooks only; skip the HTML")
    ap.add_argument("--record", action="store_true",
                    help="with --only: the notebooks write their results cache results/NAME/ (li2core.results)")
    ap.add_argument("--set", dest="overrides", action="append", metavar="NAME=VALUE",
                    help="replace a profile value (YAML) in the notebooks run, e.g. --set seeds=5")
    ap.add_argument("--offline-math", action="store_true",
                    help="fail if MathJax cannot be made local (default: warn and use the CDN)")
    ap.add_argument("--strict", action="store_true", help="turn Sphinx warnings into errors")
    ap.add_argument("--log-output", action="store_true", help="stream the notebooks' cell output while executing")
    ap.add_argument("--jobs", type=int, default=None, metavar="N",
                    help="execute N notebooks at a time (default: the CPU cores, at most 8)")
    ap.add_argument("--list", action="store_true", help="list the notebooks and the profile's parameters, then exit")
    args = ap.parse_args(argv)
    if args.log_output:
        import logging

        pm_logger = logging.getLogger("papermill")
        pm_logger.setLevel(logging.INFO)
        pm_logger.addHandler(logging.StreamHandler(sys.stdout))
    try:
        if args.list:
            root = find_root()
            prof, sections = load_profile(args.profile, root)
            for n, p in discover_notebooks(root).items():
                print(f"{n}: {sections.get(n, {}) or '(notebook defaults)'}  [profile {prof}]")
            return 0
        command = "python tools/build_book.py " + " ".join(shlex.quote(a) for a in
                                                           (sys.argv[1:] if argv is None else argv))
        out = build(args.profile, args.only, args.html, offline_math=args.offline_math, strict=args.strict,
                    log_output=args.log_output, record=args.record, overrides=parse_overrides(args.overrides),
                    command=command, jobs=args.jobs)
    except NotebookFailed as exc:
        print(f"\nERROR: {exc}\nThe book was not built.", file=sys.stderr, flush=True)
        return 1
    except BookError as exc:
        print(f"\nERROR: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130
    print(out.resolve(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
