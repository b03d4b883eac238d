from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from revisit.domain.send_window import is_inside, local_instant, next_send_time
from revisit.models.tenant import SendWindow

WINDOW = SendWindow(start=time(8, 0), end=time(21, 0), weekdays=[0, 1, 2, 3, 4, 5, 6])
NY = "America/New_York"


def test_inside_the_window_sends_now():
    now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York
    assert next_send_time(now, WINDOW, NY) == now


def test_late_evening_waits_for_next_morning_local_time():
    now = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 22:00 on the 24th in New York
    assert next_send_time(now, WINDOW, NY) == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_across_spring_forward_the_window_opens_at_local_eight():
    # Saturday 7 March 2026, 22:00 EST; DST starts on Sunday 8 March at 02:00.
    now = datetime(2026, 3, 8, 3, 0, tzinfo=UTC)
    opens = next_send_time(now, WINDOW, NY)
    assert opens == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)  # 08:00 EDT is 12:00 UTC, not 13:00
    assert opens.astimezone(ZoneInfo(NY)).hour == 8


def test_across_fall_back_the_window_opens_at_local_eight():
    now = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # Saturday 31 Oct 22:00 EDT
    assert next_send_time(now, WINDOW, NY) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_a_window_start_inside_the_dst_gap_opens_when_the_clock_jumps():
    instant = local_instant(datetime(2026, 3, 8).date(), time(2, 30), ZoneInfo(NY))
    assert instant.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT


def test_closed_weekdays_are_skipped():
    weekdays_only = SendWindow(start=time(9, 0), end=time(19, 0), weekdays=[0, 1, 2, 3, 4])
    saturday_noon = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)  # Madrid 12:00 Saturday
    assert next_send_time(saturday_noon, weekdays_only, "Europe/Madrid") == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert not is_inside(saturday_noon, weekdays_only, "Europe/Madrid")
