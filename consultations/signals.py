"""Routes Wagtail's publication signal to the service; no business logic lives here.

Wagtail publishes through ``Revision.publish()`` both when someone clicks "Publish" and when an
officer approves the last workflow task, and only the signal fires in both cases.
"""

from __future__ import annotations

from django.dispatch import receiver
from wagtail.signals import page_published

from consultations.models import ConsultationPage


@receiver(page_published, sender=ConsultationPage, dispatch_uid="consultations_record_publication")
def on_consultation_published(sender, instance, revision=None, **kwargs):
    from consultations.services import consultation_record_publication

    user = getattr(revision, "user", None) if revision is not None else None
    consultation_record_publication(page=instance, user=user)
