"""The admin: officers edit each kind of mail's wording (with a preview) and see background jobs."""

import rules
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from notifications import views
from notifications.models import MailWording, ModerationDuty


class MailWordingViewSet(SnippetViewSet):
    model = MailWording
    icon = "mail"
    menu_label = _("Mail wording")
    list_display = ["__str__", "subject", "updated_at"]
    list_filter = ["kind", "language"]


class ModerationDutyViewSet(SnippetViewSet):
    model = ModerationDuty
    icon = "user"
    menu_label = _("Moderators on duty")
    list_display = ["consultation", "moderator"]


class MailGroup(ViewSetGroup):
    menu_label = _("Mail")
    menu_icon = "mail"
    menu_order = 260
    items = (MailWordingViewSet, ModerationDutyViewSet)


register_snippet(MailGroup)


@hooks.register("register_admin_urls")
def register_job_urls():
    return [
        path("jobs/", views.job_index, name="notifications_jobs"),
        path("jobs/<str:result_id>/retry/", views.job_retry, name="notifications_job_retry"),
    ]


class JobsMenuItem(MenuItem):
    def is_shown(self, request):
        return rules.has_perm("notifications.view_jobs", request.user)


@hooks.register("register_admin_menu_item")
def register_jobs_menu_item():
    return JobsMenuItem(_("Background jobs"), reverse("notifications_jobs"), icon_name="cogs", order=270)
