"""``python -m verify.cli``: the same as the ``verify`` console script."""

from __future__ import annotations

import sys

from verify.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
