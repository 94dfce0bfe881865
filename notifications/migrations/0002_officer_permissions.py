"""Officers edit the wording of each kind of mail in the admin."""

from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; make this app's now so they can be granted.
    app_config = apps.get_app_config("notifications")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    officers, _created = Group.objects.get_or_create(name="Officers")
    perms = Permission.objects.filter(
        content_type__app_label="notifications",
        codename__in=[f"{action}_mailwording" for action in ("add", "change", "delete", "view")],
    )
    officers.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial"), ("accounts", "0004_officer_permissions")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
