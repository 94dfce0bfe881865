from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms import views as cms_views

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("accounts.urls")),
    path("consultations/", include("consultations.urls")),
    path("proposals/", include("proposals.urls")),
    path("voting/", include("voting.urls")),
    path("questionnaires/", include("questionnaires.urls")),
    path("notifications/", include("notifications.urls")),
    path("brand.css", cms_views.brand_css, name="brand_css"),
    path("healthz", cms_views.healthz, name="healthz"),
    path("favicon.ico", cms_views.favicon),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]

handler404 = "cms.views.not_found"
handler500 = "cms.views.server_error"
handler403 = "cms.views.forbidden"
