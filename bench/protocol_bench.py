"""What the socket protocol's parser costs per frame, for ordinary frames and for the worst a client
may send under the size limit (``voting.protocol.parse``: size and depth bounds, then ``json.loads``).

    .venv/bin/python -m bench.protocol_bench
    .venv/bin/python -m bench.protocol_bench --repeat 20000

Prints the median time per frame in microseconds over ``--repeat`` parses (after a warm-up), and how
each frame ends: parsed, or refused with an error code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time

from voting import protocol

LIMIT = protocol.MAX_FRAME_BYTES


def _frames() -> dict[str, str]:
    vote = {"type": "vote", "id": "m7", "payload": {"question": 12, "data": {"choice": "yes"}}}
    ranked = {"type": "vote", "id": 9, "payload": {"data": {"ranking": [str(i) for i in range(20)]}}}
    scores = {"type": "vote", "id": 10, "payload": {"data": {"scores": {str(i): i % 5 for i in range(40)}}}}
    brackets_in_a_string = json.dumps(
        {"type": "ping", "id": 1, "payload": {"note": "[{" * ((LIMIT - 60) // 2)}}
    )
    return {
        "ping": json.dumps({"type": "ping", "id": 1}),
        "vote (yes/no, live session)": json.dumps(vote),
        "vote (ranked, 20 options)": json.dumps(ranked),
        "vote (scores, 40 options)": json.dumps(scores),
        "4 KB nested 2,048 deep (refused)": "[" * (LIMIT // 2) + "]" * (LIMIT // 2),
        "4 KB of brackets inside a string": brackets_in_a_string,
        "4 KB of shallow brackets, 4 deep": json.dumps({"type": "ping", "payload": {"x": [[]] * 800}}),
        "4 KB flat array of numbers": json.dumps({"type": "ping", "payload": {"x": [1] * 1300}}),
    }


def _outcome(text: str) -> str:
    try:
        protocol.parse(text, None)
    except protocol.ProtocolError as exc:
        return f"refused: {exc.code}"
    return "parsed"


def _median_us(text: str, repeat: int) -> float:
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat // 5):
            with contextlib.suppress(protocol.ProtocolError):
                protocol.parse(text, None)
        samples.append((time.perf_counter() - start) / (repeat // 5) * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5000)
    args = parser.parse_args()
    print(f"{'frame':<36} {'bytes':>6} {'us/frame':>9}  outcome")
    for name, text in _frames().items():
        assert len(text.encode()) <= LIMIT, name
        _median_us(text, 50)  # warm-up
        print(f"{name:<36} {len(text.encode()):>6} {_median_us(text, args.repeat):>9.1f}  {_outcome(text)}")


if __name__ == "__main__":
    main()
