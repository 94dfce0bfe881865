"""Import or update wards and their postcode prefixes from a CSV file."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import wards_import_csv


class Command(BaseCommand):
    help = "Import wards from a CSV with the columns code, name, postcode_prefixes (semicolon-separated)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options):
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            result = wards_import_csv(text=text)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.wards_created} wards created, {result.wards_updated} updated, "
                f"{result.prefixes} postcode prefixes."
            )
        )
