import pytest
from django.core.exceptions import ValidationError

from accounts.models import PostcodePrefix, Ward, normalise_postcode
from accounts.selectors import ward_for_postcode
from accounts.services import wards_import_csv


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("cf10 1aa", "CF10 1AA"), ("CF101AA", "CF10 1AA"), ("  sw1a  2aa ", "SW1A 2AA"), ("M1 1AE", "M1 1AE")],
)
def test_postcodes_are_normalised(raw, expected):
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize("raw", ["", "hello", "CF10", "12345", "CF10 1A", "<script>", "CF10 1AA extra"])
def test_things_that_are_not_postcodes_are_refused(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_postcode(raw)
    assert exc.value.code == "invalid_postcode"


@pytest.mark.django_db
def test_the_longest_matching_prefix_wins():
    centre = Ward.objects.create(code="C", name="Centre")
    bay = Ward.objects.create(code="B", name="Bay")
    PostcodePrefix.objects.create(prefix="CF10", ward=centre)
    PostcodePrefix.objects.create(prefix="cf10 5", ward=bay)
    assert ward_for_postcode("CF10 1AA") == centre
    assert ward_for_postcode("cf105bb") == bay


@pytest.mark.django_db
def test_a_postcode_outside_the_council_says_so():
    Ward.objects.create(code="C", name="Centre").postcode_prefixes.create(prefix="CF10")
    with pytest.raises(ValidationError) as exc:
        ward_for_postcode("SW1A 2AA")
    assert exc.value.code == "outside_council"
    assert "SW1A 2AA is not in this council's area" in exc.value.messages[0]


@pytest.mark.django_db
def test_wards_import_from_csv_and_reimport_replaces_prefixes():
    result = wards_import_csv(text="code,name,postcode_prefixes\nW1,Afon,TH1;TH2 4\nW2,Bryn,TH3\n")
    assert (result.wards_created, result.wards_updated, result.prefixes) == (2, 0, 3)
    assert ward_for_postcode("TH2 4AB").code == "W1"
    result = wards_import_csv(text="code,name,postcode_prefixes\nW1,Afon Newydd,TH1\n")
    assert (result.wards_created, result.wards_updated) == (0, 1)
    assert Ward.objects.get(code="W1").name == "Afon Newydd"
    assert not PostcodePrefix.objects.filter(prefix="TH2 4").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,prefixes\nAfon,TH1\n", "The file needs the columns code, name and postcode_prefixes."),
        ("code,name,postcode_prefixes\n,Afon,TH1\n", "Row 2: code and name are required."),
        (
            "code,name,postcode_prefixes\nW1,Afon,TH1\nW2,Bryn,TH1\n",
            "Row 3: the prefix TH1 is already given to ward W1.",
        ),
    ],
)
def test_a_bad_ward_file_imports_nothing(text, message):
    with pytest.raises(ValidationError) as exc:
        wards_import_csv(text=text)
    assert exc.value.messages == [message]
    assert Ward.objects.count() == 0
