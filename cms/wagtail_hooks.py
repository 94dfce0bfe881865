"""The Wagtail admin's pages load Townhall's admin script (static/js/wagtail-admin.js)."""

from django.templatetags.static import static
from django.utils.html import format_html
from wagtail import hooks


@hooks.register("insert_global_admin_js")
def admin_script() -> str:
    return format_html('<script src="{}"></script>', static("js/wagtail-admin.js"))
