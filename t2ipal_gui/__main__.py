"""`python -m t2ipal_gui` and the `t2ipal-gui` launcher."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from t2ipal_gui.app import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
