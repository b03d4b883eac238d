"""The raw email the SES adapter builds: non-ASCII subjects encoded, RFC 8058 headers readable as they are."""

from email import message_from_bytes, policy

from revisit.adapters.messaging import _mime
from revisit.ports import EmailMessage

LINK = "https://api.example.org/v1/unsubscribe/" + "a" * 60 + "." + "b" * 43


def test_a_cyrillic_subject_and_a_long_unsubscribe_link_survive_the_round_trip():
    raw = _mime(EmailMessage(to="ana@mail.example", sender="clinic@clinic.example", subject="Su revisión — Клиника",
                             text="Hola, ¿qué tal?", html="<p>Hola</p>", unsubscribe_url=LINK,
                             attachments=(("a.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR"),)))
    assert raw.isascii() and b"\r\nList-Unsubscribe: <" + LINK.encode() + b">\r\n" in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    parsed = message_from_bytes(raw, policy=policy.default)
    assert str(parsed["Subject"]) == "Su revisión — Клиника"
    assert parsed.get_body(preferencelist=("plain",)).get_content().strip() == "Hola, ¿qué tal?"
    assert [part.get_filename() for part in parsed.iter_attachments()] == ["a.ics"]
