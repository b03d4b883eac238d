import pytest
import yaml
from revisit.cli import main
from revisit.config import load_tenant
from revisit.errors import ConfigError

from tests.conftest import DEMO_TENANT


def broken(tmp_path, mutate):
    data = yaml.safe_load(DEMO_TENANT.read_text())
    mutate(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


@pytest.mark.parametrize(("mutate", "field", "words"), [
    (lambda d: d["clinics"][2].update(time_zone="Europe/Atlantis"), "clinics[2].time_zone", "unknown time zone"),
    (lambda d: d["recall_types"][0].update(interval_months=0, interval_days=0), "recall_types[0]", "positive interval"),
    (lambda d: d["recall_types"][1].update(interval_months=-3), "recall_types[1].interval_months", "greater than or equal"),
    (lambda d: d["contact_ladder"][1].update(channel="pigeon"), "contact_ladder[1].channel", "sms"),
    (lambda d: d["clinics"][0].update(phone="555-0100"), "clinics[0].phone", "phone"),
    (lambda d: d.update(admin_email="not-an-email"), "admin_email", "email"),
    # I11, I17: the fee schedule, categories and findings are checked before anything is deployed
    (lambda d: d["billing"]["fee_schedules"][0]["fees"].update(D0120="-5.00"), "billing.fee_schedules[0].fees.D0120",
     "greater than or equal to 0"),
    (lambda d: d["billing"]["fee_schedules"][1]["fees"].pop("D1110"), "billing", "no fee for ['D1110']"),
    (lambda d: d["billing"]["services"][0].update(category="cosmetic"), "billing", "unknown category 'cosmetic'"),
    (lambda d: d["billing"]["findings"][0].update(procedures=["D9999"]), "billing", "unknown service codes ['D9999']"),
    (lambda d: d["billing"]["fee_schedules"][1].update(clinics=["madrid", "atlantis"]), "",
     "unknown clinics ['atlantis']"),
    # X11 and X6: the booking link in recall SMS needs a short address (one segment more, not two)
    (lambda d: d.update(public_api_url="https://appointments.smile-circle-dental.example"), "",
     "public_api_url: at most 32 characters for the booking link in recall SMS"),
    (lambda d: d.update(self_scheduling={"link_days": 0}), "self_scheduling.link_days", "greater than or equal to 1"),
])
def test_bad_tenant_files_name_the_file_and_field(tmp_path, mutate, field, words):
    path = broken(tmp_path, mutate)
    with pytest.raises(ConfigError) as error:
        load_tenant(path)
    message = str(error.value)
    assert f"{path}: {field}" in message
    assert words in message


def test_cli_reports_bad_tenant_file_and_exits_2(tmp_path, capsys):
    path = broken(tmp_path, lambda d: d["clinics"][0].update(time_zone="Mars/Base"))
    assert main(["check-tenant", str(path)]) == 2
    assert "clinics[0].time_zone: unknown time zone 'Mars/Base'" in capsys.readouterr().err


def test_a_long_public_address_is_fine_when_only_emails_carry_the_booking_link(tmp_path):
    tenant = load_tenant(broken(tmp_path, lambda d: d.update(
        public_api_url="https://appointments.smile-circle-dental.example", self_scheduling={"in_sms": False})))
    assert tenant.self_scheduling.enabled and not tenant.self_scheduling.in_sms


def test_demo_tenant_is_valid(capsys):
    assert main(["check-tenant", str(DEMO_TENANT)]) == 0
    assert "4 clinics" in capsys.readouterr().out
