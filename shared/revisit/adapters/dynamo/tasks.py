"""Staff tasks and the sparse work-queue index (open tasks per clinic and role, oldest due first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, to_item, translated_errors
from revisit.errors import Conflict, NotFound
from revisit.models.entities import StaffTask, TaskStatus


class TaskRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, task: StaffTask) -> bool:
        """False if a task with this id exists already (task ids are deterministic: retries create one)."""
        item = keys.task(task.task_id) | to_item(task)
        if task.status == TaskStatus.OPEN:
            item |= keys.queue_entry(task.clinic_id, task.role.value, task.due_at, task.task_id)
        try:
            with translated_errors("task", task.task_id):
                self._table.put_item(Item=item, ConditionExpression=Attr(keys.PK).not_exists())
        except Conflict:
            return False
        return True

    def get(self, task_id: str) -> StaffTask:
        item = self._table.get_item(Key=keys.task(task_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("task", task_id)
        return from_item(StaffTask, item)

    def close(self, task_id: str, status: TaskStatus, at: datetime, result: str | None = None, reason: str | None = None,
              outcome_after_cancel: bool = False) -> bool:
        """Once: False if the task is closed already. With `outcome_after_cancel`, a task cancelled with no
        result (a call whose booking ended the recall first) takes the outcome recorded after."""
        values: dict[str, Any] = {":s": status.value, ":at": at.isoformat(), ":open": TaskStatus.OPEN.value}
        sets = ["#status = :s", "closed_at = :at"]
        if result:
            sets.append("#result = :r")
            values[":r"] = result
        if reason:
            sets.append("reason = :why")
            values[":why"] = reason
        try:
            with translated_errors("task", task_id):
                self._table.update_item(
                    Key=keys.task(task_id),
                    UpdateExpression="SET " + ", ".join(sets) + " REMOVE queue_pk, queue_sk",
                    ConditionExpression="#status = :open" + (
                        " OR (#status = :cancelled AND attribute_not_exists(#result))" if outcome_after_cancel else ""),
                    ExpressionAttributeNames={"#status": "status",
                                              **({"#result": "result"} if result or outcome_after_cancel else {})},
                    ExpressionAttributeValues=values | ({":cancelled": TaskStatus.CANCELLED.value}
                                                        if outcome_after_cancel else {}),
                )
        except Conflict:
            return False
        return True

    def open_queue(self, clinic_id: str, role: str, limit: int = 100) -> list[StaffTask]:
        """The role's work queue at one clinic, oldest due first."""
        page = self._table.query(
            IndexName=keys.QUEUE_INDEX,
            KeyConditionExpression=Key("queue_pk").eq(keys.queue_partition(clinic_id, role)),
            Limit=limit,
        )
        return [from_item(StaffTask, i) for i in page.get("Items", [])]
