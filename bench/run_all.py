"""Every Townhall benchmark, one command: ``make bench`` or ``.venv/bin/python bench/run_all.py [--quick]``.

Arguments are passed to ``bench/live_bench.py`` (``--help`` lists them). Needs PostgreSQL and Redis on
127.0.0.1 (see docs/deployment.md); prints a table.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import live_bench

if __name__ == "__main__":
    live_bench.main(sys.argv[1:])
