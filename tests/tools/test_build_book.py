"""The book build driver ``tools/build_book.py``: command line, repository discovery and profile validation.

Fast: no notebook is executed (the slow execution tests are in ``tests/test_notebooks.py``). The driver is
imported as the module ``build_book`` (``tests/conftest.py`` puts ``tools/`` on ``sys.path``).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import build_book  # tools/build_book.py, on sys.path via tests/conftest.py
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "build_book.py"


def run_driver(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LI2_BOOK_ROOT"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], check=False, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def error_lines(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


@pytest.fixture
def fake_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal book root: ``_toc.yml``, notebooks ``a`` and ``b`` (and a private ``_helper``), profiles/."""
    monkeypatch.delenv("LI2_BOOK_ROOT", raising=False)
    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "book" / "profiles").mkdir(parents=True)
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    for name in ("a", "b", "_helper"):
        (root / "notebooks" / f"{name}.py").write_text("# %%\nx = 1\n")
    return root


def write_profile(root: Path, name: str, text: str) -> Path:
    path = root / "book" / "profiles" / f"{name}.yml"
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------------------
# It is a script outside the package
# ---------------------------------------------------------------------------------------------------------
def test_driver_is_a_script_outside_the_package() -> None:
    assert SCRIPT.is_file()
    assert not (ROOT / "li2core" / "book.py").exists()
    assert Path(build_book.__file__).resolve() == SCRIPT.resolve()


def test_importing_the_driver_loads_neither_li2core_nor_papermill() -> None:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import build_book; "
            "bad = [m for m in ('li2core', 'papermill', 'jupytext', 'nbformat', 'torch') if m in sys.modules]; "
            "sys.exit(f'imported {bad}' if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code, str(SCRIPT.parent)], check=False, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------------------------------------
# Command line, run from a directory outside the repository
# ---------------------------------------------------------------------------------------------------------
def test_help_from_another_directory(tmp_path: Path) -> None:
    proc = run_driver("--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: python tools/build_book.py")
    for opt in ("--profile", "--only", "--no-html", "--offline-math", "--strict", "--log-output", "--list"):
        assert opt in proc.stdout


