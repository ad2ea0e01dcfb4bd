"""Who may do what in the staff CRM: the "Staff" group and the permissions it holds.

Staff get every permission on the CRM models except two kinds. User management: the user change
form edits is_superuser and permissions, so `change_user` would let any staff member make
themselves a superuser (they may still view logins, to link a customer's portal user). And hard
deletes of records that are history: a customer, an invoice (void it), a points row (correct it
with an adjustment) and a message (the admin's delete is a soft delete, a change). Staff keep
`delete_job`, for a booking made by mistake; the portal shows it as `job.deleted`. Calendar feeds
are not staff's at all: a feed's token is the customer's credential, made in the portal. Nor are
digest cursors: `manage.py send_notifications`'s bookkeeping. Appointment requests and inbox
items are handled on the inbox page (crm.admin.inbox), through their services, with the rights
of what they change (crm.view_customer, add_message, change_job).
"""

from __future__ import annotations

from typing import Any

STAFF_GROUP = "Staff"

STAFF_WITHHELD_CODENAMES = (
    "add_user",
    "change_user",
    "delete_user",
    "delete_customer",
    "delete_invoice",
    "delete_loyaltytransaction",
    "delete_message",
    "view_calendarfeed",
    "add_calendarfeed",
    "change_calendarfeed",
    "delete_calendarfeed",
    "view_digestcursor",
    "add_digestcursor",
    "change_digestcursor",
    "delete_digestcursor",
    # Requests and the inbox change only through the inbox page's services, never an admin form;
    # the staff stream's log and counter are bookkeeping.
    *(
        f"{action}_{model}"
        for model in ("appointmentrequest", "inboxitem", "staffevent", "staffsequence")
        for action in ("view", "add", "change", "delete")
    ),
)


def staff_permissions(permission_model: Any, using: str = "default") -> Any:
    """The Staff group's permissions, as a queryset of `permission_model`.

    Takes the model so that data migrations can pass their historical `auth.Permission`.
    """
    return (
        permission_model.objects.using(using)
        .filter(content_type__app_label="crm")
        .exclude(codename__in=STAFF_WITHHELD_CODENAMES)
    )
