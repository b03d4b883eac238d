"""X5: the one consent rule every sender asks (domain/consent.py)."""

import pytest
from revisit.domain.consent import may_send, refusal, refuses_all
from revisit.models.common import Channel, MessageKind
from revisit.models.entities import AttemptOutcome

from tests.conftest import make_patient

NO_CONSENT, NO_ADDRESS = AttemptOutcome.SKIPPED_NO_CONSENT, AttemptOutcome.SKIPPED_NO_ADDRESS


@pytest.mark.parametrize(("changes", "channel", "kind", "expected"), [
    ({}, Channel.SMS, MessageKind.RECALL, None),
    ({}, Channel.EMAIL, MessageKind.MARKETING, None),
    ({"sms_consent": False}, Channel.SMS, MessageKind.CARE, NO_CONSENT),
    ({"sms_consent": False}, Channel.EMAIL, MessageKind.CARE, None),
    ({"phone": None}, Channel.SMS, MessageKind.CARE, NO_ADDRESS),
    ({"phone": None}, Channel.CALL_TASK, MessageKind.RECALL, NO_ADDRESS),
    ({"email": None}, Channel.EMAIL, MessageKind.RECALL, NO_ADDRESS),
    ({"email_consent": False}, Channel.EMAIL, MessageKind.RECALL, NO_CONSENT),
    ({"opted_out": True}, Channel.SMS, MessageKind.CARE, NO_CONSENT),
    ({"opted_out": True}, Channel.MANUAL_REVIEW, MessageKind.RECALL, NO_CONSENT),
    ({"unsubscribed": [MessageKind.MARKETING]}, Channel.EMAIL, MessageKind.MARKETING, NO_CONSENT),
    ({"unsubscribed": [MessageKind.MARKETING]}, Channel.SMS, MessageKind.MARKETING, NO_CONSENT),
    ({"unsubscribed": [MessageKind.MARKETING]}, Channel.EMAIL, MessageKind.RECALL, None),
    ({"unsubscribed": [MessageKind.RECALL]}, Channel.SMS, MessageKind.CARE, None),
])
def test_each_layer_of_consent(changes, channel, kind, expected):
    patient = make_patient().model_copy(update=changes)
    assert refusal(patient, channel, kind) == expected
    assert may_send(patient, channel, kind) == (expected is None)


def test_recall_ends_for_a_patient_who_refused_recall_or_everything():
    assert refuses_all(make_patient(unsubscribed=[MessageKind.RECALL]), MessageKind.RECALL)
    assert refuses_all(make_patient(opted_out=True), MessageKind.CARE)
    assert not refuses_all(make_patient(unsubscribed=[MessageKind.MARKETING]), MessageKind.RECALL)
