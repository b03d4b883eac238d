"""X11 in a real browser: `revisit serve` over HTTP, Chromium driven by Playwright. A patient opens the link in
the recall SMS taken from the outbox, taps a time and is booked; the recall cycle ends Booked; a tampered link
is refused. axe checks every page (no serious or critical violations); each page's screenshot goes to
out/screens/ for people to look at."""

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.api.test_serve import http, serving
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENS = ROOT / "out" / "screens"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `make test` installs the Debian package")


def accessibility_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def screenshot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(SCREENS) / f"{name}.png"), full_page=True)


def a_recall_sms_with_a_link(base: str) -> dict:
    for _ in range(4):  # nights pass until a patient's recall SMS has gone out
        assert http("POST", f"{base}/_local/clock?days=1")[0] == 200
        messages = json.loads(http("GET", f"{base}/_local/outbox.json")[1])["messages"]
        linked = [m for m in messages if m["channel"] == "sms" and "/b/" in m["text"] and m["language"] == "en"]
        if linked:
            return linked[0]
    raise AssertionError("no recall SMS with a booking link in four nights")


def test_a_patient_books_from_the_recall_sms_link_in_a_phone_browser_and_the_cycle_ends(browser):
    with serving(patients=80) as (port, token):
        base = f"http://127.0.0.1:{port}"
        sms = a_recall_sms_with_a_link(base)
        link = re.search(r"http://127\.0\.0\.1:\d+/b/[A-Za-z0-9_-]{20}", sms["text"]).group(0)
        assert sms["patient_id"] not in link

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page = phone.new_page()
        response = page.goto(link)
        assert response.status == 200 and "no-store" in response.headers["cache-control"]
        assert "default-src 'none'" in response.headers["content-security-policy"]
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading.startswith("Book your ") and " at Smile Circle " in heading
        assert accessibility_problems(page) == []
        screenshot(page, "self-booking-times")

        first = page.get_by_role("button").first
        chosen = first.inner_text()
        with page.expect_navigation() as navigation:
            first.tap()
        assert navigation.value.status == 200
        assert page.get_by_role("heading", level=1).inner_text() == "You are booked"
        assert chosen in page.inner_text("main")
        assert accessibility_problems(page) == []
        screenshot(page, "self-booking-booked")

        status, body = http("GET", f"{base}/patients/{sms['patient_id']}/history", headers={
            "Authorization": f"Bearer {token}"})
        assert status == 200
        [cycle] = [c for c in json.loads(body)["cycles"] if c["status"] != "Closed"][-1:]
        assert cycle["status"] == "Booked"

        tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
        refused = page.goto(tampered)
        assert refused.status == 404 and "This link is not valid" in page.inner_text("h1")
        assert accessibility_problems(page) == []
        screenshot(page, "self-booking-invalid")
        phone.close()