def test_list_from_another_directory_finds_the_repository(tmp_path: Path) -> None:
    proc = run_driver("--list", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = [line.split(":", 1)[0] for line in proc.stdout.splitlines()]
    assert listed == sorted(p.stem for p in (ROOT / "notebooks").glob("*.py") if not p.name.startswith("_"))
    assert all(line.endswith("[profile ci]") for line in proc.stdout.splitlines())


def test_unknown_profile_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_driver("--profile", "no_such_profile", "--no-html", cwd=tmp_path)
    assert proc.returncode == 1
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ERROR: profile 'no_such_profile' not found")
    assert "available: ci, paper" in lines[0]
    assert proc.stdout == ""  # nothing was executed


def test_unknown_notebook_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_driver("--only", "notes_on_the_paper", "no_such_notebook", "--no-html", cwd=tmp_path)
    assert proc.returncode == 1
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ERROR: unknown notebook(s) ['no_such_notebook']; have: ")
    assert "notes_on_the_paper" in lines[0]
    assert proc.stdout == ""  # validated before anything ran


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_driver("--no-such-option", cwd=tmp_path)
    assert proc.returncode == 2
    assert "usage: python tools/build_book.py" in proc.stderr
    assert "unrecognized arguments: --no-such-option" in proc.stderr


# ---------------------------------------------------------------------------------------------------------
# Repository discovery
# ---------------------------------------------------------------------------------------------------------
def test_find_root_order(fake_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = fake_root / "notebooks"
    assert build_book.find_root(sub) == fake_root.resolve()  # start and its parents
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert build_book.find_root(outside) == ROOT.resolve()  # falls back to the script's repository
    monkeypatch.setenv("LI2_BOOK_ROOT", str(fake_root))
    assert build_book.find_root(outside) == fake_root.resolve()  # the environment variable wins
    monkeypatch.setenv("LI2_BOOK_ROOT", str(outside))
    with pytest.raises(build_book.BookError, match="does not hold _toc.yml and notebooks/"):
        build_book.find_root()


def test_discover_notebooks_skips_private_sources(fake_root: Path) -> None:
    assert list(build_book.discover_notebooks(fake_root)) == ["a", "b"]


# ---------------------------------------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------------------------------------
def test_load_profile_sections_and_yaml12_floats(fake_root: Path) -> None:
    write_profile(fake_root, "ci", "a:\n  lr: 2e-4\n  wd: 1.0e-3\n  M: 23\n  name: Z23\n  flag: true\nb: {}\n")
    name, sections = build_book.load_profile("ci", fake_root)
    assert name == "ci"
    assert sections == {"a": {"lr": 2e-4, "wd": 1e-3, "M": 23, "name": "Z23", "flag": True}, "b": {}}
    assert isinstance(sections["a"]["lr"], float)  # PyYAML alone would read the string '2e-4'


def test_load_profile_missing_or_empty_sections_mean_defaults(fake_root: Path) -> None:
    write_profile(fake_root, "ci", "a:\n")
    assert build_book.load_profile("ci", fake_root) == ("ci", {"a": {}})
    write_profile(fake_root, "empty", "")
    assert build_book.load_profile("empty", fake_root) == ("empty", {})


def test_load_profile_from_a_path(fake_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "my_params.yml"
    path.write_text("b:\n  width: 64\n")
    assert build_book.load_profile(path, fake_root) == ("my_params", {"b": {"width": 64}})
    monkeypatch.chdir(tmp_path)  # a relative path is relative to the current directory, not the root
    assert build_book.load_profile("my_params.yml", fake_root) == ("my_params", {"b": {"width": 64}})


@pytest.mark.parametrize(
    "text, match",
    [
        ("c: {}\n", r"section 'c' matches no notebook in notebooks/ \(notebooks: a, b\)"),
        ("_helper: {}\n", r"section '_helper' matches no notebook"),
        ("a: [1, 2]\n", r"section 'a' must be a mapping of parameters"),
        ("a:\n  out_dir: x\n", r"section 'a' sets \['out_dir'\], which the driver injects"),
        ("a:\n  profile: paper\n", r"section 'a' sets \['profile'\], which the driver injects"),
        ("- a\n- b\n", r"must be a mapping 'notebook name -> parameters', got list"),
        ("a: [1,\n", r"is not valid YAML"),
    ],
)
def test_load_profile_rejects_bad_profiles(fake_root: Path, text: str, match: str) -> None:
    write_profile(fake_root, "bad", text)
    with pytest.raises(build_book.BookError, match=match):
        build_book.load_profile("bad", fake_root)


def test_load_profile_unknown_name_lists_the_available_ones(fake_root: Path) -> None:
    write_profile(fake_root, "ci", "")
    write_profile(fake_root, "paper", "")
    with pytest.raises(build_book.BookError, match=r"profile 'nope' not found .*; available: ci, paper$"):
        build_book.load_profile("nope", fake_root)


def test_load_profile_checks_the_given_notebook_names(fake_root: Path) -> None:
    write_profile(fake_root, "ci", "x: {}\n")
    assert build_book.load_profile("ci", fake_root, notebooks=["x"]) == ("ci", {"x": {}})
    with pytest.raises(build_book.BookError, match="section 'x' matches no notebook"):
        build_book.load_profile("ci", fake_root)


def test_the_repository_profiles_are_valid() -> None:
    notebooks = build_book.discover_notebooks(ROOT)
    for prof in ("ci", "paper"):
        name, sections = build_book.load_profile(prof, ROOT)
        assert name == prof
        assert set(sections) <= set(notebooks)


# ---------------------------------------------------------------------------------------------------------
# Parameters passed to a notebook
# ---------------------------------------------------------------------------------------------------------
def test_notebook_parameters(fake_root: Path, tmp_path: Path) -> None:
    write_profile(fake_root, "paper", "a:\n  M: 71\n  lr: 1e-3\n")
    params = build_book.notebook_parameters("a", "paper", root=fake_root)
    assert params == {"M": 71, "lr": 1e-3, "out_dir": str(fake_root / "book" / "figures" / "a"), "profile": "paper",
                      "strict": True}
    assert Path(params["out_dir"]).is_absolute()
    # a notebook without a section gets only the injected parameters; out_dir can be overridden
    params = build_book.notebook_parameters("b", "paper", out_dir=tmp_path / "figs", root=fake_root)
    assert params == {"out_dir": str((tmp_path / "figs").resolve()), "profile": "paper", "strict": True}
    assert set(build_book.INJECTED_PARAMETERS) == {"out_dir", "profile", "strict"}


def test_toc_order_puts_the_notes_page_last(repo_root: Path) -> None:
    names = sorted(build_book.discover_notebooks(repo_root))
    order = build_book.toc_order(names, repo_root)
    assert sorted(order) == names and order[-1] == "notes_on_the_paper" and order[0] == "fig3_grokking"
    assert build_book.toc_order(["zz", "notes_on_the_paper", "stage1_lazy"], repo_root) == [
        "stage1_lazy", "notes_on_the_paper", "zz"]  # not in the toc: last, in the given order


def test_notebook_parameters_validates_the_profile(fake_root: Path) -> None:
    write_profile(fake_root, "ci", "zz: {}\n")
    with pytest.raises(build_book.BookError, match="section 'zz' matches no notebook"):
        build_book.notebook_parameters("a", "ci", root=fake_root)


# ---------------------------------------------------------------------------------------------------------
# build() validates everything before executing anything
# ---------------------------------------------------------------------------------------------------------
def test_build_rejects_unknown_notebooks_and_profiles_up_front(fake_root: Path) -> None:
    write_profile(fake_root, "ci", "a: {}\n")
    with pytest.raises(build_book.BookError, match=r"unknown notebook\(s\) \['zz'\]; have: a, b"):
        build_book.build("ci", ["a", "zz"], html=False, root=fake_root)
    write_profile(fake_root, "broken", "zz: {}\n")
    with pytest.raises(build_book.BookError, match="section 'zz' matches no notebook"):
        build_book.build("broken", ["a"], html=False, root=fake_root)
    assert not (fake_root / "book" / "_executed").exists()


# ------------------------------------------------------------------------------------------------------------
# matplotlib's config folder and font cache for the kernels; stderr on a page
# ------------------------------------------------------------------------------------------------------------
def _cached_families(cfg: Path) -> set[str]:
    import json

    (cache,) = cfg.glob("fontlist-v*.json")
    return {f["name"] for f in json.loads(cache.read_text(encoding="utf8"))["ttflist"]}


def test_the_kernels_get_the_builds_own_matplotlib_folder_with_a_complete_font_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(build_book, "_mpl_ready", set())
    monkeypatch.setenv("MPLCONFIGDIR", "/somewhere/else")
    with build_book._kernel_env(tmp_path):
        assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "_build" / ".matplotlib")
    assert os.environ["MPLCONFIGDIR"] == "/somewhere/else"  # restored
    assert set(build_book._REQUIRED_FONTS) <= _cached_families(build_book.mpl_config_dir(tmp_path))


def test_a_font_cache_written_elsewhere_without_matplotlibs_own_fonts_is_rebuilt(tmp_path, monkeypatch, capsys):
    """The CI failure this guards against: a cache listing only system fonts (written by a matplotlib whose
    mpl-data had gone) made every figure with math log ``findfont: Font family ['STIXGeneral'] not found``."""
    import json

    cfg = build_book.mpl_config_dir(tmp_path)
    monkeypatch.setattr(build_book, "_mpl_ready", set())
    build_book._prepare_matplotlib(tmp_path)
    (cache,) = cfg.glob("fontlist-v*.json")
    data = json.loads(cache.read_text(encoding="utf8"))
    # matplotlib's own fonts are stored relative to its mpl-data folder; keep only the system ones
    data["ttflist"] = [f for f in data["ttflist"] if os.path.isabs(f["fname"])]
    assert not set(build_book._REQUIRED_FONTS[1:]) <= {f["name"] for f in data["ttflist"]}  # really broken
    cache.write_text(json.dumps(data), encoding="utf8")
    monkeypatch.setattr(build_book, "_mpl_ready", set())
    capsys.readouterr()
    build_book._prepare_matplotlib(tmp_path)
    assert "rebuilt the font cache" in capsys.readouterr().out
    assert set(build_book._REQUIRED_FONTS) <= _cached_families(cfg)


def test_stderr_outputs_lists_each_stderr_stream_of_an_executed_notebook():
    nb = {"cells": [
        {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stdout", "text": "fine\n"},
                                          {"output_type": "stream", "name": "stderr", "text": ["find", "font\n"]}]},
        {"cell_type": "markdown"},
        {"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stderr", "text": "warn\n"}]},
    ]}
    assert build_book.stderr_outputs(nb) == ["findfont\n", "warn\n"]


