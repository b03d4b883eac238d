"""I16, R9, R17: eligibility from a clearinghouse, as an X12 005010X279A1 270 request and its 271 answer.

pyx12 writes the interchange (its writer closes SE, GE and IEA with their counts) and reads the answer
(its reader checks the envelope: delimiters, control numbers, segment counts). pyx12 4.0 ships loop maps for
the 4010 270/271 only, so the 5010 answer's loops are read here by their segments: AAA (a rejection),
EB (benefits: 1 active, 6 inactive, A co-insurance, C deductible, F limitation/maximum) and DTP (plan dates).

An answer that is a rejection, malformed, or never came is `unknown`, never `active`: the visit is billed
as uninsured until the office checks (an INSURANCE_CHECK task). Names and dates of birth go to the
clearinghouse in the request and nowhere else: nothing here logs.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol

import pyx12.segment
import pyx12.x12file

from revisit import clock
from revisit.errors import TransientError
from revisit.models.entities import CoverageStatus, EligibilityResult, InsurancePolicy, Patient
from revisit.models.tenant import TenantConfig

GENERAL_DENTAL = "35"
AAA_REASONS = {"15": "required application data missing", "41": "authorization/access restrictions",
               "42": "unable to respond at current time", "43": "invalid/missing provider identification",
               "57": "invalid/missing date(s) of service", "58": "invalid/missing date of birth",
               "71": "patient birth date does not match", "72": "invalid/missing subscriber/insured id",
               "73": "invalid/missing subscriber/insured name", "75": "subscriber/insured not found",
               "76": "duplicate subscriber/insured id number", "79": "invalid participant identification",
               "80": "no response received - transaction terminated"}
"""X12 reject reason codes a 271's AAA segment carries (what the office task shows)."""


class Unreachable(Exception):
    """The clearinghouse gave no answer (timeout, connection, HTTP error): the coverage is unknown."""


class EligibilityTransport(Protocol):
    def exchange(self, request_270: str, member_id: str) -> str:
        """Sends the 270, returns the 271 text; raises Unreachable."""
        ...


