"""Issue 15 in a real browser: `revisit serve`, Chromium driven by Playwright. Staff sign in per role at the
user pool (moto's Cognito, through the console's own sign-in form) and each sees its views and not the others;
the front desk records a call from its queue; the audit log shows who viewed a record; a wrong password is
refused. axe checks every page (no serious or critical violations); screenshots go to out/screens/."""

import json
import re

import pytest

from tests.api.test_serve import http, serving
from tests.browser.test_self_booking_browser import CHROMIUM, accessibility_problems, screenshot

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `make test` installs the Debian package")


@pytest.fixture(scope="module")
def console():
    """`revisit serve` after two weeks of nights: the ladder has put calls in the front desk's queue."""
    with serving(patients=120) as (port, token):
        base = f"http://127.0.0.1:{port}"
        assert http("POST", f"{base}/_local/clock?days=15")[0] == 200
        order = {"order_id": "ord-b1", "patient_id": "p-000004", "procedure_id": "crown-check",
                 "ordered_by": "Dr. Alice Moreno", "due_date": "2027-01-25"}  # a doctor's order for the registrars
        assert http("POST", f"{base}/orders", order, {"Authorization": f"Bearer {token}"})[0] == 201
        yield base


def sign_in(page, base, staff_id, password=None):
    page.goto(f"{base}/console/")
    page.get_by_label("User name").fill(staff_id)
    page.get_by_label("Password").fill(password or f"Revisit-{staff_id}-2026")
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize(("staff_id", "sees", "does_not_see"), [
    ("boston-front-desk", ["Work queue", "Recall list"], ["Audit log"]),
    ("boston-reg-1", ["Work queue"], ["Recall list", "Audit log"]),
    ("boston-lead", ["Work queue", "Recall list", "Reports"], ["Audit log", "Campaigns"]),
    ("boston-hygienist", ["Work queue", "Recall list", "New patients"], ["Audit log", "Reports"]),
    ("chain-admin", ["Work queue", "Recall list", "New patients", "Campaigns", "Reports", "Audit log"], []),
])
def test_each_role_signs_in_and_sees_only_its_views(browser, console, staff_id, sees, does_not_see):
    page = browser.new_page()
    sign_in(page, console, staff_id)
    page.get_by_role("heading", name=re.compile("^Work queue")).wait_for()
    nav = page.get_by_role("navigation", name="Views")
    for name in sees:
        assert nav.get_by_role("button", name=name).is_visible()
    for name in does_not_see:
        assert nav.get_by_role("button", name=name).count() == 0
    assert accessibility_problems(page) == []
    screenshot(page, f"console-queue-{staff_id}")
    page.close()


def test_a_wrong_password_is_refused(browser, console):
    page = browser.new_page()
    sign_in(page, console, "boston-front-desk", "not-the-password")
    assert page.get_by_role("alert").inner_text() == "Wrong user name or password."
    assert accessibility_problems(page) == []
    screenshot(page, "console-sign-in-refused")
    page.close()


