"""``python -m streamkit``: the ``streamkit`` command (see :mod:`streamkit.cli`)."""

from __future__ import annotations

import sys

from streamkit.cli import main

__all__ = ("main",)

if __name__ == "__main__":
    sys.exit(main())
