"""Customer presence on the staff stream: which customers of the inbox have the portal open.

On subscribe a staff socket gets the present state of the customers of the open items on the
inbox's first pages (`SNAPSHOT_PAGES`, at most `customer_presence.MAX_CUSTOMERS` customers), so a
later page has its dots too; then every change of any customer's presence
(`realtime.customer_presence`), and, with a new item, that item's customer's state, since the
page may not have known them.
"""

from __future__ import annotations

from typing import Any

from crm.inbox_reads import PAGE_SIZE, items
from realtime import customer_presence
from realtime.customer_presence import CustomerPresenceFrame
from realtime.threads import read_in_thread

SNAPSHOT_PAGES = 5


def _open_item_customers() -> list[int]:
    newest = items().values_list("customer_id", flat=True)[: SNAPSHOT_PAGES * PAGE_SIZE]
    return list(dict.fromkeys(newest))[: customer_presence.MAX_CUSTOMERS]


async def snapshot() -> CustomerPresenceFrame:
    """The customers of the open inbox items, as they are now."""
    return await customer_presence.current(await read_in_thread(_open_item_customers)())


def new_item_customers(frames: list[dict[str, Any]]) -> list[int]:
    """Customers of items these change frames create."""
    return [frame["new"]["customer"] for frame in frames if frame.get("op") == "insert" and frame.get("new")]
