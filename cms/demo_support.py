"""Shared machinery for ``manage.py seed_demo``: the context every app's ``demo.seed`` receives."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

DEMO_PASSWORD = "townhall-demo"  # noqa: S105 - published demo logins, refused in production
DEMO_DOMAIN = "demo.townhall.test"

#: Apps that add demo data, in the order they run (each may use what the earlier ones made).
DEMO_MODULES = [
    "accounts.demo",
    "cms.demo",
    "consultations.demo",
    "proposals.demo",
    "voting.demo",
    "voting.live_demo",
]


@dataclass
class DemoContext:
    seed: int
    scale: int
    out: Any
    rng: random.Random = field(init=False)
    #: What earlier steps made, for later steps: "wards", "residents", "councillors", "home", ...
    made: dict[str, Any] = field(default_factory=dict)
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def child_rng(self, name: str) -> random.Random:
        """A generator of its own per step, so one app's changes do not reshuffle another's data."""
        return random.Random(f"{self.seed}:{name}")

    def say(self, message: str) -> None:
        self.out.write(message)
