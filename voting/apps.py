from django.apps import AppConfig


class VotingConfig(AppConfig):
    name = "voting"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Live tallies and signed-out sockets listen to the voting and auth signals.
        from voting import live  # noqa: F401
