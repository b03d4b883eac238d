"""I1, I3, I13: the core data check, the profile status transitions, the plan from the findings."""

from datetime import date

from revisit.domain.intake import draft_plan, missing_core_data, status_move_error
from revisit.models.entities import InsurancePolicy, PatientStatus

from tests.conftest import make_patient

TODAY = date(2026, 11, 26)


def test_what_is_missing_is_named_never_guessed():
    complete = make_patient(insurance=[InsurancePolicy(payer="X", member_id="1", valid_from=date(2026, 1, 1))])
    assert missing_core_data(complete, TODAY) == []
    sparse = make_patient(phone=None, email=None, insurance=[])
    assert missing_core_data(sparse, TODAY) == ["phone", "email", "insurance"]
    no_consent = make_patient(sms_consent=False, email_consent=False, insurance=complete.insurance)
    assert missing_core_data(no_consent, TODAY) == ["contact_consent"]
    born_tomorrow = make_patient(date_of_birth=date(2026, 11, 27), insurance=complete.insurance)
    assert missing_core_data(born_tomorrow, TODAY) == ["date_of_birth"]


def test_status_moves_only_along_its_transitions():
    assert status_move_error(PatientStatus.ACTIVE, PatientStatus.FOLLOW_UP) is None
    assert status_move_error(PatientStatus.FOLLOW_UP, PatientStatus.ACTIVE) is None
    assert status_move_error(PatientStatus.INACTIVE, PatientStatus.ACTIVE) is None
    assert status_move_error(PatientStatus.INACTIVE, PatientStatus.INACTIVE) is None
    assert "cannot become Follow-up" in status_move_error(PatientStatus.INACTIVE, PatientStatus.FOLLOW_UP)


def test_the_plan_follows_the_findings_less_what_was_done():
    table = {"caries": ["D2391"], "non-restorable-tooth": ["D7140", "D6010"]}
    plan = draft_plan([("caries", "19"), ("caries", "30"), ("non-restorable-tooth", "3"), ("unknown", None)], table,
                      performed={("D2391", "30")})
    assert [(i.code, i.tooth) for i in plan] == [("D2391", "19"), ("D7140", "3"), ("D6010", "3")]
