"""Who may watch which customer: the rule the consumer and the snapshot API share."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser

from realtime import registry


def own_customer_id(user: AbstractBaseUser) -> int | None:
    owner = registry.owner()
    return (
        owner.model._default_manager.filter(**{owner.user_field: user}).values_list("pk", flat=True).first()
    )


def customer_for(user: AbstractBaseUser, requested: int | None = None) -> int | None:
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
