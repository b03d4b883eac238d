"""Whether a message may go to a patient: the one consent rule every sender asks (X5). Pure.

Three layers, each the patient's own word:
- `opted_out`: no contact of any kind (staff record it when the patient asks);
- `unsubscribed`: kinds refused on every channel (recall or marketing, from an email's one-click link);
- channel consent: `sms_consent` (SMS STOP / START; STOPALL withdraws email too) and `email_consent`.
Care messages (an appointment the patient booked) need only the channel's consent and address."""

from __future__ import annotations

from revisit.models.common import Channel, MessageKind
from revisit.models.entities import AttemptOutcome, Patient


def refusal(patient: Patient, channel: Channel, kind: MessageKind) -> AttemptOutcome | None:
    """None if the message may go; otherwise why not, as the attempt log records it."""
    if patient.opted_out or kind in patient.unsubscribed:
        return AttemptOutcome.SKIPPED_NO_CONSENT
    if channel == Channel.SMS:
        if not patient.phone or patient.phone_invalid:
            return AttemptOutcome.SKIPPED_NO_ADDRESS
        return None if patient.sms_consent else AttemptOutcome.SKIPPED_NO_CONSENT
    if channel == Channel.EMAIL:
        if not patient.email:
            return AttemptOutcome.SKIPPED_NO_ADDRESS
        return None if patient.email_consent else AttemptOutcome.SKIPPED_NO_CONSENT
    if channel == Channel.CALL_TASK and (not patient.phone or patient.phone_invalid):
        return AttemptOutcome.SKIPPED_NO_ADDRESS
    return None  # staff work on the patient's file needs no consent


def may_send(patient: Patient, channel: Channel, kind: MessageKind) -> bool:
    return refusal(patient, channel, kind) is None


def refuses_all(patient: Patient, kind: MessageKind) -> bool:
    """The patient wants nothing of this kind at all: a recall cycle for them ends as opted out."""
    return patient.opted_out or kind in patient.unsubscribed
