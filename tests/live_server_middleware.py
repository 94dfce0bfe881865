"""Used only by the browser tests' live server (see config/settings/test.py).

Each browser test flushes and refills the database, which gives content types new ids, but a
long-running server process caches content types by id. Forgetting the cache at the start of every
request keeps the server in step with the test that is driving it.
"""

from django.contrib.contenttypes.models import ContentType


class FreshContentTypesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ContentType.objects.clear_cache()
        return self.get_response(request)