class HttpsTransport:
    """The clearinghouse's real-time endpoint (CAQH CORE: HTTPS POST, X12 in the body)."""

    def __init__(self, endpoint: str, timeout_seconds: float = 10.0) -> None:
        if not endpoint.startswith("https://"):
            raise ValueError("the clearinghouse endpoint must be https://")
        self.endpoint, self.timeout = endpoint, timeout_seconds

    def exchange(self, request_270: str, member_id: str) -> str:
        request = urllib.request.Request(self.endpoint,  # noqa: S310 (https only: checked in __init__) data=request_270.encode("ascii"), method="POST",
                                         headers={"Content-Type": "application/EDI-X12"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (https only)
                return response.read().decode("ascii")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise Unreachable(type(exc).__name__) from None


class RecordedTransport:
    """Offline and in tests: the 271 a clearinghouse answered for a member id, from `<dir>/<member_id>.x12`
    (no file: unreachable). Every request is kept, so a test can read the 270 that was sent."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.requests: list[str] = []

    def exchange(self, request_270: str, member_id: str) -> str:
        self.requests.append(request_270)
        answer = self.directory / f"{member_id}.x12"
        if not answer.is_file():
            raise Unreachable("no recorded answer")
        return answer.read_text(encoding="ascii")


# --- the 270 -------------------------------------------------------------------------------------------
def _segment(text: str) -> pyx12.segment.Segment:
    return pyx12.segment.Segment(text, "~", "*", ":")


def _clean(value: str, length: int | None = None) -> str:
    """X12 basic character set: no delimiters, upper case."""
    cleaned = "".join(ch for ch in value.upper() if ch not in "~*:^").strip()
    return cleaned[:length] if length else cleaned


def build_270(config: TenantConfig, patient: Patient, policy: InsurancePolicy, service_date: date,
              service_types: list[str], control: int, now: datetime) -> str:
    settings = config.eligibility.x12
    payer_id = settings.payer_ids.get(policy.payer, _clean(policy.payer, 80))
    trace = uuid.uuid4().hex[:20].upper()
    stamp_date, stamp_time = now.strftime("%y%m%d"), now.strftime("%H%M")
    out = io.StringIO()
    writer = pyx12.x12file.X12Writer(out, seg_term="~", ele_term="*", subele_term=":", eol="\n")
    for text in (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{settings.sender_id:<15}*ZZ*{settings.receiver_id:<15}*{stamp_date}*"
        f"{stamp_time}*^*00501*{control:09d}*0*P*:",
        f"GS*HS*{settings.sender_id.strip()}*{settings.receiver_id.strip()}*{now:%Y%m%d}*{stamp_time}*{control}*X*005010X279A1",
        "ST*270*0001*005010X279A1",
        f"BHT*0022*13*{trace}*{now:%Y%m%d}*{stamp_time}",
        "HL*1**20*1",
        f"NM1*PR*2*{_clean(policy.payer, 60)}*****PI*{payer_id}",
        "HL*2*1*21*1",
        f"NM1*1P*2*{_clean(settings.provider_name, 60)}*****XX*{settings.provider_npi}",
        "HL*3*2*22*0",
        f"TRN*1*{trace}*9{settings.provider_npi[:9]}",
        f"NM1*IL*1*{_clean(patient.last_name, 60)}*{_clean(patient.first_name, 35)}****MI*{_clean(policy.member_id, 80)}",
        f"DMG*D8*{patient.date_of_birth:%Y%m%d}",
        f"DTP*291*D8*{service_date:%Y%m%d}",
        *(f"EQ*{code}" for code in service_types),
        "SE*0*0001", "GE*0*0", "IEA*0*0",
    ):
        writer.Write(_segment(text))
    return out.getvalue()


# --- the 271 -------------------------------------------------------------------------------------------
@dataclass
class Benefits:
    rejections: list[str] = field(default_factory=list)
    active: set[str] = field(default_factory=set)
    inactive: set[str] = field(default_factory=set)
    patient_share: dict[str, Decimal] = field(default_factory=dict)
    """Co-insurance by service type: the patient's share (EB08, 0.2 = 20 %)."""
    deductible: dict[str, Decimal] = field(default_factory=dict)
    """Deductible amounts by time qualifier (29 remaining, 23 calendar year)."""
    maximum: dict[str, Decimal] = field(default_factory=dict)
    plan_begin: date | None = None
    plan_end: date | None = None
    errors: list[str] = field(default_factory=list)


def _decimal(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def _dates(qualifier: str, value: str) -> tuple[date | None, date | None]:
    def one(text: str) -> date:
        return datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007 (a calendar date, no time)

    if qualifier == "RD8" and "-" in value:
        first, last = value.split("-", 1)
        return one(first), one(last)
    return (one(value), None) if qualifier == "D8" else (None, None)


def read_271(text: str) -> Benefits:
    benefits = Benefits()
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(text))
        segments = list(reader)
        benefits.errors = [f"{err[1]} {err[2]}" for err in reader.pop_errors()]
        reader.cleanup()
        benefits.errors += [f"{err[1]} {err[2]}" for err in reader.pop_errors()]
    except Exception as exc:  # pyx12 raises its own errors on a broken envelope
        benefits.errors.append(f"unreadable 271: {type(exc).__name__}")
        return benefits
    transaction = [seg.get_value("ST01") for seg in segments if seg.get_seg_id() == "ST"]
    if transaction != ["271"]:
        benefits.errors.append(f"not one 271 transaction: {transaction}")
    for seg in segments:
        seg_id = seg.get_seg_id()
        if seg_id == "AAA":
            code = seg.get_value("AAA03") or ""
            benefits.rejections.append(f"AAA {code} {AAA_REASONS.get(code, 'rejected')}")
        elif seg_id == "EB":
            kind = seg.get_value("EB01")
            types = (seg.get_value("EB03") or GENERAL_DENTAL).split("^")
            if kind == "1":
                benefits.active.update(types)
            elif kind in ("6", "I"):  # inactive; non-covered
                benefits.inactive.update(types)
            elif kind == "A" and (share := _decimal(seg.get_value("EB08"))) is not None:
                benefits.patient_share.update(dict.fromkeys(types, share))
            elif kind == "C" and (amount := _decimal(seg.get_value("EB07"))) is not None:
                benefits.deductible[seg.get_value("EB06") or ""] = amount
            elif kind == "F" and (amount := _decimal(seg.get_value("EB07"))) is not None:
                benefits.maximum[seg.get_value("EB06") or ""] = amount
        elif seg_id == "DTP" and seg.get_value("DTP01") in ("291", "346", "347"):
            first, last = _dates(seg.get_value("DTP02") or "", seg.get_value("DTP03") or "")
            if seg.get_value("DTP01") == "347":
                benefits.plan_end = first
            else:
                benefits.plan_begin = first or benefits.plan_begin
                benefits.plan_end = last or benefits.plan_end
    return benefits


class X12Eligibility:
    name = "x12-005010X279A1"

    def __init__(self, config: TenantConfig, transport: EligibilityTransport) -> None:
        self.config, self.transport = config, transport
        self._control = 0

    def verify(self, patient: Patient, policy: InsurancePolicy | None, service_date: date,
               recall_types: list[str] | None = None) -> EligibilityResult:
        now = clock.now()
        if policy is None:
            return EligibilityResult(status=CoverageStatus.UNKNOWN, checked_at=now, source=self.name,
                                     detail="no policy on file")
        categories = self.config.billing.categories
        service_types = sorted({GENERAL_DENTAL, *(c.x12_service_type for c in categories)})
        self._control = (self._control % 999_999_999) + 1
        request = build_270(self.config, patient, policy, service_date, service_types, self._control, now)
        base = {"checked_at": now, "source": self.name, "payer": policy.payer, "plan": policy.plan,
                "member_id": policy.member_id}
        try:
            answer = self.transport.exchange(request, policy.member_id)
        except Unreachable as exc:
            return EligibilityResult(status=CoverageStatus.UNKNOWN, detail=f"clearinghouse unreachable ({exc})", **base)
        except TransientError as exc:
            return EligibilityResult(status=CoverageStatus.UNKNOWN, detail=f"clearinghouse busy ({exc})", **base)
        benefits = read_271(answer)
        if benefits.errors:
            return EligibilityResult(status=CoverageStatus.UNKNOWN, detail=f"malformed 271: {benefits.errors[0]}", **base)
        if benefits.rejections:
            return EligibilityResult(status=CoverageStatus.UNKNOWN, detail="; ".join(benefits.rejections), **base)
        dental_active = GENERAL_DENTAL in benefits.active and GENERAL_DENTAL not in benefits.inactive
        if not dental_active and not (benefits.active - benefits.inactive):
            status = CoverageStatus.INACTIVE if benefits.inactive else CoverageStatus.UNKNOWN
            return EligibilityResult(status=status, coverage_percent=0, covered_recall_types=[] if recall_types else None, plan_begin=benefits.plan_begin,
                                     plan_end=benefits.plan_end, detail="no active dental coverage in the 271", **base)
        percent = {}
        for category in categories:
            stc = category.x12_service_type
            if stc in benefits.inactive:
                percent[category.category] = 0
            elif stc in benefits.active or dental_active:
                share = benefits.patient_share.get(stc, benefits.patient_share.get(GENERAL_DENTAL, Decimal("0")))
                percent[category.category] = max(0, min(100, int(((1 - share) * 100).to_integral_value())))
        general_share = benefits.patient_share.get(GENERAL_DENTAL, Decimal("0"))
        return EligibilityResult(
            status=CoverageStatus.ACTIVE, covered_recall_types=recall_types,
            coverage_percent=max(0, min(100, int(((1 - general_share) * 100).to_integral_value()))),
            category_percent=percent,
            deductible_remaining=benefits.deductible.get("29", benefits.deductible.get("23")),
            maximum_remaining=benefits.maximum.get("29", benefits.maximum.get("23")),
            plan_begin=benefits.plan_begin, plan_end=benefits.plan_end, **base)
