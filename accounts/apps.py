from django.apps import AppConfig
from wagtail.users.apps import WagtailUsersAppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"


class TownhallUsersAppConfig(WagtailUsersAppConfig):
    """Wagtail's user admin, with forms that fit Townhall's user model."""

    user_viewset = "accounts.admin_views.UserViewSet"
