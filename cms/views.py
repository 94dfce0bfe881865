"""Site-wide views: the council's brand stylesheet, health check, error pages."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET
from wagtail.models import Site

from cms.models import CouncilSettings


@require_GET
@cache_control(public=True, max_age=300)
def brand_css(request: HttpRequest) -> HttpResponse:
    """The council's colour as a stylesheet, so no inline style is needed (strict CSP)."""
    site = Site.find_for_request(request)
    colour = CouncilSettings.for_site(site).brand_colour if site else "#1d4f91"
    css = f":root{{--th-brand:{colour};}}\n"
    return HttpResponse(css, content_type="text/css; charset=utf-8")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers that ask for /favicon.ico get the SVG icon (resolved per request: manifest names)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/429.html", status=429)
