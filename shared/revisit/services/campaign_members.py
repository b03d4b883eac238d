"""How a campaign patient's chain ends (A5, A6, A8), shared by the reactivation steps and the front desk's
call outcomes: the member's outcome, the lock released, the patient's reactivation call closed."""

from __future__ import annotations

from datetime import datetime

from revisit import clock
from revisit.errors import NotFound
from revisit.models.entities import CampaignMember, MemberOutcome, TaskStatus
from revisit.services.context import TenantContext

FINAL = {MemberOutcome.RECOVERED, MemberOutcome.RESPONDED, MemberOutcome.NEVER_REACHED, MemberOutcome.OPTED_OUT,
         MemberOutcome.SKIPPED}
ANSWERED = (MemberOutcome.RECOVERED, MemberOutcome.RESPONDED, MemberOutcome.OPTED_OUT)


def call_task_id(campaign_id: str, patient_id: str) -> str:
    return f"react-{campaign_id}-{patient_id}"


def end_member(ctx: TenantContext, member: CampaignMember, outcome: MemberOutcome, why: str,
               responded_at: datetime | None = None, release: bool = True) -> CampaignMember:
    update: dict = {"outcome": outcome, "detail": why}
    if outcome in ANSWERED:
        update |= {"responded_at": responded_at or clock.now(),
                   "responded_after": member.channels_sent[-1] if member.channels_sent else None}
    ended = ctx.tables.campaigns.save_member(member.model_copy(update=update))
    if release:
        ctx.tables.campaigns.unlock(member.patient_id, member.campaign_id)
    # the front desk's call for this patient, if still open, is moot now
    ctx.tables.tasks.close(call_task_id(member.campaign_id, member.patient_id), TaskStatus.CANCELLED, clock.now(),
                           reason=f"campaign: {outcome.value}")
    return ended


def record_answer(ctx: TenantContext, campaign_id: str, patient_id: str, why: str) -> CampaignMember | None:
    """The patient answered (a call reached them, the team noted an answer): their chain ends as responded."""
    try:
        member = ctx.tables.campaigns.member(campaign_id, patient_id)
    except NotFound:
        return None
    if member.outcome in FINAL:
        return member
    return end_member(ctx, member, MemberOutcome.RESPONDED, why)
