"""Evented access loss: signal receivers that make sockets re-check or close within a second.

A user's save (deactivation, losing `is_staff`, a password change), permission and group
changes, a user's deletion and a logout each reach the affected sockets through the channel
layer after commit. A customer's login moving to another user is noticed by capture, which
already reads the stored row (`realtime.capture`). The periodic check catches the rest.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest

from realtime import publish
from realtime.protocol import CloseCode


def _on_user_saved(
    sender: type[AbstractBaseUser],
    instance: AbstractBaseUser,
    created: bool = False,
    raw: bool = False,
    update_fields: frozenset[str] | None = None,
    **kwargs: Any,
) -> None:
    # A login only touches last_login; anything else may end access, so the sockets re-check.
    if created or raw or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    publish.recheck_user_sockets_on_commit(instance.pk)


def _on_permissions_changed(sender: type[Any], action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        publish.recheck_watchers_on_commit()


def _on_user_deleted(sender: type[AbstractBaseUser], instance: AbstractBaseUser, **kwargs: Any) -> None:
    publish.close_user_sockets_on_commit(instance.pk, int(CloseCode.FORBIDDEN))


def _on_logged_out(
    sender: type[Any], request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: Any
) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        publish.close_session_sockets(session_key, int(CloseCode.UNAUTHENTICATED))


def connect_signals() -> None:
    user_model = get_user_model()
    post_save.connect(_on_user_saved, sender=user_model, dispatch_uid="realtime.user_saved")
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            _on_permissions_changed, sender=through, dispatch_uid=f"realtime.perms.{through._meta.label}"
        )
    post_delete.connect(_on_user_deleted, sender=user_model, dispatch_uid="realtime.user_deleted")
    user_logged_out.connect(_on_logged_out, dispatch_uid="realtime.logged_out")
