"""The live benchmarks, one command: ``make bench`` or ``.venv/bin/python bench/run_all.py [--quick]``.

Arguments are passed to ``bench/live_bench.py`` (``--help`` lists them). Without ``--server`` it runs
twice: on uvicorn workers (what docs/deployment.md recommends for very large audiences), then on daphne
workers (Townhall's default), the second time without the bare websockets baseline, which does not
depend on the server. Needs PostgreSQL and Redis on 127.0.0.1 (see docs/deployment.md); prints a table
each time. The proposals benchmark runs on its own (``bench/proposals_bench.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import live_bench


def main(argv: list[str]) -> None:
    if any(arg == "--server" or arg.startswith("--server=") for arg in argv):
        live_bench.main(argv)
        return
    live_bench.main(["--server", "uvicorn", *argv])
    live_bench.main(["--server", "daphne", "--skip-baseline", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
