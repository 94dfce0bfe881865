"""Wagtail admin views for people: the user viewset with Townhall's fields."""

from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from accounts.forms import WagtailUserCreationForm, WagtailUserEditForm


class UserViewSet(WagtailUserViewSet):
    def get_form_class(self, for_update: bool = False):
        return WagtailUserEditForm if for_update else WagtailUserCreationForm
