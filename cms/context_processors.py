from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from cms.selectors import navigation


def site_shell(request: HttpRequest) -> dict:
    """Navigation for the header and footer, computed only if a template uses it."""
    shell = SimpleLazyObject(lambda: navigation(request=request))
    return {"shell": shell}
