"""The kinds of mail about proposals, discussion and moderation (see notifications.kinds)."""

from django.utils.translation import gettext_lazy as _

from notifications.kinds import MailKind, register

PROPOSAL_STATUS = register(
    MailKind(
        key="proposal_status",
        label=_("News about your proposals"),
        subject=_("Your proposal is now {{ status }}"),
        body=_(
            "Your proposal “{{ proposal }}” is now {{ status }}.\n\nWhy: {{ reason }}\n\n"
            "See your proposal and the council's response:\n{{ proposal_url }}"
        ),
        reason=_("You are getting this email because you wrote the proposal “{{ proposal }}”."),
        placeholders={
            "proposal": (_("the proposal's title"), "A zebra crossing by the school"),
            "status": (_("its new status"), "accepted"),
            "reason": (_("the reason given"), "It fits the road safety budget."),
            "proposal_url": (_("link to the proposal"), "https://example.org/proposals/p/12/"),
        },
    )
)

COMMENT_REPLY = register(
    MailKind(
        key="comment_reply",
        label=_("Replies to your comments"),
        subject=_("New reply to your comment"),
        body=_("{{ replier }} replied to your comment:\n\n{{ excerpt }}\n\nRead and reply:\n{{ reply_url }}"),
        reason=_("You are getting this email because someone replied to your comment."),
        placeholders={
            "replier": (_("who replied"), "Dafydd"),
            "excerpt": (_("the start of the reply"), "I agree, the crossing is dangerous at 3pm."),
            "reply_url": (_("link to the reply"), "https://example.org/proposals/p/12/#comment-40"),
        },
    )
)

MODERATION_ACTION = register(
    MailKind(
        key="moderation_action",
        label=_("Moderation decisions about what you wrote"),
        subject=_("About your contribution: {{ action }}"),
        body=_(
            "{{ what }}\n\nReason: {{ reason }}\n{{ explanation }}\n\n"
            "{% if appeal_url %}You can appeal once, from your moderation notices page:\n{{ appeal_url }}"
            "{% else %}Your moderation notices: {{ notices_url }}{% endif %}"
        ),
        reason=_("You are getting this email because a moderator acted on your account or what you wrote."),
        placeholders={
            "action": (_("what the moderator did"), "Hidden"),
            "what": (_("a sentence saying what happened"), "A moderator has hidden something you wrote."),
            "reason": (_("the house rule"), "Personal attacks"),
            "explanation": (_("the moderator's explanation"), "Name-calling breaks rule 1."),
            "appeal_url": (
                _("link to appeal, when an appeal is possible"),
                "https://example.org/proposals/notices/",
            ),
            "notices_url": (_("link to your moderation notices"), "https://example.org/proposals/notices/"),
        },
        optional=False,
    )
)

APPEAL_DECIDED = register(
    MailKind(
        key="appeal_decided",
        label=_("The decision on your appeal"),
        subject=_("Your appeal has been decided"),
        body=_("{{ outcome }}\n\n{{ note }}\n\nYour moderation notices: {{ notices_url }}"),
        reason=_("You are getting this email because you appealed a moderation decision."),
        placeholders={
            "outcome": (_("the outcome"), "Overturned"),
            "note": (_("the reviewer's note"), "On a second reading, the comment was fair criticism."),
            "notices_url": (_("link to your moderation notices"), "https://example.org/proposals/notices/"),
        },
        optional=False,
    )
)

FLAG_RAISED = register(
    MailKind(
        key="flag_raised",
        label=_("New reports to moderate (moderators)"),
        subject=_("New report to moderate: {{ consultation }}"),
        body=_(
            "Someone reported a {{ item_type }} in “{{ consultation }}”.\n\nReason: {{ reason }}\n\n"
            "Look at it in the moderation queue:\n{{ item_url }}"
        ),
        reason=_("You are getting this email because you moderate “{{ consultation }}”."),
        placeholders={
            "consultation": (_("the consultation's title"), "Safer crossings on the High Street"),
            "item_type": (_("comment or proposal"), "comment"),
            "reason": (_("the reason given by whoever reported it"), "Spam"),
            "item_url": (
                _("link to the item in the moderation queue"),
                "https://example.org/proposals/moderation/comment/40/",
            ),
        },
    )
)
