"""Load a fictional council: wards, residents, each role's demo accounts, pages and more.

Deterministic from ``--seed`` and idempotent: running it again changes nothing. ``--scale`` multiplies
the volume (residents, proposals, comments, ballots) for benchmarks.
"""

from __future__ import annotations

import importlib
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from cms.demo_support import DEMO_MODULES, DEMO_PASSWORD, DemoContext


class Command(BaseCommand):
    help = "Load the demo council (idempotent). Use --scale for benchmark-sized data."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")
        parser.add_argument("--scale", type=int, default=1, help="Multiply the data volume (default 1).")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even when DEBUG is off. The demo accounts have a published password.",
        )

    def handle(self, *args, seed: int, scale: int, quiet_logins: bool, allow_production: bool, **options):
        if scale < 1:
            raise CommandError("--scale must be 1 or more.")
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "Refusing to load demo accounts with a published password while DEBUG is off. "
                "Pass --allow-production if this really is a demonstration site."
            )
        ctx = DemoContext(seed=seed, scale=scale, out=self.stdout)
        started = time.monotonic()
        # The demo's own notifications (status changes, moderation notices) go nowhere: its
        # addresses are fictional and nobody should be emailed by loading demo data.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self._seed(ctx)
        self.stdout.write(self.style.SUCCESS(f"Demo council ready in {time.monotonic() - started:.1f} s."))
        if not quiet_logins and ctx.logins:
            self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
            for role, email, note in ctx.logins:
                self.stdout.write(f"  {role:<14} {email:<40} {note}")

    def _seed(self, ctx: DemoContext) -> None:
        for module_name in DEMO_MODULES:
            module = importlib.import_module(module_name)
            step_started = time.monotonic()
            with transaction.atomic():
                module.seed(ctx)
            self.stdout.write(f"  {module_name:<22} {time.monotonic() - step_started:6.1f} s")
