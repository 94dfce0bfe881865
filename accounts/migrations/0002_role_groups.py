"""The platform's roles as groups.

Wagtail's own migrations make an "Editors" group and a "Moderators" group that may use the admin
and edit every page. Townhall's moderators are discussion moderators, not page editors, and must
have no admin access; so Wagtail's "Editors" group goes and its "Moderators" group loses every
admin permission. Councillors and officers may use the admin; which pages they may edit and publish
is granted on the consultation index when it is created.
"""

from django.db import migrations

ROLES = ["Residents", "Councillors", "Moderators", "Officers"]
ADMIN_ROLES = ["Councillors", "Officers"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")

    Group.objects.filter(name="Editors").delete()
    moderators = Group.objects.filter(name="Moderators").first()
    if moderators is not None:
        moderators.permissions.clear()
        GroupPagePermission.objects.filter(group=moderators).delete()
        GroupCollectionPermission.objects.filter(group=moderators).delete()

    access_admin = Permission.objects.filter(
        content_type__app_label="wagtailadmin", codename="access_admin"
    ).first()
    for name in ROLES:
        group, _created = Group.objects.get_or_create(name=name)
        if name in ADMIN_ROLES and access_admin is not None:
            group.permissions.add(access_admin)

    # Wagtail's default approval task names the Moderators group: officers approve instead.
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    officers = Group.objects.get(name="Officers")
    for task in GroupApprovalTask.objects.all():
        task.groups.set([officers])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailimages", "0027_image_description"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
