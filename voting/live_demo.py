"""Demo data for live sessions: a council meeting ready to run, with its questions queued.

Sign in as the demo councillor, open "Live sessions", and run it from a laptop; residents join from
their phones with the code shown on the presenter screen.
"""

from __future__ import annotations

from cms.demo_support import DemoContext
from voting import live
from voting.models import LiveSession

TITLE = "Full council meeting: town centre"
QUESTIONS = [
    ("Should the council pedestrianise the market square on Saturdays?", "yes_no", []),
    (
        "Which should come first in the town centre?",
        "single",
        ["More benches", "Trees and planters", "Cycle parking"],
    ),
    ("Should Sunday opening at the central library continue?", "yes_no", []),
]


def seed(ctx: DemoContext) -> None:
    host = ctx.made["staff"]["councillor"]
    session = LiveSession.objects.filter(title=TITLE, host=host).first()
    if session is None:
        session = live.live_session_create(host=host, title=TITLE)
        for title, kind, options in QUESTIONS:
            live.live_session_add_question(session=session, title=title, kind=kind, options=options)
        ctx.say(f"Live session ready: {TITLE} (join code {session.code}); the demo councillor runs it.")
    ctx.made["live_session"] = session
