#!/usr/bin/env bash
# Create (or update) the project's virtual environment.  Called by `make setup`.
#
# Environment variables (all optional):
#   PYTHON          base interpreter (default python3.11; falls back to python3 if python3.11 is absent)
#   VENV            venv directory (default .venv)
#   TORCH_SPEC      torch requirement installed into a plain venv (default torch==2.13.0)
#   TORCH_PIP_ARGS  extra pip arguments for that torch install, e.g.
#                   "--index-url https://download.pytorch.org/whl/cpu" on a CPU-only machine with internet
#   PIP_ARGS        extra pip arguments for every pip install (e.g. -q)
#
# The torch rule:
#   * If the base interpreter already imports torch >= 2.1 (e.g. a GPU box with a CUDA build of torch), the
#     venv is created with --system-site-packages, so that torch (and its CUDA libraries) is reused and
#     nothing is reinstalled.
#   * Otherwise a plain venv is created and TORCH_SPEC is installed first, on its own.  On the project's
#     machines pip resolves torch==2.13.0 to a local CPU wheel through pip's find-links configuration.
#   * Only then is the project installed (`pip install -e .[book,test]`): its `torch>=2.1` requirement is
#     already satisfied, so pip pulls no CUDA packages.
set -euo pipefail

cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
TORCH_PIP_ARGS="${TORCH_PIP_ARGS:-}"
PIP_ARGS="${PIP_ARGS:-}"
PYTHON="${PYTHON:-python3.11}"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# A pyenv shim may exist for a version that is not installed, so test that the interpreter actually runs.
runs() { command -v "$1" >/dev/null 2>&1 && "$1" -c 'import sys' >/dev/null 2>&1; }
if ! runs "$PYTHON"; then
    if [ "$PYTHON" = "python3.11" ] && runs python3; then
        say "python3.11 not found; falling back to python3"
        PYTHON=python3
    else
        die "cannot run the interpreter '$PYTHON' (set PYTHON=/path/to/python3.11)"
    fi
fi
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "$PYTHON is $("$PYTHON" -c 'import sys; print(sys.version.split()[0])'); Python >= 3.11 is required"

# Exit status 0 iff the given interpreter imports torch >= 2.1 (prints the version).
TORCH_CHECK='
import sys
try:
    import torch
except Exception:
    sys.exit(1)
v = torch.__version__.split("+")[0].split(".")
try:
    ok = (int(v[0]), int(v[1])) >= (2, 1)
except ValueError:
    ok = False
print(torch.__version__, "cuda" if torch.cuda.is_available() else "cpu")
sys.exit(0 if ok else 1)
'

if [ ! -x "$VENV/bin/python" ]; then
    if base_torch="$("$PYTHON" -W ignore -c "$TORCH_CHECK" 2>/dev/null)" \
        && "$PYTHON" -c 'import sys; sys.exit(sys.prefix != sys.base_prefix)'; then
        say "base interpreter $(command -v "$PYTHON") already has torch $base_torch:"
        say "creating $VENV with --system-site-packages to reuse it"
        "$PYTHON" -m venv --system-site-packages "$VENV"
    elif [ -n "${base_torch:-}" ]; then
        # A venv's own packages are not "system site packages" of a venv made from it.
        say "$PYTHON is itself a venv interpreter: its torch $base_torch cannot be shared; creating a plain venv"
        "$PYTHON" -m venv "$VENV"
    else
        say "creating a plain venv in $VENV with $(command -v "$PYTHON")"
        "$PYTHON" -m venv "$VENV"
    fi
else
    say "reusing the existing venv $VENV"
fi

VPY="$VENV/bin/python"
# shellcheck disable=SC2086
"$VPY" -m pip install $PIP_ARGS --upgrade pip

if venv_torch="$("$VPY" -W ignore -c "$TORCH_CHECK" 2>/dev/null)"; then
    say "torch $venv_torch already available in $VENV; not installing torch"
else
    say "installing $TORCH_SPEC before the project (so that pip pulls no CUDA packages)"
    # shellcheck disable=SC2086
    "$VPY" -m pip install $PIP_ARGS $TORCH_PIP_ARGS "$TORCH_SPEC"
    venv_torch="$("$VPY" -W ignore -c "$TORCH_CHECK")" || die "torch was installed but does not import in $VENV"
    say "torch $venv_torch installed"
fi

say "installing the project: pip install -e .[book,test]"
# shellcheck disable=SC2086
"$VPY" -m pip install $PIP_ARGS -e ".[book,test]"

# Make sure the install did not replace torch (it must not: the requirement was already satisfied).
after="$("$VPY" -W ignore -c "$TORCH_CHECK")" || die "torch no longer imports after installing the project"
[ "$after" = "$venv_torch" ] || die "installing the project changed torch ($venv_torch -> $after)"
say "done: $("$VPY" -c 'import sys; print(sys.executable, sys.version.split()[0])'), torch $after"
