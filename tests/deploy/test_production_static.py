"""Static files under production settings: ``collectstatic`` with the manifest storage succeeds, and
pages render with the hashed names it wrote (a name missing from the manifest is a 500 on every page).

``make test`` builds the assets first; these tests read what ``make assets`` put in ``static/``.
"""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

PRODUCTION_STATIC_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture(scope="module")
def production_static(tmp_path_factory):
    """Collect the static files as production does, into a directory of the test's own."""
    tmp_path = tmp_path_factory.mktemp("staticfiles")
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STATIC_STORAGE}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages, WHITENOISE_USE_FINDERS=False):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield tmp_path


def test_collectstatic_with_the_production_storage_keeps_every_file_the_pages_name(production_static):
    manifest = json.loads((production_static / "staticfiles.json").read_text())["paths"]
    for name in [
        "favicon.svg",
        "css/townhall.css",
        "js/townhall.js",
        "govuk/govuk-frontend.bundle.js",
        "govuk/all.bundle.js.map",
    ]:
        assert name in manifest, name
        assert (production_static / manifest[name]).is_file()
    bundle = (production_static / manifest["govuk/govuk-frontend.bundle.js"]).read_text()
    assert f"sourceMappingURL={manifest['govuk/all.bundle.js.map'].split('/')[-1]}" in bundle


@pytest.mark.django_db
def test_pages_render_with_the_hashed_names_of_the_production_manifest(production_static, client, home_page):
    manifest = json.loads((production_static / "staticfiles.json").read_text())["paths"]
    for url in ["/", "/accounts/sign-in/", "/accounts/register/", "/this-page-does-not-exist/"]:
        response = client.get(url)
        assert response.status_code in {200, 404}, url
        html = response.content.decode()
        assert f"/static/{manifest['favicon.svg']}" in html, url
        assert f"/static/{manifest['css/townhall.css']}" in html, url
