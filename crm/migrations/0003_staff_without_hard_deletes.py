"""Staff stop hard-deleting history: customers, invoices, points rows and messages.

Invoices are voided, jobs cancelled, points corrected with an adjustment and messages soft-deleted,
all through crm.services; a superuser can still erase a row. The policy itself is in crm.roles;
applying it again gives the same group.
"""

from django.db import migrations

from crm.roles import STAFF_GROUP, staff_permissions

HARD_DELETES = ("delete_customer", "delete_invoice", "delete_loyaltytransaction", "delete_message")


def apply_staff_policy(apps, schema_editor):
    db_alias = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.using(db_alias).filter(name=STAFF_GROUP).first()
    if group is not None:
        group.permissions.set(staff_permissions(Permission, using=db_alias))


def restore_hard_deletes(apps, schema_editor):
    db_alias = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.using(db_alias).filter(name=STAFF_GROUP).first()
    if group is not None:
        group.permissions.add(
            *Permission.objects.using(db_alias).filter(
                content_type__app_label="crm", codename__in=HARD_DELETES
            )
        )


class Migration(migrations.Migration):
    dependencies = [("crm", "0002_staff_group")]

    operations = [migrations.RunPython(apply_staff_policy, restore_hard_deletes)]
