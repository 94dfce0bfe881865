"""Admin hooks: a new consultation index gets the page permissions councillors and officers need."""

from __future__ import annotations

from wagtail import hooks

from consultations.models import ConsultationIndexPage


@hooks.register("after_create_page")
def grant_permissions_on_new_index(request, page):
    if isinstance(page.specific, ConsultationIndexPage):
        from consultations.services import consultation_index_grant_permissions

        consultation_index_grant_permissions(page)
