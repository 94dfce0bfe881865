"""The kinds of mail Townhall sends, each with its default wording and the placeholders it fills in.

Each app declares its own kinds in a ``mails.py`` module (found at start-up, as Wagtail finds
``wagtail_hooks.py``) by calling :func:`register`. Officers can override the wording per language
in the admin (``MailWording``); without an override, the default below is used, translated into the
person's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.functional import Promise


@dataclass(frozen=True)
class MailKind:
    key: str
    label: str | Promise
    subject: str | Promise
    body: str | Promise
    #: Why the person gets this mail, for the footer. May use the placeholders.
    reason: str | Promise
    #: Placeholder name -> (what it is, a sample value for the preview).
    placeholders: dict[str, tuple[str | Promise, str]] = field(default_factory=dict)
    #: Whether a person may turn this kind off. Mail about their own account or duties is not optional.
    optional: bool = True

    def sample_context(self) -> dict[str, str]:
        return {name: sample for name, (_what, sample) in self.placeholders.items()}


REGISTRY: dict[str, MailKind] = {}


def register(kind: MailKind) -> MailKind:
    REGISTRY[kind.key] = kind
    return kind


def get(key: str) -> MailKind:
    try:
        return REGISTRY[key]
    except KeyError:
        raise LookupError(f"No kind of mail is called {key!r}.") from None


def label(key: str) -> str:
    kind = REGISTRY.get(key)
    return str(kind.label) if kind else key


def choices() -> list[tuple[str, str]]:
    return sorted(((k.key, str(k.label)) for k in REGISTRY.values()), key=lambda c: c[1])


def optional_kinds() -> list[MailKind]:
    return sorted((k for k in REGISTRY.values() if k.optional), key=lambda k: str(k.label))
