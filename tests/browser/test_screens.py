"""`make demo`'s last step: `revisit screens` leaves a screenshot of every patient and staff page in out/."""

import pytest
from revisit.offline.screens import take

from tests.browser.test_self_booking_browser import CHROMIUM

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: `make test` installs the Debian package")


def test_every_page_is_photographed(tmp_path):
    taken = {path.stem for path in take(tmp_path, patients=80)}
    assert {"patient-booking-times", "patient-booking-booked", "patient-booking-link-not-valid", "console-sign-in",
            "console-front-desk-queue", "console-front-desk-recalls", "console-front-desk-schedule",
            "console-hygienist-patient-timeline", "console-admin-reports", "console-admin-audit-log"} <= taken
    assert all(path.stat().st_size > 5_000 for path in tmp_path.glob("*.png"))
