"""The check every service test uses: an action refuses with this DomainError code."""

from __future__ import annotations

import pytest

from crm.services import DomainError


def refuses(code: str, action, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        action(**kwargs)
    assert caught.value.code == code
    assert str(caught.value)  # a message for a person
    return caught.value