# ------------------------------------------------------------------------------------------------------------
# Notebooks executed several at a time (--jobs)
# ------------------------------------------------------------------------------------------------------------
def _fake_runner(log: Path, fail: str | None = None, wait: bool = True):
    """A stand-in for executing one notebook: it logs its start, waits (up to 20 s) until another notebook has
    also started (so a passing test shows two really ran at once), then logs its end; ``fail`` raises."""
    import time as _time

    def run(name: str, profile: object, root: Path, log_output: bool, **kw: object) -> float:
        with open(log, "a") as f:
            f.write(f"start {name}\n")
        t0 = _time.perf_counter()
        if wait and name not in build_book.RUNS_LAST:
            while _time.perf_counter() - t0 < 20:
                starts = [ln for ln in log.read_text().splitlines() if ln.startswith("start ")]
                if len(starts) >= 2:
                    break
                _time.sleep(0.02)
        if name == fail:
            raise build_book.NotebookFailed(name, f"{name} failed")
        with open(log, "a") as f:
            f.write(f"end {name}\n")
        return _time.perf_counter() - t0

    return run


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_book, "_ensure_kernel", lambda: ("python3", False))
    monkeypatch.setattr(build_book, "_prepare_matplotlib", lambda root: None)


def test_two_jobs_run_at_once_and_the_notes_page_waits_for_all(tmp_path, monkeypatch, no_kernel) -> None:
    log = tmp_path / "log"
    monkeypatch.setattr(build_book, "_execute_one", _fake_runner(log))
    names = ["a", "b", "c", "notes_on_the_paper"]
    times = build_book._execute_all(names, "ci", tmp_path, jobs=2, log_output=False)
    assert list(times) == names
    lines = log.read_text().splitlines()
    assert sorted(lines[:2]) == ["start a", "start b"]  # both started before either ended (in either order)
    assert lines.index("start notes_on_the_paper") > max(lines.index(f"end {n}") for n in "abc")
    assert sorted(lines) == sorted([f"{k} {n}" for n in names for k in ("start", "end")])


