"""Officers manage wards, panels and volunteers in the admin."""

from django.db import migrations

MODELS = ["ward", "postcodeprefix", "panel", "panelmembership", "volunteer"]


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; make this app's now so they can be granted.
    app_config = apps.get_app_config("accounts")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    officers, _created = Group.objects.get_or_create(name="Officers")
    perms = Permission.objects.filter(
        content_type__app_label="accounts",
        codename__in=[f"{action}_{model}" for model in MODELS for action in ("add", "change", "delete", "view")],
    )
    officers.permissions.add(*perms)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_admin_panels")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
