from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Before any URL conf is imported: they use ``<id:...>`` and ``<code:...>`` (cms/converters.py).
        from django.urls import register_converter

        from cms.converters import CONVERTERS

        for name, converter in CONVERTERS.items():
            register_converter(converter, name)

        from cms import admin_scripts

        admin_scripts.install()