def test_one_job_runs_in_order(tmp_path, monkeypatch, no_kernel) -> None:
    log = tmp_path / "log"
    monkeypatch.setattr(build_book, "_execute_one", _fake_runner(log, wait=False))
    build_book._execute_all(["a", "b"], "ci", tmp_path, jobs=1, log_output=False)
    assert log.read_text().splitlines()[:2] == ["start a", "end a"]


def test_a_failure_in_a_parallel_build_is_raised_and_the_notes_page_never_runs(tmp_path, monkeypatch,
                                                                                no_kernel) -> None:
    log = tmp_path / "log"
    monkeypatch.setattr(build_book, "_execute_one", _fake_runner(log, fail="b"))
    with pytest.raises(build_book.NotebookFailed, match="b failed"):
        build_book._execute_all(["a", "b", "notes_on_the_paper"], "ci", tmp_path, jobs=2, log_output=False)
    assert "start notes_on_the_paper" not in log.read_text()
    with pytest.raises(build_book.BookError, match="jobs must be at least 1"):
        build_book._execute_all(["a"], "ci", tmp_path, jobs=0, log_output=False)


def test_default_jobs_is_a_kernel_per_core_up_to_eight_and_one_per_4_gib() -> None:
    big = 2**40
    assert [build_book.default_jobs(c, big) for c in (1, 2, 4, 8, 16, 64)] == [1, 2, 4, 8, 8, 8]
    gib = 2**30
    assert [build_book.default_jobs(16, m * gib) for m in (2, 4, 8, 16, 24, 128)] == [1, 1, 2, 4, 6, 8]
    assert 1 <= build_book.default_jobs() <= min(8, build_book._usable_cores())


