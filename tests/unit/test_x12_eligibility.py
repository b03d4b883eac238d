"""I16, R9, R17: the 270 request built with pyx12 and the recorded 271 answers read back: active coverage
with co-insurance, deductible and maximum per service type; inactive coverage; rejections (AAA); a broken
envelope; no answer. Anything but a clean active answer is unknown or inactive, never covered."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import pyx12.x12file
from revisit.adapters.eligibility import StoredCoverageEligibility, eligibility_provider
from revisit.adapters.x12_eligibility import RecordedTransport, X12Eligibility, build_270
from revisit.config import load_tenant
from revisit.models.entities import InsurancePolicy

from tests.conftest import DEMO_TENANT, make_patient

RECORDED = Path(__file__).parents[1] / "fixtures" / "x12"


@pytest.fixture
def config():
    tenant = load_tenant(DEMO_TENANT)
    return tenant.model_copy(update={"eligibility": tenant.eligibility.model_validate({
        "provider": "x12", "x12": {"endpoint": "https://eligibility.clearinghouse.example.com/x12",
                                   "sender_id": "SMILECIRCLE", "receiver_id": "CLEARHOUSE",
                                   "provider_name": "Smile Circle Boston", "provider_npi": "1234567893",
                                   "payer_ids": {"Delta Dental": "DDPMA"}}})})


def policy(member_id):
    return InsurancePolicy(payer="Delta Dental", member_id=member_id, valid_from=date(2026, 1, 1))


def verify(config, member_id):
    transport = RecordedTransport(RECORDED)
    result = X12Eligibility(config, transport).verify(make_patient(), policy(member_id), date(2026, 11, 30))
    return result, transport


def test_the_270_is_a_valid_5010_envelope_with_the_subscriber_and_service_types(config):
    text = build_270(config, make_patient(), policy("DD100ACTIVE"), date(2026, 11, 30), ["23", "35"], 7,
                     datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
    reader = pyx12.x12file.X12Reader(io.StringIO(text))
    segments = [seg.format().rstrip("~") for seg in reader]
    reader.cleanup()
    assert reader.pop_errors() == []  # pyx12 counted the segments, groups and interchanges itself
    assert "ST*270*0001*005010X279A1" in segments and "NM1*PR*2*DELTA DENTAL*****PI*DDPMA" in segments
    assert "NM1*IL*1*WALSH*EMMA****MI*DD100ACTIVE" in segments and "DMG*D8*19800101" in segments
    assert [s for s in segments if s.startswith("EQ")] == ["EQ*23", "EQ*35"]
    assert segments[-3:] == ["SE*14*0001", "GE*1*7", "IEA*1*000000007"]


def test_active_coverage_with_shares_deductible_maximum_and_plan_dates(config):
    result, transport = verify(config, "DD100ACTIVE")
    assert result.status == "active" and result.source == "x12-005010X279A1"
    assert result.category_percent == {"diagnostic": 100, "preventive": 100, "basic": 80, "periodontics": 80,
                                       "major": 50}
    assert (result.deductible_remaining, result.maximum_remaining) == (Decimal("25"), Decimal("1180.50"))
    assert (result.plan_begin, result.plan_end) == (date(2026, 1, 1), date(2026, 12, 31))
    assert "ST*270" in transport.requests[0]


@pytest.mark.parametrize(("member", "status", "detail"), [
    ("DD200INACTIVE", "inactive", "no active dental coverage"),
    ("DD300REJECTED", "unknown", "AAA 75 subscriber/insured not found"),
    ("DD400BUSY", "unknown", "AAA 42 unable to respond"),
    ("DD500BROKEN", "unknown", "malformed 271"),
    ("DD999NOANSWER", "unknown", "clearinghouse unreachable"),
])
def test_anything_but_a_clean_active_answer_is_never_covered(config, member, status, detail):
    result, _ = verify(config, member)
    assert result.status == status and detail in result.detail
    assert not result.category_percent


def test_the_tenant_chooses_its_provider(config, tmp_path):
    assert isinstance(eligibility_provider(load_tenant(DEMO_TENANT)), StoredCoverageEligibility)
    assert isinstance(eligibility_provider(config, str(tmp_path)), X12Eligibility)
