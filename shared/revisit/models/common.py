"""Small value types shared by every model."""

import unicodedata
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, EmailStr, StringConstraints


class Language(StrEnum):
    EN = "en"
    ES = "es"
    BG = "bg"
    RU = "ru"


class Channel(StrEnum):
    """A rung of the contact ladder. The first two reach the patient; the rest are staff work."""

    SMS = "sms"
    EMAIL = "email"
    CALL_TASK = "call_task"
    MANUAL_REVIEW = "manual_review"
    ADMIN_TASK = "admin_task"

    @property
    def reaches_patient(self) -> bool:
        return self in (Channel.SMS, Channel.EMAIL)


class MessageKind(StrEnum):
    """What a message is for: a patient may refuse one kind and keep the others (X5)."""

    CARE = "care"
    """About an appointment the patient made: confirmation, reminders, instructions, answers to replies."""
    RECALL = "recall"
    """Asks the patient to come back: the recall ladder."""
    MARKETING = "marketing"
    """Campaigns to patients who have not asked for anything (reactivation)."""


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    HYGIENIST = "hygienist"
    LEAD_DENTIST = "lead_dentist"
    OFFICE_ADMIN = "office_admin"
    ADMINISTRATOR = "administrator"
    SENIOR_REGISTRAR = "senior_registrar"
    REGISTRAR = "registrar"


def _e164(value: str) -> str:
    import phonenumbers  # here, not at import: 14 ms of every cold start (issue 14)

    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number in E.164 form (+<country><number>): {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


PhoneE164 = Annotated[str, AfterValidator(_e164)]
Email = EmailStr
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
"""Ids that appear in keys and execution names: lower-case, digits, dashes; never personal data."""


def _plain_text(value: str) -> str:
    """Text that reaches messages, subjects and shared screens: no control characters (NUL, newlines),
    no invisible formatting (right-to-left overrides, zero-width characters), no line separators."""
    for character in value:
        if unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp"):
            raise ValueError(f"contains the invisible or control character U+{ord(character):04X}")
    if value != value.strip():
        raise ValueError("starts or ends with blank space")
    return value


PlainText = Annotated[str, AfterValidator(_plain_text)]
"""Names and other free text that ends up in an SMS, an email subject or a report."""