def test_kernel_threads_are_the_cores_shared_by_the_jobs() -> None:
    env = build_book.kernel_thread_env
    assert env(1, cores=2, environ={}) == {}  # one notebook at a time: torch's default
    assert env(2, cores=2, environ={}) == {k: "1" for k in build_book.THREAD_VARS}
    assert env(2, cores=16, environ={}) == {k: "8" for k in build_book.THREAD_VARS}
    assert env(3, cores=2, environ={}) == {k: "1" for k in build_book.THREAD_VARS}  # at least one
    kept = env(2, cores=16, environ={"OMP_NUM_THREADS": "4"})  # the caller's choice stays
    assert kept == {"MKL_NUM_THREADS": "8", "OPENBLAS_NUM_THREADS": "8"}


def test_a_parallel_build_caps_each_kernels_threads(tmp_path, monkeypatch, no_kernel) -> None:
    """The workers (whose kernels inherit their environment) get cores // jobs threads."""
    log = tmp_path / "log"

    def run(name: str, profile: object, root: Path, log_output: bool, **kw: object) -> float:
        with open(log, "a") as f:
            f.write(f"{name} {os.environ.get('OMP_NUM_THREADS')} {os.environ.get('OPENBLAS_NUM_THREADS')}\n")
        return 0.0

    for k in build_book.THREAD_VARS:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(build_book, "_usable_cores", lambda: 6)
    monkeypatch.setattr(build_book, "_execute_one", run)
    build_book._execute_all(["a", "b", "notes_on_the_paper"], "ci", tmp_path, jobs=2, log_output=False)
    lines = sorted(log.read_text().splitlines())
    assert lines == ["a 3 3", "b 3 3", "notes_on_the_paper None None"]  # the Notes page runs alone, uncapped
    assert "OMP_NUM_THREADS" not in os.environ  # the driver's own environment is untouched


# ---------------------------------------------------------------------------------------------------------
# The results cache: --record, --set and cached profiles (the mode switch; no notebook is executed)
# ---------------------------------------------------------------------------------------------------------
CACHED = "base: paper\nfallback: ci\nlive: [b]\n"


def test_chapter_modes_of_a_cached_profile(fake_root: Path) -> None:
    write_profile(fake_root, "ci", "a: {M: 11}\nb: {M: 13}\n")
    write_profile(fake_root, "paper", "a: {M: 71}\nb: {M: 97}\n")
    write_profile(fake_root, "paper-cached", CACHED)
    assert build_book.chapter_modes("paper", fake_root) is None  # a plain profile
    assert build_book.chapter_modes("paper-cached", fake_root) == {"a": "fallback", "b": "live"}
    (fake_root / "results" / "a").mkdir(parents=True)
    (fake_root / "results" / "a" / "provenance.json").write_text("{}")
    assert build_book.chapter_modes("paper-cached", fake_root) == {"a": "cached", "b": "live"}
    # the sections: the base profile's for cached and live chapters, the fallback's for the others
    (fake_root / "results" / "a" / "provenance.json").unlink()
    assert build_book.load_profile("paper-cached", fake_root) == ("paper-cached", {"a": {"M": 11}, "b": {"M": 97}})
    write_profile(fake_root, "bad-cached", "base: paper\nlive: [zz]\n")
    with pytest.raises(build_book.BookError, match="'live' names no notebook"):
        build_book.load_profile("bad-cached", fake_root)
    write_profile(fake_root, "bad2-cached", "base: paper\nextra: 1\n")
    with pytest.raises(build_book.BookError, match="unknown keys"):
        build_book.load_profile("bad2-cached", fake_root)


