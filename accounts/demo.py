"""Demo data: eight wards of a fictional council, residents, and an account for every role."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts import roles
from accounts.models import Panel, PanelMembership, PostcodePrefix, User, Volunteer, Ward
from cms.demo_support import DEMO_DOMAIN, DEMO_PASSWORD, DemoContext

WARDS = [
    ("TH01", "Afon", ["TH1"]),
    ("TH02", "Bryn Castell", ["TH2"]),
    ("TH03", "Cei'r Harbwr", ["TH3"]),
    ("TH04", "Dolgoch", ["TH4"]),
    ("TH05", "Eastgate", ["TH5"]),
    ("TH06", "Ffordd Newydd", ["TH6"]),
    ("TH07", "Green Lanes", ["TH7"]),
    ("TH08", "Llys Hen", ["TH8"]),
]

FIRST = [
    "Siân",
    "Dafydd",
    "Aisha",
    "Gwenllïan",
    "Tomasz",
    "Ffion",
    "Rhodri",
    "Mei",
    "Owain",
    "Chidi",
    "Eleri",
    "Yusuf",
    "Catrin",
    "Priya",
    "Iolo",
    "Zofia",
    "Bethan",
    "Kwame",
    "Nia",
    "Hamid",
]
LAST = [
    "Jones",
    "ap Rhys",
    "Khan",
    "Williams",
    "Nowak",
    "Evans",
    "Okafor",
    "Davies",
    "Ng",
    "Price",
    "Lewis",
    "Hussain",
    "Morgan",
    "Patel",
    "Thomas",
    "Roberts",
    "Hughes",
    "Mensah",
    "Ali",
    "Powell",
]

STAFF = [
    # (email local part, display name, roles, ward index, what to try)
    ("resident", "Siân Resident", [roles.RESIDENT], 0, "propose, comment, flag, vote in Afon"),
    ("councillor", "Cllr Dafydd Morgan", [roles.COUNCILLOR], 1, "run consultations in the admin (/admin/)"),
    ("moderator", "Mo Moderator", [roles.MODERATOR], 2, "work the moderation queue"),
    ("officer", "Olwen Officer", [roles.OFFICER], 3, "approve and publish, site settings (/admin/)"),
    ("panel", "Dr Priya Expert", [], 4, "deliberate and vote on panel-track issues"),
    ("volunteer", "Vic Volunteer", [roles.RESIDENT], 5, "take part on behalf of residents"),
]


def _postcode(rng, outward: str) -> str:
    return f"{outward} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTU')}"


def seed(ctx: DemoContext) -> None:
    rng = ctx.child_rng("accounts")
    wards = []
    for code, name, prefixes in WARDS:
        ward, _ = Ward.objects.get_or_create(code=code, defaults={"name": name})
        for prefix in prefixes:
            PostcodePrefix.objects.get_or_create(prefix=prefix, defaults={"ward": ward})
        wards.append(ward)
    ctx.made["wards"] = wards

    password_hash = make_password(DEMO_PASSWORD)
    now = timezone.now()
    staff: dict[str, User] = {}
    for local, display, role_names, ward_index, note in STAFF:
        ward = wards[ward_index]
        user, _created = User.objects.get_or_create(
            email=f"{local}@{DEMO_DOMAIN}",
            defaults={
                "display_name": display,
                "password": password_hash,
                "ward": ward,
                "postcode": f"{WARDS[ward_index][2][0]} 1AA",
                "email_verified_at": now,
                "is_staff": local in {"councillor", "officer"},
            },
        )
        for role in role_names:
            roles.grant(user, role)
        staff[local] = user
        ctx.logins.append((local, user.email, note))
    officer = staff["officer"]
    officer.is_superuser = True
    officer.save(update_fields=["is_superuser"])
    ctx.made["staff"] = staff

    # Residents, in bulk. Emails are numbered so the run is idempotent and deterministic.
    count = 300 * ctx.scale
    existing = set(
        User.objects.filter(email__startswith="resident-", email__endswith=f"@{DEMO_DOMAIN}").values_list(
            "email", flat=True
        )
    )
    new_users = []
    for i in range(count):
        email = f"resident-{i:05d}@{DEMO_DOMAIN}"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        ward_index = rng.randrange(len(wards))
        if email in existing:
            continue
        new_users.append(
            User(
                email=email,
                display_name=f"{first} {last[0]}.",
                password=password_hash,
                ward=wards[ward_index],
                postcode=_postcode(rng, WARDS[ward_index][2][0]),
                email_verified_at=now,
            )
        )
    User.objects.bulk_create(new_users, batch_size=1000)
    residents_group = Group.objects.get_or_create(name=roles.RESIDENT)[0]
    resident_ids = list(
        User.objects.filter(email__startswith="resident-", email__endswith=f"@{DEMO_DOMAIN}")
        .order_by("email")
        .values_list("pk", flat=True)
    )
    through = User.groups.through
    have_group = set(
        through.objects.filter(group=residents_group, user_id__in=resident_ids).values_list(
            "user_id", flat=True
        )
    )
    through.objects.bulk_create(
        [through(user_id=pk, group_id=residents_group.pk) for pk in resident_ids if pk not in have_group],
        batch_size=1000,
    )
    ctx.made["resident_ids"] = resident_ids

    # Two expert panels; the demo panel member sits on both, the councillor chairs the first.
    transport, _ = Panel.objects.get_or_create(
        name="Transport and Streets Panel",
        defaults={"remit": "Advises on road safety, parking, buses and active travel schemes."},
    )
    budget, _ = Panel.objects.get_or_create(
        name="Budget Scrutiny Panel",
        defaults={"remit": "Reviews spending proposals before they go to a vote."},
    )
    for panel in (transport, budget):
        PanelMembership.objects.get_or_create(
            panel=panel,
            user=staff["panel"],
            defaults={"role": PanelMembership.Role.EXPERT, "expertise": "Transport planning"},
        )
    PanelMembership.objects.get_or_create(
        panel=transport, user=staff["councillor"], defaults={"role": PanelMembership.Role.CHAIR}
    )
    for pk in resident_ids[:4]:
        PanelMembership.objects.get_or_create(
            panel=budget,
            user_id=pk,
            defaults={"role": PanelMembership.Role.EXPERT, "expertise": "Community finance"},
        )
    ctx.made["panels"] = {"transport": transport, "budget": budget}

    volunteer, _ = Volunteer.objects.get_or_create(
        user=staff["volunteer"], defaults={"registered_by": officer}
    )
    volunteer.wards.set(wards[:4])
    ctx.say(f"    {len(wards)} wards, {len(resident_ids)} residents, 2 panels, 1 volunteer")
