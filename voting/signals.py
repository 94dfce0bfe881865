"""Notifications other parts of Townhall may listen to (side effects only, never business rules).

``tally_changed`` is sent after the transaction that changed a question's counts commits, with
``question_id`` and ``seq`` (the question's ``tally_seq`` after the change). The live layer uses it
to broadcast fresh tallies; a lost notification costs nothing but a refresh.
"""

from django.dispatch import Signal

tally_changed = Signal()