def test_chapter_run_is_the_mode_switch(fake_root: Path) -> None:
    write_profile(fake_root, "ci", "a: {M: 11}\n")
    write_profile(fake_root, "paper", "a: {M: 71, seeds: 15}\n")
    write_profile(fake_root, "paper-cached", CACHED)
    _, paper = build_book.load_profile("paper", fake_root)
    declared = {"M": 0, "seeds": 0, "cache": "off"}
    # plain profile: cache off; a notebook without a cache parameter gets none
    params, env = build_book.chapter_run("a", "paper", paper, declared)
    assert params == {"M": 71, "seeds": 15, "profile": "paper", "strict": True, "cache": "off"} and env == {}
    assert "cache" not in build_book.chapter_run("a", "paper", paper, {"M": 0})[0]
    # --record (with --set): cache record, the command for the provenance in the kernel's environment
    params, env = build_book.chapter_run("a", "paper", paper, declared, record=True, overrides={"seeds": 5},
                                         command="python tools/build_book.py --record")
    assert params["cache"] == "record" and params["seeds"] == 5 and params["profile"] == "paper"
    assert env == {build_book.COMMAND_ENV: "python tools/build_book.py --record"}
    with pytest.raises(build_book.BookError, match="has no results cache"):
        build_book.chapter_run("a", "paper", paper, {"M": 0}, record=True)
    # cached profile: cached -> use (base parameters), fallback -> ci parameters and cache off
    name, sections = build_book.load_profile("paper-cached", fake_root)
    for mode, want_cache, want_prof, want_M in (("cached", "use", "paper-cached", 71), ("fallback", "off", "ci", 11)):
        modes = {"a": mode, "b": "live"}
        sec = {"a": {"M": 71 if mode == "cached" else 11}}
        params, env = build_book.chapter_run("a", name, sec, declared, modes=modes, profile="paper-cached",
                                             root=fake_root)
        assert (params["cache"], params["profile"], params["M"]) == (want_cache, want_prof, want_M)
        assert env == {build_book.MODE_ENV: f"{mode}:paper-cached"}
    params, env = build_book.chapter_run("b", name, sections, {"M": 0}, modes={"a": "cached", "b": "live"},
                                         profile="paper-cached", root=fake_root)
    assert params["profile"] == "paper" and "cache" not in params and env[build_book.MODE_ENV] == "live:paper-cached"
    with pytest.raises(build_book.BookError, match="needs a plain profile"):
        build_book.chapter_run("a", name, sections, declared, modes={"a": "cached"}, record=True,
                               profile="paper-cached", root=fake_root)


def test_parse_overrides_and_record_needs_only(fake_root: Path) -> None:
    assert build_book.parse_overrides(["seeds=5", "wds=[0.1, 0]", "lr=2e-4"]) == {"seeds": 5, "wds": [0.1, 0],
                                                                                  "lr": 2e-4}
    with pytest.raises(build_book.BookError, match="NAME=VALUE"):
        build_book.parse_overrides(["seeds"])
    write_profile(fake_root, "ci", "a: {}\n")
    with pytest.raises(build_book.BookError, match="--record needs --only"):
        build_book.build("ci", None, html=False, root=fake_root, record=True)


def test_the_repository_cached_profile_is_valid() -> None:
    modes = build_book.chapter_modes("paper-cached", ROOT)
    assert modes is not None and set(modes) == set(build_book.discover_notebooks(ROOT))
    for name, mode in modes.items():
        assert mode != "cached" or (ROOT / "results" / name / "provenance.json").is_file()


def test_a_glued_value_missing_from_its_page_is_found_in_the_sphinx_log() -> None:
    # the line Sphinx printed for weight_variants (the prose used {glue:text}`seeds`, the notebook never glued it)
    log = ("\x1b[91m/tmp/fc14/book/_executed/weight_variants.ipynb:170002: WARNING: No key 'seeds' found in glue "
           "data for this document. (use `path::key`, to glue from another document) [mystnb.glue]\x1b[39;49;00m\n"
           "build succeeded, 1 warning.\n")
    assert build_book.glue_misses(log) == ["weight_variants: 'seeds'"]
    assert build_book.glue_misses("build succeeded.\nWARNING: something else\n") == []
