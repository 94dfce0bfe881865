"""Rendering a thread's comments to HTML in Python (see ``proposals_tags.render_thread``)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from cms.sanitiser import html_to_text
from proposals.models import CommentState

_STANCE_TAGS = {
    "for": "govuk-tag--green",
    "against": "govuk-tag--red",
    "question": "govuk-tag--purple",
    "neutral": "govuk-tag--grey",
}


class ThreadRenderer:
    def __init__(self, context) -> None:
        self.request = context.get("request")
        self.comment_url = context.get("comment_url", "")
        self.comment_base = context.get("comment_base", "")
        self.report_base = context.get("report_base", "")
        self.moderate_base = context.get("moderate_base", "")
        self.labels = {
            "removed": _("Removed"),
            "former": _("Former member"),
            "edited": _("edited"),
            "earlier": _("see earlier versions"),
            "removed_text": _("This comment was removed by its author."),
            "hidden_text": _("This comment was hidden by a moderator because it broke the house rules."),
            "gone": _("(That comment is no longer visible.)"),
            "reply": _("Reply"),
            "reply_sr": _("to this comment"),
            "quote": _("Quote"),
            "quote_sr": _("this comment"),
            "edit": _("Edit"),
            "edit_sr": _("your comment"),
            "remove": _("Remove"),
            "remove_sr": _("your comment"),
            "report": _("Report"),
            "report_sr": _("this comment"),
            "moderate": _("Moderate"),
            "moderate_sr": _("this comment"),
        }

    def render(self, nodes) -> SafeString:
        return mark_safe("".join(self._node(node) for node in nodes))

    def _node(self, node) -> str:
        c = node.comment
        children = ""
        if node.children:
            inner = "".join(self._node(child) for child in node.children)
            children = f'<ul class="th-thread th-thread--replies">{inner}</ul>'
        return format_html(
            '<li class="th-comment th-comment--depth-{}">'
            '<article id="comment-{}" aria-labelledby="comment-{}-by">{}{}{}</article>{}</li>',
            c.depth,
            c.pk,
            c.pk,
            self._meta(c),
            self._body(c),
            self._actions(c),
            mark_safe(children),
        )

    def _meta(self, c) -> str:
        L = self.labels
        parts = []
        if c.state == CommentState.VISIBLE:
            parts.append(
                format_html(
                    '<strong class="govuk-tag {}">{}</strong>',
                    _STANCE_TAGS.get(c.stance, ""),
                    c.get_stance_display(),
                )
            )
        if c.state == CommentState.REMOVED:
            parts.append(format_html("<span>{}</span>", L["removed"]))
        else:
            name = c.author.display_name if c.author_id and c.author else L["former"]
            parts.append(format_html('<span class="th-comment__author">{}</span>', name))
        local = timezone.localtime(c.created_at)
        parts.append(
            format_html(
                '<span>· <time datetime="{}">{}</time></span>',
                local.isoformat(),
                dateformat.format(local, "j M Y, H:i"),
            )
        )
        if c.edited_at and c.state == CommentState.VISIBLE:
            parts.append(
                format_html(
                    '<span>· <a class="govuk-link" href="{}{}/history/">{}'
                    '<span class="govuk-visually-hidden"> \u2013 {}</span></a></span>',
                    self.comment_base,
                    c.pk,
                    L["edited"],
                    L["earlier"],
                )
            )
        return format_html('<p class="th-meta" id="comment-{}-by">{}</p>', c.pk, mark_safe(" ".join(parts)))

    def _body(self, c) -> str:
        L = self.labels
        if c.state == CommentState.REMOVED:
            return format_html('<p class="govuk-body th-comment__removed">{}</p>', L["removed_text"])
        if c.state == CommentState.HIDDEN:
            html = format_html('<p class="govuk-body th-comment__removed">{}</p>', L["hidden_text"])
            if getattr(c, "perms", {}).get("see_hidden"):
                notice = render_to_string(
                    "proposals/includes/moderator_notice.html",
                    {"action": c.hidden_by_action, "request": self.request},
                )
                html += format_html(
                    '{}<div class="th-comment__body th-comment__body--hidden">{}</div>',
                    mark_safe(notice),
                    mark_safe(c.body),
                )
            return html
        quote = ""
        quoted = getattr(c, "quoted_comment", None)
        if quoted is not None:
            name = quoted.author.display_name if quoted.author_id and quoted.author else L["former"]
            text = (
                Truncator(html_to_text(quoted.body)).words(60)
                if quoted.state == CommentState.VISIBLE
                else L["gone"]
            )
            quote = format_html(
                '<blockquote class="th-quote"><p class="govuk-body-s">{}</p>'
                '<p class="govuk-body-s">{}</p></blockquote>',
                _("%(name)s wrote:") % {"name": name},
                text,
            )
        # The body is the sanitiser's output, stored on save (see proposals_tags.sanitised_html).
        return format_html('{}<div class="th-comment__body">{}</div>', quote, mark_safe(c.body))

    def _actions(self, c) -> str:
        perms = getattr(c, "perms", None) or {}
        if not perms.get("any"):
            return ""
        L = self.labels
        links = []

        def link(href, label, hidden):
            links.append(
                format_html(
                    '<li><a class="govuk-link" href="{}">{}<span class="govuk-visually-hidden"> {}'
                    "</span></a></li>",
                    href,
                    label,
                    hidden,
                )
            )

        if perms.get("reply"):
            link(f"{self.comment_base}{c.pk}/reply/", L["reply"], L["reply_sr"])
        if perms.get("quote"):
            link(f"{self.comment_url}?quote={c.pk}", L["quote"], L["quote_sr"])
        if perms.get("edit"):
            link(f"{self.comment_base}{c.pk}/edit/", L["edit"], L["edit_sr"])
        if perms.get("delete"):
            link(f"{self.comment_base}{c.pk}/remove/", L["remove"], L["remove_sr"])
        if perms.get("flag"):
            link(f"{self.report_base}{c.pk}/", L["report"], L["report_sr"])
        if perms.get("moderate"):
            link(f"{self.moderate_base}{c.pk}/", L["moderate"], L["moderate_sr"])
        return format_html('<ul class="th-actions">{}</ul>', mark_safe("".join(links)))
