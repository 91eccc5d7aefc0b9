"""``python -m li2core``: see :mod:`li2core.cli`."""
from .cli import main

raise SystemExit(main())
