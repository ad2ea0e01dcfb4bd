"""The realtime components as template tags, mirroring the seed's React props.

    {% connection_status variant="badge" show_label=True %}
    {% toast type="job" title="New appointment" message="..." action_url="/portal/appointments/#job-1" %}
    {% multi_subscription_status topics %}
    {% realtime_announcer %}

docs/components.md documents every argument and shows every state. The page's script
(`static/realtime/realtime.js`) sets `data-state` on the live instances and swaps their text
from the `data-label-*` attributes rendered here, so every word stays in the templates. The
components are not live regions; `realtime_announcer` is the page's one, spoken once per state
change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from realtime import registry

register = template.Library()

VARIANTS = ("default", "compact", "badge")
STATES = ("connecting", "live", "reconnecting", "offline", "error")
TOAST_TYPES = ("job", "invoice", "message", "loyalty", "info")

# (label, description); `{s}` in a reconnecting text is replaced by the seconds to the next try.
STATE_TEXTS = {
    "connecting": ("Connecting…", "Setting up live updates."),
    "live": ("Live", "Changes appear here as they happen."),
    "reconnecting": ("Reconnecting in {s}s", "The connection dropped. Trying again in {s} seconds."),
    "offline": ("Offline", "You are offline. Updates resume when you reconnect."),
    "error": ("Not connected", "Live updates are unavailable. Refresh the page or log in again."),
}

# What the announcer says when the connection changes state; "" says nothing. Connecting
# comes first on every page load and before every retry: not news.
ANNOUNCEMENTS = {
    "connecting": "",
    "live": "Live updates are on.",
    "reconnecting": "Connection lost. Reconnecting.",
    "offline": "You are offline. Updates resume when you reconnect.",
    "error": "Live updates are unavailable. Refresh the page or log in again.",
}
RETRY_LABEL = "Retry now"

SUBSCRIPTION_TEXTS = {
    "connecting": "Connecting",
    "live": "Live",
    "reconnecting": "Reconnecting",
    "offline": "Offline",
    "error": "Error",
    "inactive": "Not on this page",
}


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise template.TemplateSyntaxError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _texts(state: str, retry_seconds: int) -> tuple[str, str]:
    label, description = STATE_TEXTS[state]
    return label.replace("{s}", str(retry_seconds)), description.replace("{s}", str(retry_seconds))


@register.inclusion_tag("realtime/_connection_status.html")
def connection_status(
    variant: str = "default",
    show_label: bool = True,
    state: str = "connecting",
    static: bool = False,
    retry_seconds: int = 5,
    css_class: str = "",
    retry: bool = False,
) -> dict[str, Any]:
    """Connection status: `variant` default (card), compact (dot and text) or badge (pill).

    `state` is the first one shown (the script takes over unless `static`); `show_label=False`
    keeps the text for screen readers only; `retry=True` adds a "Retry now" button, shown while
    reconnecting or offline, that reconnects at once.
    """
    state = _choice(state, STATES, "state")
    label, description = _texts(state, retry_seconds)
    return {
        "variant": _choice(variant, VARIANTS, "variant"),
        "show_label": show_label,
        "state": state,
        "static": static,
        "label": label,
        "description": description,
        "texts": [(name, *STATE_TEXTS[name]) for name in STATES],
        "css_class": css_class,
        "retry": retry,
        "retry_label": RETRY_LABEL,
    }


@register.inclusion_tag("realtime/_announcer.html")
def realtime_announcer() -> dict[str, Any]:
    """The page's one live region for the connection (`#realtime-announcer`, visually hidden)."""
    return {"texts": ANNOUNCEMENTS.items()}


@register.inclusion_tag("realtime/_toast.html")
def toast(
    type: str = "info",  # the seed's prop name
    title: str = "",
    message: str = "",
    action_url: str = "",
    action_label: str = "View details",
    key: str = "",
) -> dict[str, Any]:
    """One toast; put it in the page's `#toasts` region (the live endpoint does). A `key` names
    the record it is about: a newer toast with the same key replaces it (static/portal/toasts.js)."""
    return {
        "type": _choice(type, TOAST_TYPES, "type"),
        "title": title,
        "message": message,
        "action_url": action_url,
        "action_label": action_label,
        "key": key,
    }


@register.inclusion_tag("realtime/_multi_subscription_status.html")
def multi_subscription_status(
    topics: str | Iterable[str],
    states: dict[str, str] | None = None,
    static: bool = False,
    element_id: str = "subscription-status",
    compact: bool = False,
) -> dict[str, Any]:
    """Each topic of the registry with its state, and "N/5 active".

    `compact` folds it into one line ("Live updates · 5/5 active") that expands to the list
    (a `<details>`), for a page whose header badge already shows the connection.

    `topics` are the ones this page subscribes to (a space-separated string or a list); the
    others show "Not on this page". `states` (topic -> state) is for the components demo.
    """
    if isinstance(topics, str):
        topics = topics.split()
    subscribed = set(topics)
    states = states or {}
    rows = []
    for entry in registry.entries():
        state = states.get(entry.topic) or ("connecting" if entry.topic in subscribed else "inactive")
        rows.append(
            {"topic": entry.topic, "label": entry.label, "state": state, "text": SUBSCRIPTION_TEXTS[state]}
        )
    return {
        "rows": rows,
        "active": sum(1 for row in rows if row["state"] == "live"),
        "total": len(rows),
        "static": static,
        "element_id": element_id,
        "compact": compact,
        # The folded form's one dot until the client takes over: the first topic not live.
        "state": next(
            (row["state"] for row in rows if row["state"] not in ("live", "inactive")),
            "live" if any(row["state"] == "live" for row in rows) else "connecting",
        ),
        "texts": SUBSCRIPTION_TEXTS.items(),
    }
