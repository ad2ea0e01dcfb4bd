"""Helpers the admin tests share: admin URLs, flash messages, running a changelist action."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.urls import reverse


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:crm_{model}_{view}", args=args)


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_action(client, model: str, action: str, objs) -> list[str]:
    response = client.post(
        url(model, "changelist"), {"action": action, "_selected_action": [o.pk for o in objs]}, follow=True
    )
    assert response.status_code == 200
    return texts(response)
