"""The repositories' contract, on moto and on DynamoDB Local: keys, sparse indexes, and the conditional
writes that the never-twice and never-backwards rules rest on."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from revisit.errors import Conflict, IdempotencyKeyReused, NotFound, SlotTaken
from revisit.models.common import Channel, Role
from revisit.models.entities import (
    Appointment,
    AppointmentStatus,
    AttemptOutcome,
    CommunicationAttempt,
    ConfirmationStatus,
    CoverageStatus,
    CycleStatus,
    EligibilityResult,
    IntegratorCredential,
    Payment,
    RecallCycle,
    RecallItem,
    RecallStatus,
    StaffNotice,
    StaffTask,
    TaskKind,
    TaskPriority,
    TaskStatus,
)

from tests.conftest import make_patient

NOW = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def cycle_for(patient, due=date(2026, 11, 21)):
    return RecallCycle(patient_id=patient.patient_id, cycle_id=due.isoformat(), clinic_id=patient.clinic_id,
                       patient_name="E. W.", recall_due_date=due, recall_types=["prophy"], next_contact_at=NOW,
                       execution_name=f"recall-{patient.patient_id}-{due:%Y%m%d}", opened_at=NOW)


def test_patient_round_trip_and_not_found(tables):
    patient = make_patient(insurance=[])
    tables.patients.save(patient)
    assert tables.patients.get(patient.patient_id) == patient
    with pytest.raises(NotFound):
        tables.patients.get("p-missing")
    with pytest.raises(Conflict):
        tables.patients.create(patient)


def test_due_index_holds_only_recallable_patients_and_reads_only_them(tables):
    due = [make_patient(f"p-{n:06d}") for n in range(5)]  # prophy done 2026-05-20: due 2026-11-21
    later = make_patient("p-000100", recalls=[RecallItem(recall_type="prophy", last_done=date(2026, 10, 1))])
    opted_out = make_patient("p-000101", opted_out=True)
    elsewhere = make_patient("p-000102", clinic_id="madrid", language="es")
    tables.patients.save_many([*due, later, opted_out, elsewhere])

    entries, token, read = [], None, 0
    while True:
        page, token, items_read = tables.patients.due_page("boston", date(2026, 12, 8), 2, token)
        entries += page
        read += items_read
        if token is None:
            break
    assert sorted(e["patient_id"] for e in entries) == [p.patient_id for p in due]
    assert {e["recall_due_date"] for e in entries} == {"2026-11-21"}
    assert read == len(due)  # the sparse index: nothing else is read
    assert tables.patients.count_due("boston", date(2026, 12, 8)) == 5
    assert tables.patients.count_due("boston", date(2027, 6, 1)) == 6


def test_opening_a_cycle_is_once_and_takes_the_patient_off_the_due_index(tables):
    patient = make_patient()
    tables.patients.save(patient)
    cycle = cycle_for(patient)
    tables.cycles.open(cycle)
    with pytest.raises(Conflict):
        tables.cycles.open(cycle)
    assert tables.patients.count_due("boston", date(2026, 12, 8)) == 0
    stored = tables.patients.get(patient.patient_id)
    assert stored.recall_cycle_id == cycle.cycle_id and stored.recall_status == RecallStatus.PENDING
    assert tables.cycles.get(patient.patient_id, cycle.cycle_id) == cycle
    assert [c.cycle_id for c in tables.cycles.open_cycles("boston")] == [cycle.cycle_id]
    assert tables.cycles.count_open("boston") == 1


def test_the_ladder_advances_only_from_the_rung_read_and_a_closed_cycle_never_reopens(tables):
    patient = make_patient()
    tables.patients.save(patient)
    cycle = cycle_for(patient)
    tables.cycles.open(cycle)
    tables.cycles.record_progress(cycle, step_index=1, next_contact_at=NOW + timedelta(days=7),
                                  status=CycleStatus.CONTACTED, contacted_at=NOW, channel="sms")
    with pytest.raises(Conflict):  # a racing try that read the same rung
        tables.cycles.record_progress(cycle, step_index=1, next_contact_at=NOW, status=CycleStatus.CONTACTED,
                                      contacted_at=NOW, channel="sms")
    advanced = tables.cycles.get(patient.patient_id, cycle.cycle_id)
    assert (advanced.step_index, advanced.attempts, advanced.status) == (1, 1, CycleStatus.CONTACTED)
    assert tables.patients.get(patient.patient_id).recall_status == RecallStatus.CONTACTED
    assert tables.cycles.count_open("boston", CycleStatus.CONTACTED) == 1

    assert tables.cycles.close(advanced, CycleStatus.BOOKED, "booked", NOW) is True
    assert tables.cycles.close(advanced, CycleStatus.DECLINED, "late reply", NOW) is False
    with pytest.raises(Conflict):
        tables.cycles.record_progress(advanced, step_index=2, next_contact_at=NOW, status=CycleStatus.CONTACTED,
                                      contacted_at=NOW, channel="email")
    assert tables.cycles.get(patient.patient_id, cycle.cycle_id).status == CycleStatus.BOOKED
    assert tables.patients.get(patient.patient_id).recall_status == RecallStatus.BOOKED
    assert list(tables.cycles.open_cycles("boston")) == [] and tables.cycles.count_open("boston") == 0


def test_an_attempt_is_claimed_once_and_a_released_claim_can_be_taken_again(tables):
    attempt = CommunicationAttempt(patient_id="p-000001", cycle_id="2026-11-21", step="sms-1", channel=Channel.SMS,
                                   outcome=AttemptOutcome.SENDING, at=NOW, language="en")
    assert tables.attempts.claim(attempt) is None
    assert tables.attempts.claim(attempt) == attempt  # the earlier claim comes back: do not send
    tables.attempts.release(attempt)
    assert tables.attempts.claim(attempt) is None
    sent = attempt.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": "m-1", "sms_segments": 1})
    tables.attempts.record(sent)
    with pytest.raises(Conflict):  # a sent attempt is no longer a releasable claim
        tables.attempts.release(attempt)
    assert tables.attempts.for_patient("p-000001") == [sent]


def test_a_claim_left_sending_becomes_unconfirmed_once_and_never_a_sent_one(tables):
    claim = CommunicationAttempt(patient_id="p-000001", cycle_id="2026-11-21", step="sms-1", channel=Channel.SMS,
                                 outcome=AttemptOutcome.SENDING, at=NOW)
    tables.attempts.claim(claim)
    assert tables.attempts.mark_unconfirmed(claim, "earlier try died mid-send") is True
    assert tables.attempts.mark_unconfirmed(claim, "again") is False
    [stored] = tables.attempts.for_patient("p-000001")
    assert (stored.outcome, stored.detail) == (AttemptOutcome.UNCONFIRMED, "earlier try died mid-send")
    email = claim.model_copy(update={"channel": Channel.EMAIL})
    tables.attempts.claim(email)
    tables.attempts.record(email.model_copy(update={"outcome": AttemptOutcome.SENT}))
    assert tables.attempts.mark_unconfirmed(email, "late") is False


def test_tasks_are_created_once_queued_by_due_time_and_leave_the_queue_when_closed(tables):
    def task(task_id, hours):
        return StaffTask(task_id=task_id, kind=TaskKind.RECALL_CALL, role=Role.FRONT_DESK, clinic_id="boston",
                         priority=TaskPriority.HIGH, title="Call", due_at=NOW + timedelta(hours=hours),
                         created_at=NOW, patient_id="p-000001")
    assert tables.tasks.create(task("t-late", 5)) is True
    assert tables.tasks.create(task("t-early", 1)) is True
    assert tables.tasks.create(task("t-early", 1)) is False
    assert [t.task_id for t in tables.tasks.open_queue("boston", "front_desk")] == ["t-early", "t-late"]
    assert tables.tasks.open_queue("madrid", "front_desk") == []
    assert tables.tasks.close("t-early", TaskStatus.DONE, NOW, result="booked") is True
    assert tables.tasks.close("t-early", TaskStatus.CANCELLED, NOW) is False
    assert [t.task_id for t in tables.tasks.open_queue("boston", "front_desk")] == ["t-late"]
    assert tables.tasks.get("t-early").status == TaskStatus.DONE
    with pytest.raises(NotFound):
        tables.tasks.get("t-none")


def test_appointments_and_notices(tables):
    appointment = Appointment(appointment_id="a-1", patient_id="p-000001", clinic_id="boston",
                              appointment_type="recall", starts_at=NOW + timedelta(days=9), created_at=NOW)
    tables.appointments.save(appointment)
    assert tables.appointments.for_patient("p-000001") == [appointment]
    notice = StaffNotice(kind="admin-summary", key="2026-11-24", outcome=AttemptOutcome.SENDING, at=NOW)
    assert tables.notices.claim(notice) is None
    assert tables.notices.claim(notice) == notice
    tables.notices.record(notice.model_copy(update={"outcome": AttemptOutcome.SENT, "message_id": "m-1"}))
    assert tables.notices.claim(notice).message_id == "m-1"
    assert tables.notices.claim(notice.model_copy(update={"key": "2026-11-25"})) is None
    assert tables.notices.mark_unconfirmed(notice.model_copy(update={"key": "2026-11-25"}), "died") is True


def booked(appointment_id="a-1", starts=NOW + timedelta(days=2), provider="boston-hyg-1", minutes=60,
           patient_id="p-000001"):
    return Appointment(appointment_id=appointment_id, patient_id=patient_id, clinic_id="boston",
                       appointment_type="recall", provider_id=provider, starts_at=starts,
                       ends_at=starts + timedelta(minutes=minutes), created_at=NOW)


def busy_cells(tables, providers, first, last):
    busy, read = tables.appointments.busy(providers, first, last)
    return {(b.provider_id, b.starts_at) for b in busy}, read


def test_availability_reads_the_booked_cells_a_booking_a_move_and_a_cancellation_leave(tables):
    """One booked-cells item per provider and local day: a search of 2 providers over 3 days reads 6 items,
    whatever the number of appointments, and sees exactly the cells that are booked."""
    first = booked()  # 60 minutes: 4 cells
    tables.appointments.book(first)
    tables.appointments.book(booked("a-2", starts=first.starts_at, provider="boston-hyg-2", minutes=30, patient_id="p-2"))
    day = first.starts_at.replace(hour=0, minute=0)
    window = (day - timedelta(days=1), day + timedelta(days=2))
    cells, read = busy_cells(tables, ["boston-hyg-1", "boston-hyg-2"], *window)
    expected = {("boston-hyg-1", first.starts_at + timedelta(minutes=15 * k)) for k in range(4)}
    expected |= {("boston-hyg-2", first.starts_at + timedelta(minutes=15 * k)) for k in range(2)}
    assert cells == expected
    assert read <= 2 * 4  # providers x the local days the window touches
    later = first.model_copy(update={"starts_at": first.starts_at + timedelta(minutes=30),
                                     "ends_at": first.ends_at + timedelta(minutes=30)})
    tables.appointments.move(first, later)  # two cells kept, two freed, two taken, on one day item
    cells, _ = busy_cells(tables, ["boston-hyg-1"], *window)
    assert cells == {("boston-hyg-1", later.starts_at + timedelta(minutes=15 * k)) for k in range(4)}
    tables.appointments.change_status(later, AppointmentStatus.CANCELLED, NOW)
    assert busy_cells(tables, ["boston-hyg-1"], *window)[0] == set()
    assert busy_cells(tables, ["boston-hyg-2"], *window)[0] == {c for c in expected if c[0] == "boston-hyg-2"}


def test_a_provider_is_never_booked_twice_for_overlapping_time(tables):
    first = booked()
    tables.appointments.book(first)
    with pytest.raises(SlotTaken):
        tables.appointments.book(booked("a-2", starts=first.starts_at + timedelta(minutes=45), patient_id="p-2"))
    tables.appointments.book(booked("a-3", starts=first.ends_at, patient_id="p-3"))  # back to back is fine
    tables.appointments.book(booked("a-4", starts=first.starts_at, provider="boston-hyg-2", patient_id="p-4"))
    busy, _ = tables.appointments.busy(["boston-hyg-1"], first.starts_at - timedelta(hours=1),
                                       first.starts_at + timedelta(hours=3))
    assert sorted(b.starts_at for b in busy) == [first.starts_at + timedelta(minutes=15 * k) for k in range(8)]
    assert {b.ends_at - b.starts_at for b in busy} == {timedelta(minutes=15)}
    assert tables.appointments.get("p-000001", "a-1") == first
    with pytest.raises(NotFound):
        tables.appointments.get("p-000001", "a-none")


def test_an_idempotency_key_books_once_and_names_what_it_booked(tables):
    tables.appointments.book(booked(), ("site", "order-1", "hash-1"))
    record = tables.appointments.idempotency_record("site", "order-1")
    assert (record.request_hash, record.patient_id, record.appointment_id) == ("hash-1", "p-000001", "a-1")
    with pytest.raises(IdempotencyKeyReused) as reused:
        tables.appointments.book(booked("a-2", starts=NOW + timedelta(days=3)), ("site", "order-1", "hash-2"))
    assert reused.value.record == record
    assert tables.appointments.idempotency_record("other-site", "order-1") is None
    assert [a.appointment_id for a in tables.appointments.for_patient("p-000001")] == ["a-1"]


def test_moving_and_cancelling_free_the_old_time(tables):
    first, other = booked(), booked("a-2", starts=NOW + timedelta(days=3), patient_id="p-2")
    tables.appointments.book(first)
    tables.appointments.book(other)
    with pytest.raises(SlotTaken):
        tables.appointments.move(first, first.model_copy(update={"starts_at": other.starts_at,
                                                                 "ends_at": other.ends_at}))
    later = first.model_copy(update={"starts_at": first.starts_at + timedelta(minutes=30),
                                     "ends_at": first.ends_at + timedelta(minutes=30), "updated_at": NOW})
    tables.appointments.move(first, later)  # overlaps its own old time: allowed
    with pytest.raises(Conflict):
        tables.appointments.move(first, later)  # it is no longer at the old time
    assert tables.appointments.get("p-000001", "a-1").starts_at == later.starts_at
    tables.appointments.book(booked("a-5", starts=first.starts_at, minutes=30, patient_id="p-5"))  # freed
    cancelled = tables.appointments.change_status(later, AppointmentStatus.CANCELLED, NOW, "patient asked")
    assert cancelled.status == AppointmentStatus.CANCELLED
    with pytest.raises(Conflict):
        tables.appointments.change_status(later, AppointmentStatus.COMPLETED, NOW)
    tables.appointments.book(booked("a-6", starts=later.starts_at + timedelta(minutes=30), minutes=60,
                                    patient_id="p-6"))
    busy, _ = tables.appointments.busy(["boston-hyg-1"], NOW, NOW + timedelta(days=4))
    assert len(busy) == 2 + 4 + 4  # the cells of a-5, a-6 and the other patient's; the cancelled one's are free


def test_confirmation_and_payments_once(tables):
    appointment = booked()
    tables.appointments.book(appointment)
    assert tables.appointments.set_confirmation(appointment, ConfirmationStatus.SENT, NOW)
    sent = tables.appointments.get("p-000001", "a-1")
    assert sent.confirmation == ConfirmationStatus.SENT and sent.confirmed_at is None
    assert not tables.appointments.set_confirmation(appointment, ConfirmationStatus.FAILED, NOW)  # read before: refused
    assert tables.appointments.set_confirmation(sent, ConfirmationStatus.CONFIRMED, NOW)
    assert tables.appointments.get("p-000001", "a-1").confirmed_at == NOW
    moved = booked().model_copy(update={"starts_at": appointment.starts_at + timedelta(days=1),
                                        "ends_at": appointment.ends_at + timedelta(days=1)})
    tables.appointments.move(appointment, moved)
    again = tables.appointments.get("p-000001", "a-1")
    assert again.confirmation == ConfirmationStatus.UNCONFIRMED and again.confirmed_at is None
    assert not tables.appointments.set_confirmation(sent, ConfirmationStatus.CONFIRMED, NOW)  # the old time
    payment = Payment(payment_id="pay-1", appointment_id="a-1", patient_id="p-000001", amount=Decimal("40.00"),
                      currency="EUR", method="card", at=NOW)
    assert tables.appointments.record_payment(payment) == payment
    assert tables.appointments.record_payment(payment.model_copy(update={"at": NOW + timedelta(hours=1)})) == payment
    with pytest.raises(Conflict):
        tables.appointments.record_payment(payment.model_copy(update={"amount": Decimal("41.00")}))


def test_a_days_booked_appointments_by_provider_and_time(tables):
    first, second = booked("a-1", starts=NOW + timedelta(hours=1)), booked("a-2", starts=NOW + timedelta(hours=3), patient_id="p-2")
    other_day = booked("a-3", starts=NOW + timedelta(days=1), patient_id="p-3")
    for appointment in (second, first, other_day):
        tables.appointments.book(appointment)
    cancelled = booked("a-4", starts=NOW + timedelta(hours=5), patient_id="p-4")
    tables.appointments.book(cancelled)
    tables.appointments.change_status(cancelled, AppointmentStatus.CANCELLED, NOW)
    found = tables.appointments.on_day(["boston-hyg-1", "boston-dds-1"], NOW, NOW + timedelta(hours=12))
    assert [a.appointment_id for a in found] == ["a-1", "a-2"]
    assert tables.appointments.on_day(["boston-dds-1"], NOW, NOW + timedelta(hours=12)) == []


def test_credentials_are_stored_hashed_and_revoked(tables):
    credential = IntegratorCredential(key_id="k1", name="site", tenant_id="demo", secret_sha256="ab" * 32)
    tables.credentials.add(credential)
    with pytest.raises(Conflict):
        tables.credentials.add(credential)
    assert tables.credentials.get("k1") == credential
    assert tables.credentials.get("k2") is None
    tables.credentials.revoke("k1")
    assert tables.credentials.get("k1").revoked is True
    with pytest.raises(NotFound):
        tables.credentials.revoke("k2")


def test_patients_by_phone_opt_out_and_a_cycle_never_moves_the_patient_back(tables):
    family = [make_patient("p-000001"), make_patient("p-000002", first_name="Leo")]
    tables.patients.save_many([*family, make_patient("p-000003", phone="+16175550000")])
    assert [p.patient_id for p in tables.patients.by_phone("+16172223344")] == ["p-000001", "p-000002"]
    assert tables.patients.by_phone("+34910000000") == []
    tables.patients.set_opted_out("p-000002", True)
    assert tables.patients.get("p-000002").opted_out is True
    assert tables.patients.count_due("boston", date(2026, 12, 8)) == 2
    with pytest.raises(NotFound):
        tables.patients.set_opted_out("p-missing", True)
    newer, older = cycle_for(family[0], date(2026, 11, 21)), cycle_for(family[0], date(2026, 5, 21))
    tables.cycles.open(newer)
    tables.cycles.open(older)  # an older cycle opened late never takes the patient back
    assert tables.patients.get("p-000001").recall_cycle_id == "2026-11-21"
    result = EligibilityResult(status=CoverageStatus.ACTIVE, payer="Delta", coverage_percent=80, checked_at=NOW,
                               source="stored-coverage")
    tables.cycles.record_eligibility(newer, result)
    assert tables.cycles.get("p-000001", "2026-11-21").eligibility == result
    assert [c.cycle_id for c in tables.cycles.for_patient("p-000001")] == ["2026-05-21", "2026-11-21"]


def test_a_change_from_an_older_read_is_refused_whatever_wrote_the_record_since(tables):
    patient = make_patient()
    tables.patients.save(patient)
    read = tables.patients.get(patient.patient_id)
    updated = tables.patients.update(read.model_copy(update={"email": "new@mail.example.com"}))
    assert updated.version == read.version + 1 == tables.patients.get(patient.patient_id).version
    with pytest.raises(Conflict):
        tables.patients.update(read.model_copy(update={"first_name": "Emily"}))  # stale: lost update refused
    for field_write in (lambda: tables.patients.set_opted_out(patient.patient_id, False),
                        lambda: tables.cycles.open(cycle_for(patient))):
        before = tables.patients.get(patient.patient_id)
        field_write()
        with pytest.raises(Conflict):
            tables.patients.update(before.model_copy(update={"first_name": "Emily"}))


def test_a_reply_and_its_consent_change_are_written_together_once(tables):
    family = [make_patient("p-000001"), make_patient("p-000002")]
    tables.patients.save_many(family)
    rows = [CommunicationAttempt(patient_id=p.patient_id, cycle_id="inbound", step="reply-s1", channel=Channel.SMS,
                                 outcome=AttemptOutcome.RECEIVED, at=NOW, message_id="s1") for p in family]
    assert tables.attempts.log_reply(rows, sms_consent=False) is True
    assert [tables.patients.get(p.patient_id).sms_consent for p in family] == [False, False]
    tables.patients.update(tables.patients.get("p-000001").model_copy(update={"sms_consent": True}))
    assert tables.attempts.log_reply(rows, sms_consent=False) is False  # a duplicate changes nothing
    assert tables.patients.get("p-000001").sms_consent is True
    assert [len(tables.attempts.for_patient(p.patient_id)) for p in family] == [1, 1]
    other = [r.model_copy(update={"step": "reply-o1"}) for r in rows]
    assert tables.attempts.log_reply(other) is True and tables.attempts.log_reply(other) is False


def test_the_months_sms_spend_is_reserved_atomically_within_the_budget(tables):
    budget = Decimal("1.00")
    assert tables.sms_spend.reserve("2026-11", Decimal("0.60"), budget) == Decimal("0.60")
    assert tables.sms_spend.reserve("2026-11", Decimal("0.50"), budget) is None  # would pass the budget
    assert tables.sms_spend.reserve("2026-11", Decimal("0.40"), budget) == Decimal("1.00")
    assert tables.sms_spend.spent("2026-11") == Decimal("1.00")
    tables.sms_spend.release("2026-11", Decimal("0.40"))
    assert tables.sms_spend.spent("2026-11") == Decimal("0.60")
    assert tables.sms_spend.reserve("2026-12", Decimal("2.00"), budget) is None
    assert tables.sms_spend.spent("2026-12") == Decimal(0)


def test_a_reply_to_a_family_member_who_left_meanwhile_is_retried_not_called_a_duplicate(tables):
    from revisit.errors import TransientError

    tables.patients.save(make_patient("p-000001"))
    rows = [CommunicationAttempt(patient_id=p, cycle_id="inbound", step="reply-s2", channel=Channel.SMS,
                                 outcome=AttemptOutcome.RECEIVED, at=NOW) for p in ("p-000001", "p-000009")]
    with pytest.raises(TransientError):
        tables.attempts.log_reply(rows, sms_consent=False)
    assert tables.patients.get("p-000001").sms_consent is True and tables.attempts.for_patient("p-000001") == []


def test_daily_counts_add_up_over_the_week_that_ends_on_a_day(tables):
    tables.daily_counts.add("boston", date(2026, 11, 17), "opened", 3)  # eight days before: outside the week
    tables.daily_counts.add("boston", date(2026, 11, 18), "opened", 2)
    tables.daily_counts.add("boston", date(2026, 11, 24), "opened")
    tables.daily_counts.add("boston", date(2026, 11, 24), "booked")
    tables.daily_counts.add("boston", date(2026, 11, 25), "booked")  # after the day
    tables.daily_counts.add("madrid", date(2026, 11, 24), "booked")
    week = tables.daily_counts.week("boston", date(2026, 11, 24))
    assert (week["opened"], week["booked"], week["declined"]) == (3, 1, 0)


def test_the_inactive_index_holds_the_lapsed_with_nothing_booked_and_pages_them(tables):
    """A1, A2: inactive 18 months after the last visit (the demo tenant's setting), or at once when the recall
    loop handed them over; a booking or an opt-out takes them out; read page by page, never a scan."""
    from datetime import UTC, datetime

    from revisit.models.entities import PatientStatus

    lapsed = [make_patient(f"p-{n:06d}", last_visit=date(2024, 1, n + 1), treatment="prosthesis") for n in range(3)]
    handed_over = make_patient("p-000010", last_visit=date(2026, 6, 1), status=PatientStatus.INACTIVE)
    recent = make_patient("p-000011", last_visit=date(2026, 6, 1))
    booked = make_patient("p-000012", last_visit=date(2024, 1, 1),
                          next_appointment_at=datetime(2026, 12, 1, 15, 0, tzinfo=UTC))
    opted_out = make_patient("p-000013", last_visit=date(2024, 1, 1), opted_out=True)
    tables.patients.save_many([*lapsed, handed_over, recent, booked, opted_out])
    today = date(2026, 11, 23)
    entries, token = [], None
    while True:
        page, token = tables.patients.inactive("boston", today, 2, token)
        entries += page
        if token is None:
            break
    assert [e["patient_id"] for e in entries] == ["p-000000", "p-000001", "p-000002", "p-000010"]
    assert {e["treatment"] for e in entries[:3]} == {"prosthesis"}
    assert tables.patients.count_inactive("boston", today) == 4
    assert tables.patients.count_inactive("boston", date(2025, 6, 1)) == 0  # before any became inactive
    assert tables.patients.count_inactive("madrid", today) == 0


def test_a_campaign_member_written_from_an_old_read_is_refused_and_the_lock_holds_one_campaign(tables):
    """A5, A6: the chain's step and the team's observation never overwrite each other; a patient is in one
    campaign at a time."""
    from revisit.errors import TransientError
    from revisit.models.entities import CampaignMember

    member = CampaignMember(campaign_id="c1", patient_id="p-000001", clinic_id="boston", treatment="general")
    assert tables.campaigns.add_member(member) and not tables.campaigns.add_member(member)
    read = tables.campaigns.member("c1", "p-000001")
    saved = tables.campaigns.save_member(read.model_copy(update={"observations": ["called back"]}))
    assert saved.version == read.version + 1
    with pytest.raises(TransientError):
        tables.campaigns.save_member(read.model_copy(update={"link_index": 1}))  # the old read
    assert tables.campaigns.member("c1", "p-000001").observations == ["called back"]
    assert tables.campaigns.lock("p-000001", "c1") and tables.campaigns.lock("p-000001", "c1")
    assert not tables.campaigns.lock("p-000001", "c2")
    tables.campaigns.unlock("p-000001", "c2")  # not its lock: nothing happens
    assert not tables.campaigns.lock("p-000001", "c2")
    tables.campaigns.unlock("p-000001", "c1")
    assert tables.campaigns.lock("p-000001", "c2")


def test_without_a_budget_the_months_sms_spend_is_still_added_up(tables):
    assert tables.sms_spend.reserve("2027-01", Decimal("0.25"), None) == Decimal("0.25")
    assert tables.sms_spend.reserve("2027-01", Decimal("0.25"), None) == Decimal("0.50")
    assert tables.sms_spend.spent("2027-01") == Decimal("0.50")
