"""Content-Security-Policy on every response, the Wagtail admin's included.

The public site's policy (``CONTENT_SECURITY_POLICY``) allows no inline script or style at all. Wagtail's
admin is built on a few things the public site never needs, so pages under the admin's URL get their own
policy, ``ADMIN_CONTENT_SECURITY_POLICY``: the tightest the admin's pages work with (see its comment in
the settings). Both come from django-csp's middleware; this one only chooses which policy a response gets.
"""

from __future__ import annotations

from functools import cache

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse


@cache
def admin_prefix() -> str:
    return reverse("wagtailadmin_home")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        # A view's own policy (django-csp's decorators) still wins.
        if not report_only and parts.config is None and request.path_info.startswith(admin_prefix()):
            parts.config = settings.ADMIN_CONTENT_SECURITY_POLICY["DIRECTIVES"]
        return parts
