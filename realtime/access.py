"""Who may watch which customer: the rule the consumer and the snapshot API share."""

from __future__ import annotations

from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.utils.module_loading import import_string

from realtime import registry
from realtime.protocol import CloseCode


def own_customer_id(user: AbstractUser) -> int | None:
    owner = registry.owner()
    return (
        owner.model._default_manager.filter(**{owner.user_field: user}).values_list("pk", flat=True).first()
    )


def customer_for(user: AbstractUser | AnonymousUser | None, requested: int | None = None) -> int | None:
    """The customer this user may watch, or None.

    Without `requested`: the user's own customer. With it: that customer, if it is the user's
    own or the user is active staff holding the owner model's view permission.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if requested is None:
        return own_customer_id(user)
    owner = registry.owner()
    if user.is_staff and user.has_perm(owner.view_permission):
        exists = owner.model._default_manager.filter(pk=requested).exists()
        return requested if exists else None
    return requested if own_customer_id(user) == requested else None


def access_lost(
    *, user_id: int, session_key: str | None, requested: int | None, customer_id: int
) -> CloseCode | None:
    """The close code if this socket's user may no longer watch its customer, else None."""
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return CloseCode.FORBIDDEN
    if session_key:
        # What an HTTP request with this cookie would get: logout, expiry, a flushed session
        # and a changed password (the session's auth hash) all end the login.
        store = import_string(settings.SESSION_ENGINE + ".SessionStore")(session_key)
        if get_user(SimpleNamespace(session=store)).pk != user_id:  # type: ignore[arg-type]
            return CloseCode.UNAUTHENTICATED
    if customer_for(user, requested) != customer_id:
        return CloseCode.FORBIDDEN
    return None
