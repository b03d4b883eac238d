"""Reactivation campaigns (A5, A8): the campaign, its patients (in its partition: the results are one
Query) and the lock that keeps a patient in one campaign at a time."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from revisit.adapters import dynamo_keys as keys
from revisit.adapters.dynamo.items import from_item, to_item, translated_errors
from revisit.errors import Conflict, NotFound, TransientError
from revisit.models.entities import Campaign, CampaignMember


class CampaignRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    def create(self, campaign: Campaign) -> bool:
        """The campaign and its listing entry; False if a campaign with this id exists."""
        writes = [{"Put": {"TableName": self._table.name, "Item": keys.campaign(campaign.campaign_id) | to_item(campaign),
                           "ConditionExpression": "attribute_not_exists(pk)"}},
                  {"Put": {"TableName": self._table.name,
                           "Item": keys.campaign_listing(campaign.campaign_id) | to_item(campaign)}}]
        try:
            with translated_errors("campaign", campaign.campaign_id):
                self._table.meta.client.transact_write_items(TransactItems=writes)
        except Conflict:
            return False
        return True

    def save(self, campaign: Campaign) -> None:
        with translated_errors("campaign", campaign.campaign_id):
            self._table.put_item(Item=keys.campaign(campaign.campaign_id) | to_item(campaign))
            self._table.put_item(Item=keys.campaign_listing(campaign.campaign_id) | to_item(campaign))

    def get(self, campaign_id: str) -> Campaign:
        item = self._table.get_item(Key=keys.campaign(campaign_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("campaign", campaign_id)
        return from_item(Campaign, item)

    def all(self) -> list[Campaign]:
        page = self._table.query(KeyConditionExpression=Key(keys.PK).eq(keys.campaigns_partition()))
        return [from_item(Campaign, item) for item in page.get("Items", [])]

    def add_member(self, member: CampaignMember) -> bool:
        """False if the patient is in this campaign already (a selection run again)."""
        try:
            with translated_errors("campaign member", member.patient_id):
                self._table.put_item(Item=keys.campaign_member(member.campaign_id, member.patient_id) | to_item(member),
                                     ConditionExpression=Attr(keys.PK).not_exists())
        except Conflict:
            return False
        return True

    def save_member(self, member: CampaignMember) -> CampaignMember:
        """Writes a member changed from the one read (its `version`); TransientError if something wrote it
        meanwhile: the caller (a Step Functions retry, the integrator on a 503) reads it again."""
        stored = member.model_copy(update={"version": member.version + 1})
        try:
            with translated_errors("campaign member", member.patient_id):
                self._table.put_item(Item=keys.campaign_member(member.campaign_id, member.patient_id) | to_item(stored),
                                     ConditionExpression=Attr("version").eq(member.version)
                                     | (Attr(keys.PK).exists() & Attr("version").not_exists()))
        except Conflict:
            raise TransientError(f"campaign member {member.patient_id} changed meanwhile") from None
        return stored

    def member(self, campaign_id: str, patient_id: str) -> CampaignMember:
        item = self._table.get_item(Key=keys.campaign_member(campaign_id, patient_id), ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound("campaign member", patient_id)
        return from_item(CampaignMember, item)

    def members(self, campaign_id: str) -> list[CampaignMember]:
        found, start = [], None
        while True:
            kwargs: dict[str, Any] = {"KeyConditionExpression": Key(keys.PK).eq(keys.campaign(campaign_id)[keys.PK])
                                      & Key(keys.SK).begins_with(keys.members_prefix())}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self._table.query(**kwargs)
            found += [from_item(CampaignMember, item) for item in page.get("Items", [])]
            start = page.get("LastEvaluatedKey")
            if not start:
                return found

    def lock(self, patient_id: str, campaign_id: str) -> bool:
        """The patient for this campaign, unless another one holds them (True if this one does already)."""
        try:
            with translated_errors("campaign lock", patient_id):
                self._table.put_item(Item=keys.campaign_lock(patient_id) | {"campaign_id": campaign_id},
                                     ConditionExpression=Attr(keys.PK).not_exists() | Attr("campaign_id").eq(campaign_id))
        except Conflict:
            return False
        return True

    def unlock(self, patient_id: str, campaign_id: str) -> None:
        try:
            with translated_errors("campaign lock", patient_id):
                self._table.delete_item(Key=keys.campaign_lock(patient_id),
                                        ConditionExpression=Attr("campaign_id").eq(campaign_id))
        except Conflict:
            pass  # another campaign's, or gone already
