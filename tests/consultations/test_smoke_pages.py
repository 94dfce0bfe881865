from tests.consultations.factories import make_consultation


def test_pages_render(client, index, resident):
    page = make_consultation(index, wards=[resident.ward])
    assert client.get(index.url).status_code == 200
    client.force_login(resident)
    r = client.get(page.url)
    assert r.status_code == 200, r.content[:2000]
    assert b"What you can do now" in r.content
