"""The row lists the portal pages show: the one place that says which fragment renders a
topic's rows, how each list is sorted, and which lists page ("Show older").

Element ids are the DOM contract of docs/components.md: rows `#<prefix>-<id>`, lists as below.
"""

from __future__ import annotations

from dataclasses import dataclass

# The row fragment of each topic: the same file the pages, the live endpoint and the list
# endpoints include.
ROW_TEMPLATES = {
    "jobs": "portal/_job_row.html",
    "invoices": "portal/_invoice_row.html",
    "messages": "portal/_message_row.html",
    "loyalty": "portal/_loyalty_row.html",
}
ROW_PREFIX = {"jobs": "job", "invoices": "invoice", "messages": "message", "loyalty": "loyalty"}


@dataclass(frozen=True)
class RowList:
    list_id: str
    topic: str
    descending: bool  # newest (or latest start) first; messages read oldest first

    @property
    def template(self) -> str:
        return ROW_TEMPLATES[self.topic]


LISTS = {
    row_list.list_id: row_list
    for row_list in (
        RowList("jobs-upcoming", "jobs", descending=False),
        RowList("jobs-past", "jobs", descending=True),
        RowList("invoice-list", "invoices", descending=True),
        RowList("message-list", "messages", descending=False),
        RowList("loyalty-list", "loyalty", descending=True),
    )
}

# Long lists show the latest few and a "Show older" control that fetches the next page.
PAGE_SIZES = {"message-list": 20, "invoice-list": 10, "loyalty-list": 10}
