"""The djangochannelsrestframework peer: `Job` observed with `@model_observer`, a group per customer.

What a team would write with DCRF for "a customer watches their appointments": log in with the
session, send `{"action": "subscribe_jobs", "request_id": 1}`, then receive each saved job of
the customer as the portal serializer shows it. The observer connects its signals when this
module is imported: the writer process imports it too (bench/writer.py), so saves there
publish on commit.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from djangochannelsrestframework.consumers import AsyncAPIConsumer
from djangochannelsrestframework.decorators import action
from djangochannelsrestframework.observer import model_observer
from djangochannelsrestframework.permissions import IsAuthenticated

from crm.models import Customer, Job
from portal.serializers import JobSerializer


@database_sync_to_async
def customer_of(user: Any) -> int | None:
    return Customer.objects.filter(portal_user=user).values_list("pk", flat=True).first()


class JobPeerConsumer(AsyncAPIConsumer):
    permission_classes = (IsAuthenticated,)

    @model_observer(Job, serializer_class=JobSerializer)
    async def job_activity(
        self, message: dict, observer: Any = None, action: str = "", **kwargs: Any
    ) -> None:
        await self.send_json({"type": "change", "action": action, "new": message})

    @job_activity.groups_for_signal
    def job_activity(self, instance: Job, **kwargs: Any):
        yield f"customer.{instance.customer_id}"

    @job_activity.groups_for_consumer
    def job_activity(self, customer: int, **kwargs: Any):
        yield f"customer.{customer}"

    @action()
    async def subscribe_jobs(self, request_id: Any, **kwargs: Any) -> tuple[dict, int]:
        customer = await customer_of(self.scope["user"])
        if customer is None:
            return {"detail": "no customer for this login"}, 403
        await self.job_activity.subscribe(customer=customer, request_id=request_id)
        return {"customer": customer}, 200
