"""The Wagtail admin without inline scripts, so its Content-Security-Policy can say ``script-src 'self'``.

Wagtail 8 starts a few admin widgets from an inline ``<script>``: inline panels and date/time inputs
(templates, overridden in ``cms/templates/wagtailadmin/``) and every chooser widget (page, snippet,
image, document, task: ``BaseChooser.render``, replaced here). Each now leaves an inert element naming
the function or class to start and its JSON arguments; ``static/js/wagtail-admin.js`` starts it, and
allows only the names it knows. ``tests/cms/test_admin_policy.py`` renders the admin's forms and fails on
any inline script left, so a Wagtail upgrade that adds one is caught.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString
from wagtail.admin.widgets.chooser import BaseChooser
from wagtail.admin.widgets.workflows import AdminTaskChooser


def start_element(*, args: list[Any], call: str = "", construct: str = "") -> SafeString:
    """The inert element ``wagtail-admin.js`` reads: call ``call(*args)`` or ``new construct(*args)``."""
    kind, name = ("call", call) if call else ("construct", construct)
    return format_html(
        '<span hidden data-th-admin-{}="{}" data-th-admin-args="{}"></span>', kind, name, json.dumps(args)
    )


def _chooser_render(
    self: BaseChooser, name: str, value: Any, attrs: dict | None = None, renderer: Any = None
) -> str:
    """``BaseChooser.render`` with the widget's start-up as an element instead of an inline script."""
    try:
        id_ = attrs["id"]  # type: ignore[index]
    except (KeyError, TypeError) as exc:
        raise TypeError("A chooser cannot be rendered without an 'id' attribute") from exc
    value_data = self.get_value_data(value)
    widget_html = self.render_html(name, value_data, attrs)
    if isinstance(self, AdminTaskChooser):
        start = start_element(call="createTaskChooser", args=[id_])
    else:
        options = self.get_js_init_options(id_, name, value_data)
        start = start_element(construct=self.js_constructor, args=[id_, options])
    return format_html("{}{}", widget_html, start)


def install() -> None:
    BaseChooser.render = _chooser_render  # type: ignore[method-assign]
