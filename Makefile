# Thin wrappers around the project's tools.  See README.md.
#   make setup                 create .venv (idempotent; re-runs when pyproject.toml changes)
#   make book [PROFILE=paper]  execute the notebooks with papermill and build the HTML book
#   make book PROFILE=paper-cached   paper scale on a CPU: cached chapters load results/, no training (README)
#   make test [PYTEST_ARGS=..] run the test suite
#   make check-book            build the book, then check the built pages (HTML scan, headless Chromium)
#   make bench                 run the training benchmarks
#   make clean / distclean     remove generated files / also the venv and the MathJax cache

PYTHON      ?= python3.11
VENV        ?= .venv
PROFILE     ?= ci
PYTEST_ARGS ?=
BOOK_ARGS   ?=
PIP_ARGS    ?= -q

VPY   := $(VENV)/bin/python
STAMP := $(VENV)/.li2-setup-stamp

.PHONY: setup book test check-book bench clean distclean

setup: $(STAMP)

# tools/setup_env.sh falls back to python3 when python3.11 is absent and holds the torch rule.
$(STAMP): pyproject.toml tools/setup_env.sh
	PYTHON="$(PYTHON)" VENV="$(VENV)" PIP_ARGS="$(PIP_ARGS)" bash tools/setup_env.sh
	@touch $@

book: setup
	$(VPY) tools/build_book.py --profile $(PROFILE) $(BOOK_ARGS)

test: setup
	$(VPY) -m pytest -q $(PYTEST_ARGS)

# The site checks need the built book and Debian's chromium + chromium-driver (.ci/run installs them).
check-book: book
	$(VPY) -m pytest -q -m book tests/book $(PYTEST_ARGS)

bench: setup
	$(VPY) benchmarks/bench_train.py

clean:
	rm -rf _build book/_executed book/figures

distclean: clean
	rm -rf $(VENV) book/_static/mathjax