def test_the_front_desk_records_a_call_from_its_queue_and_the_record_view_is_audited(browser, console):
    page = browser.new_page()
    sign_in(page, console, "boston-front-desk")
    page.get_by_role("heading", name=re.compile("^Work queue")).wait_for()
    rows = page.locator("tbody tr")
    assert rows.count() > 0, "the front desk's queue is empty after two weeks of nights"
    assert "due" in rows.first.locator("td").nth(4).inner_text()  # what the call needs: what is due
    before = rows.count()
    first = rows.first
    patient_id = first.locator("td").nth(3).get_by_role("link").get_attribute("href").removeprefix("#patient/")
    first.get_by_role("button", name="Record call").click()
    page.get_by_label("Result").select_option("declined")
    page.get_by_label("Reason (declined)").select_option("cost")
    assert accessibility_problems(page) == []
    screenshot(page, "console-record-call")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Recorded.").wait_for()
    page.get_by_role("heading", name=re.compile("^Work queue")).wait_for()
    for _ in range(50):  # the queue reloads without the task (the page's CSP allows no evaluated script)
        if page.locator("tbody tr").count() < before:
            break
        page.wait_for_timeout(100)
    assert page.locator("tbody tr").count() < before

    page.goto(f"{console}/console/#patient/{patient_id}")
    page.get_by_role("heading", name="Messages, calls and replies").wait_for()
    contacts = page.get_by_role("table", name="Contacts").inner_text()
    assert "STOP" in contacts  # R24: each message as the patient received it
    tasks = page.get_by_role("table", name="Staff tasks").inner_text()
    assert "declined" in tasks and "cost" in tasks  # the call's result and reason on the patient's file
    assert page.get_by_role("heading", name="Clinical record").count() == 0  # a front desk reads no clinical notes
    assert accessibility_problems(page) == []
    screenshot(page, "console-patient-timeline")

    page.get_by_role("button", name="Recall list").click()
    page.get_by_role("heading", name=re.compile("^Recall list")).wait_for()
    assert accessibility_problems(page) == []
    screenshot(page, "console-recall-list")

    page.get_by_role("button", name="Schedule").click()
    page.get_by_role("heading", name=re.compile("^Schedule: boston")).wait_for()
    day = page.get_by_label("Day").input_value()
    tomorrow = (__import__("datetime").date.fromisoformat(day) + __import__("datetime").timedelta(days=1)).isoformat()
    page.get_by_label("Day").fill(tomorrow)
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name=re.compile(f"^Schedule: boston, {tomorrow}")).wait_for()
    page.get_by_text("Book a visit this day").click()
    page.get_by_label("Patient id").fill(patient_id)
    page.get_by_role("button", name="Find free times").click()
    for _ in range(50):
        if page.get_by_label("Time").is_enabled():
            break
        page.wait_for_timeout(100)
    page.get_by_role("form", name="Book a visit").get_by_role("button", name="Book").click()
    page.locator("td", has_text=patient_id).first.wait_for()  # on the provider's day now
    screenshot(page, "console-schedule")
    assert page.get_by_role("heading", name="Jordan Lee RDH").count() == 1  # a section per provider
    assert accessibility_problems(page) == []
    screenshot(page, "console-schedule")
    page.close()

    admin = browser.new_page()
    sign_in(admin, console, "chain-admin")
    admin.get_by_role("heading", name=re.compile("^Work queue")).wait_for()
    for view, heading in (("New patients", "^New patients: boston"), ("Campaigns", "^Reactivation campaigns")):
        admin.get_by_role("button", name=view).click()
        admin.get_by_role("heading", name=re.compile(heading)).wait_for()
        assert accessibility_problems(admin) == []
        screenshot(admin, f"console-{view.lower().replace(' ', '-')}")
    admin.get_by_role("button", name="Audit log").click()
    admin.get_by_role("heading", name=re.compile("^Audit log")).wait_for()
    audit = admin.inner_text("main")
    assert "boston-front-desk" in audit and patient_id in audit
    assert accessibility_problems(admin) == []
    screenshot(admin, "console-audit-log")
    admin.close()


def test_the_console_is_served_with_a_strict_content_security_policy(console):
    import urllib.request

    with urllib.request.urlopen(f"{console}/console/", timeout=10) as response:
        policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    status, body = http("GET", f"{console}/console/config.json")
    assert status == 200 and json.loads(body)["cognito"]["endpoint"] == "/_local/cognito"


def test_a_hygienist_reads_the_clinical_record_a_registrar_does_not(browser, console):
    for staff_id, clinical in (("boston-hygienist", 1), ("boston-reg-1", 0)):
        page = browser.new_page()
        sign_in(page, console, staff_id)
        page.get_by_role("heading", name=re.compile("^Work queue")).wait_for()
        page.goto(f"{console}/console/#patient/p-000012")
        page.get_by_role("heading", name="Recall cycles").wait_for()
        assert page.get_by_role("heading", name="Clinical record").count() == clinical
        assert "[object" not in page.inner_text("main")
        assert accessibility_problems(page) == []
        screenshot(page, f"console-timeline-{staff_id}")
        page.close()


def test_an_administrator_reads_the_reports_as_pages_a_front_desk_cannot(browser, console):
    page = browser.new_page()
    sign_in(page, console, "chain-admin")
    page.get_by_role("heading", name=re.compile("^Work queue")).wait_for()
    page.get_by_role("button", name="Reports").click()
    page.get_by_role("heading", name="Recall, daily").wait_for()
    first = page.locator("ul.reports button").first
    first.click()
    report = page.locator("#report")
    report.locator("h1").first.wait_for()  # in the report's shadow root, with its own styles
    assert "recall" in report.locator("h1").first.inner_text().lower()
    assert accessibility_problems(page) == []
    screenshot(page, "console-reports")
    page.close()
    front_desk = browser.new_page()
    sign_in(front_desk, console, "boston-front-desk")
    front_desk.get_by_role("heading", name=re.compile("^Work queue")).wait_for()
    assert front_desk.get_by_role("navigation", name="Views").get_by_role("button", name="Reports").count() == 0
    front_desk.close()


def test_the_senior_registrar_assigns_a_doctors_order_from_the_queue(browser, console):
    page = browser.new_page()
    sign_in(page, console, "boston-senior-reg")
    page.get_by_role("heading", name=re.compile("^Work queue")).wait_for()
    page.get_by_label(re.compile("also later tasks")).check()
    row = page.locator("tbody tr", has_text="crown check")
    row.get_by_role("button", name="Assign").click()
    page.get_by_label("Registrar who calls").select_option("boston-reg-2")
    assert accessibility_problems(page) == []
    screenshot(page, "console-assign-order")
    page.get_by_role("form", name=re.compile("^Assign")).get_by_role("button", name="Assign").click()
    page.get_by_role("status").filter(has_text="Assigned.").wait_for()
    page.close()
