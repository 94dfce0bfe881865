"""Bench data: residents with signed-in sessions, and a live session with open questions.

Run by ``bench/live_bench.py`` inside the workers' environment (``python -m bench.seed ...``); prints
one JSON object: session cookies, the questions to vote on, and the fan-out question.
"""

from __future__ import annotations

import argparse
import json
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--voters", type=int, required=True)
    parser.add_argument("--questions", type=int, required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts import roles
    from accounts.models import User, Ward
    from voting import live

    ward, _ = Ward.objects.get_or_create(code="BENCH", defaults={"name": "Bench ward"})
    password = make_password(None)
    now = timezone.now()
    users = User.objects.bulk_create(
        [
            User(
                email=f"bench-{i}@bench.townhall.test",
                display_name=f"Bench voter {i}",
                ward=ward,
                postcode="BE1 1NC",
                email_verified_at=now,
                password=password,
            )
            for i in range(args.voters)
        ]
    )
    residents = Group.objects.get_or_create(name=roles.RESIDENT)[0]
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=user.pk, group_id=residents.pk) for user in users]
    )
    cookies = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        cookies.append(store.session_key)

    host = User.objects.create(
        email="bench-host@bench.townhall.test", display_name="Bench host", ward=ward, email_verified_at=now
    )
    roles.grant(host, roles.COUNCILLOR)
    session = live.live_session_create(host=host, title="Bench meeting")
    questions = []
    for i in range(args.questions + 1):
        question = live.live_session_add_question(
            session=session, title=f"Bench motion {i}", kind="yes_no", options=[]
        )
        question.opens_at = now
        question.save(update_fields=["opens_at"])
        questions.append(question.pk)
    json.dump(
        {
            "cookies": cookies,
            "user_ids": [u.pk for u in users],
            "vote_questions": questions[:-1],
            "fanout_question": questions[-1],
            "session_code": session.code,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
