"""`revisit screens` (the last step of `make demo`): a screenshot of every page a patient or a staff member
sees, taken in Chromium from a `revisit serve` of the demo tenant, into out/screens/ for people to look at:
the patient's booking page (free times, booked, a link that is not valid) on a phone-sized screen, and the
staff console per role (sign-in, work queue, recording a call, recall list, schedule, a patient's timeline,
reports, audit log). Without Chromium (Debian's package; `make test` installs it) it says so and does nothing."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from revisit.offline.cognito import demo_password


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def take(out: Path, patients: int = 120, days: int = 15) -> list[Path]:
    browser_path = chromium()
    if browser_path is None:
        print("screens: skipped (no Chromium; `make test` installs Debian's chromium)")
        return []
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    with _serving(patients) as base, sync_playwright() as playwright:
        link, passed = None, 0
        while link is None and passed < 4:  # nights pass until a recall SMS with its booking link has gone out
            _post(f"{base}/_local/clock?days=1")
            passed += 1
            link = _booking_link(base)
        _post(f"{base}/_local/clock?days={days - passed}")
        browser = playwright.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])

        def shot(page, name: str) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=True)
            taken.append(path)

        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page = phone.new_page()
        if link:
            page.goto(link)
            shot(page, "patient-booking-times")
            page.get_by_role("button").first.click()
            page.wait_for_load_state()
            shot(page, "patient-booking-booked")
        page.goto(f"{base}/b/{'x' * 20}")
        shot(page, "patient-booking-link-not-valid")
        phone.close()

        desk = browser.new_page(viewport={"width": 1280, "height": 800})
        desk.goto(f"{base}/console/")
        shot(desk, "console-sign-in")
        _sign_in(desk, "boston-front-desk")
        shot(desk, "console-front-desk-queue")
        rows = desk.locator("tbody tr")
        if rows.count():
            rows.first.get_by_role("button", name="Record call").click()
            shot(desk, "console-front-desk-record-call")
        for view, heading in (("recalls", "Recall list"), ("schedule", "Schedule")):
            desk.goto(f"{base}/console/#{view}")
            desk.get_by_role("heading", name=re.compile(f"^{heading}")).wait_for()
            shot(desk, f"console-front-desk-{view}")
        desk.close()

        hygienist = browser.new_page(viewport={"width": 1280, "height": 800})
        hygienist.goto(f"{base}/console/")
        _sign_in(hygienist, "boston-hygienist")
        patient = _first_patient(base, "boston")
        hygienist.goto(f"{base}/console/#patient/{patient}")
        hygienist.get_by_role("heading", name="Recall cycles").wait_for()
        shot(hygienist, "console-hygienist-patient-timeline")
        hygienist.close()

        admin = browser.new_page(viewport={"width": 1280, "height": 800})
        admin.goto(f"{base}/console/")
        _sign_in(admin, "chain-admin")
        admin.goto(f"{base}/console/#reports")
        admin.get_by_role("heading", name="Recall, daily").wait_for()
        if admin.locator("ul.reports button").count():
            admin.locator("ul.reports button").first.click()
            admin.locator("#report h1").first.wait_for()
        shot(admin, "console-admin-reports")
        for view, heading in (("intake", "^New patients"), ("campaigns", "^Reactivation campaigns")):
            admin.goto(f"{base}/console/#{view}")
            admin.get_by_role("heading", name=re.compile(heading)).wait_for()
            shot(admin, f"console-admin-{view}")
        admin.goto(f"{base}/console/#audit")
        admin.get_by_role("heading", name=re.compile("^Audit log")).wait_for()
        shot(admin, "console-admin-audit-log")
        admin.close()
        browser.close()
    print(f"screens: {len(taken)} pages in {out}/")
    return taken


def _sign_in(page, staff_id: str) -> None:
    page.get_by_label("User name").fill(staff_id)
    page.get_by_label("Password").fill(demo_password(staff_id))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("^Work queue")).wait_for()


def _booking_link(base: str) -> str | None:
    messages = json.loads(_get(f"{base}/_local/outbox.json"))["messages"]
    for message in messages:
        found = re.search(r"http://127\.0\.0\.1:\d+/b/[A-Za-z0-9_-]{20}", message.get("text") or "")
        if message["channel"] == "sms" and message.get("language") == "en" and found:
            return found.group(0)
    return None


def _first_patient(base: str, clinic: str) -> str:
    messages = json.loads(_get(f"{base}/_local/outbox.json"))["messages"]
    return next((m["patient_id"] for m in messages if m.get("clinic_id") == clinic and m.get("patient_id")), "p-000000")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (our own local server)
        return response.read().decode()


def _post(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b""), timeout=600).read()  # noqa: S310


class _serving:
    """`revisit serve` on a free port, for as long as the screenshots take."""

    def __init__(self, patients: int) -> None:
        self.patients = patients

    def __enter__(self) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(  # noqa: S603 (our own CLI, fixed arguments)
            [sys.executable, "-m", "revisit.cli", "serve", "--port", str(port), "--patients", str(self.patients)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        banner, deadline = "", time.monotonic() + 120
        while "credential" not in banner and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"revisit serve stopped: {banner}")
            banner += line
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
