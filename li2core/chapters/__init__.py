"""One module per notebook, with the notebook's stem: the chapter's frame builders and figure functions.

A chapter is three files with one stem: ``notebooks/<stem>.py`` (prose, parameters, calls, checks),
``li2core/chapters/<stem>.py`` (the functions that build its frames and draw its figures) and
``tests/chapters/test_<stem>.py``. Theory lives in :mod:`li2core.theory`; shared figure plumbing in
:mod:`li2core.figures`.
"""
from __future__ import annotations

from .. import figures as _figures  # noqa: F401  (chooses the matplotlib backend before any chapter imports pyplot)
