"""What a patient's SMS reply means. Pure. Keywords in en, es, bg and ru, with the forms people type:
any case, accents or not, punctuation, a polite word around them ('stop please', 'СТОП!', 'Sí')."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Reply(StrEnum):
    CONFIRM = "confirm"
    STOP = "stop"
    """No more SMS (the carriers' rule: STOP ends every SMS from the number)."""
    STOP_ALL = "stop_all"
    """No more messages on any channel: SMS and email consent both withdrawn."""
    START = "start"
    DECLINE = "decline"
    """A no to 'reply C to confirm': the appointment is marked declined and the front desk calls."""
    OTHER = "other"


STOP_ALL_WORDS = {"stopall"}
STOP_ALL_PHRASES = {("stop", "all"), ("stop", "everything"), ("baja", "total"), ("baja", "todo"),
                    ("стоп", "всичко"), ("стоп", "все"), ("стоп", "всё")}
STOP_WORDS = {"stop", "unsubscribe", "revoke", "спрете", "спри", "cancel", "end", "quit", "optout", "baja", "alto", "parar",
              "стоп", "отписване", "отпиши", "отписка", "отписаться", "хватит"}
STOP_PHRASES = {("no", "mas"), ("no", "more"), ("opt", "out"), ("remove", "me"), ("no", "quiero"),
                ("не", "пишите"), ("не", "пиши"), ("не", "пишете"), ("не", "ми", "пишете"), ("больше", "не", "пишите"),
                ("не", "пишите", "мне"), ("мне", "не", "пишите")}
"""Stops said in more than one word (accents already dropped: 'no más' is 'no mas')."""
START_WORDS = {"start", "unstop", "alta", "старт", "начало"}
CONFIRM_WORDS = {"c", "y", "yes", "1", "ok", "confirm", "confirmed", "si", "confirmo", "vale",
                 "да", "д", "потвърждавам", "идвам", "подтверждаю", "ок"}
DECLINE_WORDS = {"n", "no", "nope", "нет", "не", "н"}
CONFIRM_PHRASES = {("yes", "i", "will", "come"), ("yes", "i", "ll", "be", "there"), ("yes", "confirmed"),
                   ("si", "confirmo"), ("si", "voy"), ("si", "alli", "estare"), ("да", "ще", "дойда"),
                   ("да", "потвърждавам"), ("да", "идвам"), ("да", "приду"), ("да", "подтверждаю"), ("да", "буду")}
DECLINE_PHRASES = {("no", "i", "can", "t", "come"), ("i", "can", "t", "come"), ("can", "t", "come"), ("no", "puedo"),
                   ("no", "puedo", "ir"), ("no", "voy"), ("не", "мога"), ("не", "мога", "да", "дойда"),
                   ("нет", "не", "приду"), ("не", "приду"), ("не", "смогу"), ("нет", "не", "смогу")}
"""Whole answers ('Да, приду', 'No, I can't come'); anything longer or different goes to a person."""
POLITE_WORDS = {"please", "pls", "por", "favor", "gracias", "thanks", "thank", "you", "моля", "благодаря",
                "пожалуйста", "спасибо", "me", "now"}
MAX_WORDS = 6


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    # Drop Latin accents (sí -> si) but keep Cyrillic letters whole (й stays й).
    plain = "".join(c for c in decomposed if not (unicodedata.combining(c) and c != "\u0306"))
    plain = unicodedata.normalize("NFKC", plain)
    return re.findall(r"[\w]+", plain)


def _says(words: list[str], phrases: set[tuple[str, ...]]) -> bool:
    return any(tuple(words[i:i + len(p)]) == p for p in phrases for i in range(len(words) - len(p) + 1))


def classify(text: str) -> Reply:
    words = _words(text)
    meaningful = [w for w in words if w not in POLITE_WORDS]
    if not words or len(words) > MAX_WORDS or not meaningful:
        return Reply.OTHER
    if any(w in STOP_ALL_WORDS for w in meaningful) or _says(words, STOP_ALL_PHRASES):
        return Reply.STOP_ALL
    if any(w in STOP_WORDS for w in meaningful) or _says(words, STOP_PHRASES):
        return Reply.STOP
    if meaningful[0] in START_WORDS and len(meaningful) == 1:
        return Reply.START
    if (len(meaningful) == 1 and meaningful[0] in CONFIRM_WORDS) or tuple(meaningful) in CONFIRM_PHRASES:
        return Reply.CONFIRM
    if (len(meaningful) == 1 and meaningful[0] in DECLINE_WORDS) or tuple(meaningful) in DECLINE_PHRASES:
        return Reply.DECLINE
    return Reply.OTHER
