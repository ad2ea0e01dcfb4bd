"""Whether each customer has the portal open, for the staff inbox (docs/protocol.md, "The staff
stream": `customer_presence`).

The router announces a changed room to the customer's group (`realtime.router`); it also sends
one small summary here, to a group only staff-stream sockets join: the most present status of
the customer's own portal tabs and the page that tab shows, or `offline`. Staff watching the
customer are in the room too but do not count. Ephemeral like presence: never stored or
numbered; `version` is the room's presence version, so a client keeps the newest.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from channels.layers import BaseChannelLayer

from realtime import presence
from realtime.protocol import PRESENCE_STATUSES, OnlineUser, PresenceStatus

GROUP = "rt.customer-presence"  # joined by staff-stream sockets only
MESSAGE_TYPE = "staff.customer_presence"
MAX_CUSTOMERS = 200  # a snapshot covers at most this many customers


class CustomerPresence(TypedDict):
    customer: int
    status: PresenceStatus | Literal["offline"]
    page: NotRequired[str]
    version: int


class CustomerPresenceFrame(TypedDict):
    type: Literal["customer_presence"]
    customers: list[CustomerPresence]


def summary(
    customer_id: int, online: dict[str, OnlineUser] | dict[str, dict[str, Any]], version: int
) -> CustomerPresence:
    """The customer's own most present tab in a room's `online` map, or offline."""
    own = [user for user in online.values() if user["role"] == "customer"]
    if not own:
        return {"customer": customer_id, "status": "offline", "version": version}
    best = min(own, key=lambda user: PRESENCE_STATUSES.index(user["status"]))
    result: CustomerPresence = {"customer": customer_id, "status": best["status"], "version": version}
    if "page" in best:
        result["page"] = best["page"]
    return result


def frame(customers: list[CustomerPresence]) -> CustomerPresenceFrame:
    return {"type": "customer_presence", "customers": customers}


async def announce(layer: BaseChannelLayer, customer_id: int, online: dict[str, Any], version: int) -> None:
    """Tell staff-stream sockets what the room's new state means for the inbox."""
    customers = [summary(customer_id, online, version)]
    await layer.group_send(GROUP, {"type": MESSAGE_TYPE, "frame": frame(customers)})


async def current(customer_ids: list[int]) -> CustomerPresenceFrame:
    """The present state of (at most `MAX_CUSTOMERS` of) these customers, from the store."""
    wanted = list(dict.fromkeys(customer_ids))[:MAX_CUSTOMERS]
    rooms = await presence.store().online_many(wanted)  # one round trip for all of them
    return frame([summary(customer_id, *rooms[customer_id]) for customer_id in wanted])
