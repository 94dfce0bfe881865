"""Recount tallies from the ballots and compare them with the running counts.

    manage.py recount                 every question
    manage.py recount 12 15           questions 12 and 15
    manage.py recount --repair        replace wrong running counts with the recount

Exits with status 1 when any count is wrong (even after ``--repair``, so that a scheduled check
still alerts someone), and prints every mismatch.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from voting.models import Question
from voting.services import tally_recount


class Command(BaseCommand):
    help = "Recount question tallies from the ballots; report (and with --repair fix) any mismatch."

    def add_arguments(self, parser) -> None:
        parser.add_argument("question_ids", nargs="*", type=int, help="Questions to recount (default: all).")
        parser.add_argument(
            "--repair", action="store_true", help="Replace wrong running counts with the recount."
        )

    def handle(self, *args, question_ids: list[int], repair: bool, **options) -> None:
        questions = Question.objects.non_polymorphic().order_by("pk")
        if question_ids:
            questions = questions.filter(pk__in=question_ids)
            missing = set(question_ids) - set(questions.values_list("pk", flat=True))
            if missing:
                raise CommandError(f"No question with id {', '.join(map(str, sorted(missing)))}.")
        bad = 0
        checked = 0
        for question in questions.iterator():
            report = tally_recount(question=question, repair=repair)
            checked += 1
            if report.ok:
                continue
            bad += 1
            self.stderr.write(self.style.ERROR(f"MISMATCH question {question.pk} ({question.title[:60]}):"))
            for key, (stored, counted) in report.mismatches.items():
                self.stderr.write(f"    {key}: running count {stored}, recount {counted}")
            if report.participations != report.ballots + report.sealed:
                sealed = f" and {report.sealed} sealed secret ballots" if report.sealed else ""
                self.stderr.write(
                    f"    {report.participations} people recorded as voting"
                    f" but {report.ballots} ballots{sealed}"
                )
            if report.repaired:
                self.stderr.write(self.style.WARNING("    running counts replaced by the recount"))
        if bad:
            raise CommandError(
                f"{bad} of {checked} question(s) had counts that did not match their ballots.", returncode=1
            )
        self.stdout.write(
            self.style.SUCCESS(f"{checked} question(s) recounted: every count matches its ballots.")
        )
