"""R19 R20 R22: the appointment's next notice (confirmation, reminder, instructions), once."""

from revisit.lambda_runtime import step
from revisit.models.steps.notices import AppointmentNoticeRequest
from revisit.services.appointment_notices import send_next_notice

lambda_handler = step(AppointmentNoticeRequest)(send_next_notice)
