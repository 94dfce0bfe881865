from __future__ import annotations

import importlib
import time
from io import StringIO

import pytest

from cms.demo_support import DemoContext
from voting.models import Question
from voting.selectors import tally_for
from voting.services import tally_recount

pytestmark = pytest.mark.django_db


def _seed(ctx):
    for name in ("accounts.demo", "cms.demo", "consultations.demo", "voting.demo"):
        importlib.import_module(name).seed(ctx)


def test_demo_has_every_kind_open_and_closed_with_results_and_is_idempotent(wagtail_root):
    ctx = DemoContext(seed=2026, scale=1, out=StringIO())
    _seed(ctx)
    questions = list(Question.objects.all())
    assert {q.kind for q in questions} == {"yes_no", "single", "approval", "ranked", "score", "budget"}
    assert any(q.is_open for q in questions) and any(q.is_closed for q in questions)
    for question in questions:
        assert tally_recount(question=question).ok
        started = time.perf_counter()
        tally = tally_for(question=question)
        assert time.perf_counter() - started < 5
        assert tally["result"]["ballots"] > 0
    count = len(questions)
    _seed(DemoContext(seed=2026, scale=1, out=StringIO()))
    assert Question.objects.count() == count
    assert any(role == "voter" for role, _email, _note in ctx.logins)
