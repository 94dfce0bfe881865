"""The demo council comes with a live session ready for its councillor to run."""

from __future__ import annotations

import io

from cms.demo_support import DEMO_MODULES, DemoContext
from voting import live_demo
from voting.models import LiveSession


def test_demo_session_is_queued_for_the_demo_councillor_and_seeding_twice_adds_nothing(councillor):
    ctx = DemoContext(seed=1, scale=1, out=io.StringIO())
    ctx.made["staff"] = {"councillor": councillor}
    live_demo.seed(ctx)
    live_demo.seed(ctx)
    session = LiveSession.objects.get()
    assert session.host == councillor and session.status == "live"
    assert session.items.count() == len(live_demo.QUESTIONS)
    assert not any(item.question.is_open for item in session.items.select_related("question"))
    assert "voting.live_demo" in DEMO_MODULES
