"""Officers manage wards, expert panels and volunteers in the Wagtail admin."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from accounts.models import Panel, Volunteer, Ward


class WardViewSet(SnippetViewSet):
    model = Ward
    icon = "site"
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    ordering = ["name"]


class PanelViewSet(SnippetViewSet):
    model = Panel
    icon = "group"
    list_display = ["name"]
    search_fields = ["name"]


class VolunteerViewSet(SnippetViewSet):
    model = Volunteer
    icon = "user"
    list_display = ["user", "status", "registered_at"]
    list_filter = ["status"]

    def get_form_class(self, for_update=False):
        base = super().get_form_class(for_update)

        class VolunteerForm(base):
            """Records which officer registered the volunteer."""

            def save(self, commit=True):
                if self.instance.registered_by_id is None:
                    self.instance.registered_by = self.for_user
                return super().save(commit)

        return VolunteerForm


class PeopleAndPlacesGroup(ViewSetGroup):
    menu_label = _("People and places")
    menu_icon = "group"
    menu_order = 250
    items = (WardViewSet, PanelViewSet, VolunteerViewSet)


register_snippet(PeopleAndPlacesGroup)
