"""How many SMS segments a text costs. GSM-7 fits 160 characters (153 per part when split);
one character outside it (any Cyrillic letter) makes the whole text UCS-2: 70, or 67 per part."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")  # each costs an escape plus the character


@dataclass(frozen=True)
class SmsSegments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


# Characters outside GSM-7 that have a GSM-7 look-alike. One of them turns a whole SMS into UCS-2 (70
# characters a segment instead of 160): a Spanish 'vacío' costs three segments where 'vacio' costs one.
GSM7_LOOK_ALIKES = str.maketrans({
    "á": "a", "í": "i", "ó": "o", "ú": "u", "Á": "A", "Í": "I", "Ó": "O", "Ú": "U", "â": "a", "ê": "e",
    "î": "i", "ô": "o", "û": "u", "ë": "e", "ï": "i", "ç": "Ç", "ã": "a", "õ": "o", "‘": "'", "’": "'",
    "‚": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "–": "-", "—": "-", "…": "...",
    "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})


LATIN_WITHOUT_DECOMPOSITION = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "ı": "i", "œ": "oe",
                                             "Œ": "OE", "þ": "th", "ð": "d"})


def fold_to_gsm7(text: str) -> str:
    """Latin letters and punctuation folded to their GSM-7 look-alikes (a name like Łukasz or Nguyễn too: the
    letter without its marks); anything else (Cyrillic) left as is."""
    folded = text.translate(GSM7_LOOK_ALIKES).translate(LATIN_WITHOUT_DECOMPOSITION)
    return "".join(ch if ch in GSM7_BASIC or ch in GSM7_EXTENSION else _base_letter(ch) for ch in folded)


def _base_letter(ch: str) -> str:
    """A Latin letter with marks (ễ, ș, ř) as its GSM-7 base letter; any other character unchanged."""
    if "LATIN" not in unicodedata.name(ch, ""):
        return ch
    base = unicodedata.normalize("NFKD", ch)[0]
    return base if base in GSM7_BASIC else ch


def sms_segments(text: str) -> SmsSegments:
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    if units <= single:
        return SmsSegments(encoding, units, 1 if units else 0)
    return SmsSegments(encoding, units, -(-units // part))


SEGMENT_BUDGET = {"GSM-7": 1, "UCS-2": 2}
"""X6: what one SMS may cost. One GSM-7 segment (English, Spanish once folded); two UCS-2 segments for
Cyrillic, where one holds only 70 characters."""


SMS_LINK_BASE_MAX = 32
"""X6: an SMS carries the booking link only from a public address this short (a custom domain such as
https://book.smilecircle.com, 28): the recall SMS then stays within one segment more than without."""
LINKED_TEMPLATES = frozenset({"recall_sms", "appointment_confirmation_sms", "appointment_reminder_sms"})
"""X11: the SMS that may carry the patient's link (to book, or to change or cancel the appointment), which
costs one segment more."""


def segment_budget(template: str, encoding: str, link: bool = True) -> int:
    """The same for every template, plus one segment where it carries the booking link (a short custom
    domain's: services/booking_links.py): what varies (names, labels, instructions, the link's address) has a
    length limit in the tenant file that keeps the longest rendering within it (tests/unit/test_sms_budget.py)."""
    return SEGMENT_BUDGET[encoding] + (1 if link and template in LINKED_TEMPLATES else 0)


def sms_country(phone: str) -> str | None:
    """The country an E.164 number belongs to (ISO 3166 alpha-2), or None if no country claims it."""
    import phonenumbers  # here, not at import (cold start)

    return phonenumbers.region_code_for_number(phonenumbers.parse(phone))


def sms_cost(country: str, segments: int, price_per_segment: dict[str, Decimal]) -> Decimal | None:
    """List price of a message, or None where no price is known (then it is not sent)."""
    price = price_per_segment.get(country)
    return None if price is None else price * segments
