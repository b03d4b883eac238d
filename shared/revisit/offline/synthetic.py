"""A deterministic synthetic clinic chain: realistic last visits and recall types, and the awkward cases
(no email, no phone, no SMS consent, opted out, already booked). Same seed, same patients."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers

from revisit.domain.reactivation import Treatment
from revisit.models.common import Language
from revisit.models.entities import Appointment, InsurancePolicy, Patient, PatientStatus, RecallItem
from revisit.models.tenant import TenantConfig

FIRST_NAMES = {
    Language.EN: ["Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Mia", "Lucas", "Grace", "Henry", "Chloe", "Jack"],
    Language.ES: ["Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Valeria", "Álvaro", "Carmen", "Diego"],
    Language.BG: ["Мария", "Георги", "Елена", "Иван", "Николета", "Димитър", "Петя", "Стоян", "Ралица", "Борис"],
    Language.RU: ["Анна", "Дмитрий", "Екатерина", "Сергей", "Ольга", "Алексей", "Наталья", "Иван", "Мария", "Павел"],
}
LAST_NAMES = {
    Language.EN: ["Smith", "Johnson", "Brown", "Walsh", "Murphy", "Chen", "Garcia", "Miller", "Davis", "Kelly"],
    Language.ES: ["García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Ruiz", "Díaz", "Moreno"],
    Language.BG: ["Иванов", "Петрова", "Георгиев", "Димитрова", "Николов", "Стоянова", "Тодоров", "Колева"],
    Language.RU: ["Иванов", "Смирнова", "Кузнецов", "Попова", "Соколов", "Лебедева", "Козлов", "Новикова"],
}
def _surname_for(first: str, last: str, language: Language) -> str:
    """Bulgarian and Russian surnames agree with the person: Иван Петров, Мария Петрова."""
    if language not in (Language.BG, Language.RU):
        return last
    female = first.endswith(("а", "я"))
    if female and not last.endswith("а"):
        return last + "а"
    return last[:-1] if not female and last.endswith("а") else last


MOBILE_PREFIX = {"US": ("+1617", 7), "ES": ("+346", 8), "BG": ("+35988", 7), "RU": ("+7913", 7)}
PAYERS = {"US": "Delta Dental", "ES": "Sanitas Dental", "BG": "НЗОК", "RU": "СОГАЗ"}


@dataclass(frozen=True)
class Mix:
    no_email: float = 0.08
    no_phone: float = 0.05
    no_sms_consent: float = 0.12
    opted_out: float = 0.03
    already_booked: float = 0.05
    perio: float = 0.15
    lapsed: float = 0.12
    """Patients whose last visit is 18 months to 5 years back: inactive, for reactivation (A1)."""


def _phone(rng: random.Random, country: str) -> str:
    prefix, digits = MOBILE_PREFIX[country]
    while True:
        candidate = prefix + "".join(str(rng.randint(0, 9)) for _ in range(digits))
        if country == "US" and candidate[5] in "01":
            continue
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def generate(config: TenantConfig, count: int, today: date, seed: int = 7, mix: Mix = Mix()) -> tuple[list[Patient], list[Appointment]]:
    rng = random.Random(seed)
    patients: list[Patient] = []
    appointments: list[Appointment] = []
    for number in range(count):
        clinic = config.clinics[number % len(config.clinics)]
        language = clinic.language
        first, last = rng.choice(FIRST_NAMES[language]), rng.choice(LAST_NAMES[language])
        last = _surname_for(first, last, language)
        perio = rng.random() < mix.perio
        cadence_days = 92 if perio else 183
        # Last prophylaxis spread over one cadence and a bit: most patients are on schedule, some overdue.
        last_done = today - timedelta(days=rng.randint(20, cadence_days + 45))
        recalls = [RecallItem(recall_type="perio" if perio else "prophy", last_done=last_done)]
        if rng.random() < 0.5:
            recalls.append(RecallItem(recall_type="bitewings", last_done=last_done - timedelta(days=rng.choice([0, 183]))))
        if rng.random() < 0.2:
            recalls.append(RecallItem(recall_type="pano", last_done=today - timedelta(days=rng.randint(300, 1200))))
        has_phone = rng.random() >= mix.no_phone
        has_email = rng.random() >= mix.no_email
        patient_id = f"p-{number:06d}"
        booked_at = None
        if rng.random() < mix.already_booked:
            day = today + timedelta(days=rng.randint(3, 40))
            booked_at = datetime.combine(day, time(10, 30), tzinfo=ZoneInfo(clinic.time_zone))
            appointments.append(Appointment(appointment_id=f"a-{number:06d}", patient_id=patient_id,
                                            clinic_id=clinic.clinic_id, appointment_type="recall",
                                            starts_at=booked_at, created_at=booked_at - timedelta(days=30)))
        insured = rng.random() < 0.7
        patients.append(Patient(
            patient_id=patient_id,
            clinic_id=clinic.clinic_id,
            first_name=first,
            last_name=last,
            date_of_birth=date(rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28)),
            language=language,
            phone=_phone(rng, clinic.country) if has_phone else None,
            email=f"patient{number:06d}@mail.example.com" if has_email else None,
            sms_consent=has_phone and rng.random() >= mix.no_sms_consent,
            email_consent=has_email,
            opted_out=rng.random() < mix.opted_out,
            last_visit=last_done,
            recalls=recalls,
            next_appointment_at=booked_at,
            insurance=[InsurancePolicy(payer=PAYERS[clinic.country], member_id=f"M{rng.randint(10**7, 10**8)}",
                                       plan="Preventive", valid_from=today - timedelta(days=rng.randint(30, 900)),
                                       valid_to=None if rng.random() < 0.85 else today - timedelta(days=10),
                                       covered_recall_types=["prophy", "perio", "bitewings"],
                                       coverage_percent=rng.choice([50, 80, 100]))] if insured else [],
        ))
    return _lapse(patients, today, seed, mix), appointments


def _lapse(patients: list[Patient], today: date, seed: int, mix: Mix) -> list[Patient]:
    """A second draw (the first one's sequence, and so every earlier demo's patients, unchanged): a treatment
    for each patient (A4), and a share of them lapsed long ago and handed to reactivation."""
    rng = random.Random(seed * 7919 + 1)
    changed = []
    for patient in patients:
        draw = rng.random()
        perio = any(r.recall_type == "perio" for r in patient.recalls)
        treatment = (Treatment.PERIODONTAL if perio else Treatment.ORTHODONTICS if draw < 0.12
                     else Treatment.PROSTHESIS if draw < 0.27 else Treatment.GENERAL)
        update: dict = {"treatment": treatment}
        if rng.random() < mix.lapsed and patient.next_appointment_at is None:
            last = today - timedelta(days=rng.randint(18 * 30, 5 * 365))
            update |= {"last_visit": last, "status": PatientStatus.INACTIVE,
                       "recalls": [r.model_copy(update={"last_done": min(r.last_done, last) if r.last_done else last})
                                   for r in patient.recalls]}
        changed.append(patient.model_copy(update=update))
    return changed
