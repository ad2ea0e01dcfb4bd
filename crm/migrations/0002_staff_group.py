"""The "Staff" group: every permission on the CRM models, except managing user accounts.

Permissions are normally created by a post_migrate signal, after all migrations have run, so on a
fresh database they do not exist yet here; create_permissions makes them first. Re-running (or
migrating back and forth) gives the same group with the same permissions.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from crm.roles import STAFF_GROUP as GROUP_NAME

# Staff may look up logins (to link a customer's portal user) but not create, edit or delete
# accounts: the user change form edits is_superuser and permissions, so change_user would let
# any staff member make themselves a superuser.
USER_CODENAMES_EXCLUDED = ("add_user", "change_user", "delete_user")


def create_staff_group(apps, schema_editor):
    db_alias = schema_editor.connection.alias
    crm_config = apps.get_app_config("crm")
    models_module = getattr(crm_config, "models_module", None)
    crm_config.models_module = True  # the migration state has no models module; create_permissions needs one
    try:
        create_permissions(crm_config, apps=apps, verbosity=0, using=db_alias)
    finally:
        crm_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(db_alias).get_or_create(name=GROUP_NAME)
    permissions = (
        Permission.objects.using(db_alias)
        .filter(content_type__app_label="crm")
        .exclude(codename__in=USER_CODENAMES_EXCLUDED)
    )
    group.permissions.set(permissions)


def remove_staff_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_staff_group, remove_staff_group)]
