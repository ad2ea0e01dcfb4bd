"""Who may watch which customer: the rule the consumer, the hub's sweep and the snapshot API share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string

from realtime import registry
from realtime.protocol import CloseCode

_DB_SESSION_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def watchable(
    user: AbstractUser | AnonymousUser | None, requested: int | None = None
) -> QuerySet[Any] | None:
    """The customer row this user may watch (a query of at most one row), or None.

    Without `requested`: the user's own customer. With it: that customer, if it is the user's
    own or the user is active staff holding the owner model's view permission.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    owner = registry.owner()
    rows = owner.model._default_manager.all()
    if requested is None:
        return rows.filter(**{owner.user_field: user})
    if user.is_staff and user.has_perm(owner.view_permission):
        return rows.filter(pk=requested)
    return rows.filter(pk=requested, **{owner.user_field: user})


def customer_for(user: AbstractUser | AnonymousUser | None, requested: int | None = None) -> int | None:
    """The customer this user may watch (see `watchable`), or None."""
    rows = watchable(user, requested)
    return None if rows is None else rows.values_list("pk", flat=True).first()


@dataclass(frozen=True)
class Grant:
    """What a socket was let in with: its user, login session and customer."""

    user_id: int
    session_key: str | None
    requested: int | None  # the `?customer=` a staff socket asked for
    customer_id: int


def check_all(grants: list[Grant]) -> list[CloseCode | None]:
    """For each grant, the close code if it no longer holds, else None: the same rule as
    `customer_for` and as an HTTP request with the session's cookie, in a few queries for all."""
    user_ids = {grant.user_id for grant in grants}
    users: dict[Any, AbstractUser] = {
        user.pk: user for user in get_user_model()._default_manager.filter(pk__in=user_ids)
    }
    session_users = _session_users({g.session_key for g in grants if g.session_key}, users)
    owner = registry.owner()
    owned = dict(
        owner.model._default_manager.filter(**{f"{owner.user_field}_id__in": user_ids}).values_list(
            f"{owner.user_field}_id", "pk"
        )
    )
    requested = {grant.requested for grant in grants if grant.requested is not None}
    existing = set(owner.model._default_manager.filter(pk__in=requested).values_list("pk", flat=True))
    # Staff rights go through the auth backends (2 queries per staff user, and staff are few).
    watching = {grant.user_id for grant in grants if grant.requested is not None}
    permitted = {
        pk
        for pk in watching
        if (user := users.get(pk)) is not None and user.is_staff and user.has_perm(owner.view_permission)
    }

    def verdict(grant: Grant) -> CloseCode | None:
        user = users.get(grant.user_id)
        if user is None or not user.is_active:
            return CloseCode.FORBIDDEN
        if grant.session_key and session_users.get(grant.session_key) != grant.user_id:
            # Logout, expiry, a flushed session or a changed password ended the login.
            return CloseCode.UNAUTHENTICATED
        if grant.requested is None or grant.user_id not in permitted:
            allowed = owned.get(grant.user_id)
        else:
            allowed = grant.requested if grant.requested in existing else None
        if grant.requested is not None and grant.requested != allowed:
            return CloseCode.FORBIDDEN
        return None if allowed == grant.customer_id else CloseCode.FORBIDDEN

    return [verdict(grant) for grant in grants]


def _load_sessions(keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The data of these sessions that have not expired (one query with a database engine)."""
    engine = settings.SESSION_ENGINE
    store_class: type[SessionBase] = import_string(engine + ".SessionStore")
    if engine in _DB_SESSION_ENGINES:
        model = store_class.get_model_class()  # type: ignore[attr-defined]
        live = model.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return {row.session_key: store_class().decode(row.session_data) for row in live}
    return {key: data for key in keys if (data := store_class(key).load())}


def _logs_in(data: dict[str, Any], user: AbstractUser | None) -> bool:
    """Whether session data still logs this user in, as `django.contrib.auth.get_user` decides
    (without its side effects): their backend, and the hash of their current password."""
    return (
        user is not None
        and data.get(BACKEND_SESSION_KEY) in settings.AUTHENTICATION_BACKENDS
        and _hash_matches(data.get(HASH_SESSION_KEY), user)
    )


def _session_users(keys: Iterable[str], users: dict[Any, AbstractUser]) -> dict[str, Any]:
    """session key -> the user it logs in now, among these users."""
    found = {}
    for key, data in _load_sessions(keys).items():
        user = users.get(_pk(data.get(SESSION_KEY)))
        if user is not None and _logs_in(data, user):
            found[key] = user.pk
    return found


def logins(keys: Iterable[str]) -> dict[str, AbstractUser]:
    """session key -> its active user, for the sessions that log someone in: two queries."""
    sessions = _load_sessions(keys)
    ids = {_pk(data.get(SESSION_KEY)) for data in sessions.values()} - {None}
    users = {user.pk: user for user in get_user_model()._default_manager.filter(pk__in=ids, is_active=True)}
    found: dict[str, AbstractUser] = {}
    for key, data in sessions.items():
        user = users.get(_pk(data.get(SESSION_KEY)))
        if user is not None and _logs_in(data, user):
            found[key] = user
    return found


def _pk(value: Any) -> Any:
    return get_user_model()._meta.pk.to_python(value) if value is not None else None


def _hash_matches(session_hash: Any, user: AbstractUser) -> bool:
    if not isinstance(session_hash, str) or not session_hash:
        return False
    return constant_time_compare(session_hash, user.get_session_auth_hash()) or any(
        constant_time_compare(session_hash, fallback) for fallback in user.get_session_auth_fallback_hash()
    )
