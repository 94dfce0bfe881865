"""The browser tests' live server: the site's URLs plus one reset endpoint (see config/settings/test.py).

Each browser test starts from a fresh database; this endpoint lets it also start from a fresh cache
in the server process (rate limits, lockouts, cached page links), which the test process cannot
reach when the cache is in-memory.
"""

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config import urls as site

handler404 = site.handler404
handler403 = site.handler403
handler500 = site.handler500


def reset(request: HttpRequest) -> HttpResponse:
    cache.clear()
    ContentType.objects.clear_cache()
    return HttpResponse("reset", content_type="text/plain")


urlpatterns = [path("__live-server__/reset", reset), *site.urlpatterns]
