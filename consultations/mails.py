"""The kinds of mail about consultations (see notifications.kinds)."""

from django.utils.translation import gettext_lazy as _

from notifications.kinds import MailKind, register

OUTCOME_PUBLISHED = register(
    MailKind(
        key="outcome_published",
        label=_("A decision on a consultation you took part in"),
        subject=_("You said, we did: {{ consultation }}"),
        body=_(
            "Hello {{ name }},\n\n"
            "You took part in “{{ consultation }}”. The council has published its decision:\n\n"
            "{{ decision }}\n\n"
            "Read the reasons, and what happened to each proposal and vote:\n{{ outcome_url }}\n\n"
            "What you did:\n{{ contributions }}"
        ),
        reason=_("You are getting this email because you took part in “{{ consultation }}”."),
        placeholders={
            "name": (_("the person's display name"), "Siân"),
            "consultation": (_("the consultation's title"), "Safer crossings on the High Street"),
            "decision": (_("the council's decision"), "We will widen the pavement by the school."),
            "outcome_url": (
                _("link to the decision"),
                "https://example.org/consultations/crossings/#outcome",
            ),
            "contributions": (
                _("what the person did, one line each, with links"),
                "You proposed “A zebra crossing”: https://example.org/proposals/p/12/",
            ),
        },
    )
)

ESCALATION_THRESHOLD = register(
    MailKind(
        key="escalation_threshold",
        label=_("Residents ask for a wider say (to the consultation's owner)"),
        subject=_("Residents are asking for a wider say: {{ consultation }}"),
        body=_(
            "{{ requests }} residents have asked for a wider say on “{{ consultation }}”, which is on "
            "the expert panel track. You set the threshold at {{ threshold }}.\n\n"
            "You can move it to the wide track in the admin (Track section), with your reason; the move "
            "and the reason are shown publicly:\n{{ admin_url }}\n\n"
            "The consultation: {{ page_url }}"
        ),
        reason=_("You are getting this email because you are the owner of “{{ consultation }}”."),
        placeholders={
            "consultation": (_("the consultation's title"), "Library opening hours"),
            "requests": (_("how many residents have asked"), "25"),
            "threshold": (_("the threshold you set"), "25"),
            "admin_url": (_("link to edit the consultation"), "https://example.org/admin/pages/7/edit/"),
            "page_url": (_("link to the consultation"), "https://example.org/consultations/library/"),
        },
        optional=False,
    )
)
