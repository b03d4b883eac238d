"""Every SMS passes two checks before it reaches the provider (whoever sends it): the number's country is
one the tenant serves (no SMS pumping to premium numbers abroad), and the month's spend stays within the
tenant's budget (reserved atomically before the send, given back if the send fails; counted even without
a budget, for the ops dashboard). A refused SMS is a
permanent failure for the sender: recorded FAILED, counted in MessagesNotSent, never retried."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from revisit import clock
from revisit.domain.sms import sms_cost, sms_country, sms_segments
from revisit.errors import PermanentSendFailure
from revisit.models.tenant import TenantConfig
from revisit.ports import EmailMessage, MetricsSink, Notifier, SmsMessage, SmsSpendRepository
from revisit.services import sent_messages

SMS_SPEND_METRIC = "SmsSpendThisMonthUsd"
"""The calendar month's SMS spend so far (UTC), at list prices: the dashboard draws it under the budget."""

LIST_PRICES = {country: Decimal(str(price)) for country, price in json.loads(
    (Path(__file__).resolve().parents[1] / "pricing.json").read_text())["sms_per_segment_by_country"].items()}


class PolicedNotifier:
    """A Notifier in front of the provider's: the same port, with the tenant's SMS rules applied."""

    def __init__(self, inner: Notifier, config: TenantConfig, spend: SmsSpendRepository, metrics: MetricsSink,
                 prices: dict[str, Decimal] = LIST_PRICES) -> None:
        self._inner = inner
        self._countries = config.sms_allowed_countries
        self._budget = config.sms_monthly_budget_usd
        self._spend = spend
        self._metrics = metrics
        self._prices = prices

    def send_sms(self, message: SmsMessage) -> str:
        country = sms_country(message.phone)
        if country not in self._countries:
            self._metrics.count("SmsCountryRefused")
            raise PermanentSendFailure(f"SMS to {country or 'an unknown country'} is not among the tenant's countries")
        cost = sms_cost(country, sms_segments(message.text).segments, self._prices)
        if cost is None:
            if self._budget is None:  # nothing to keep within, and no price to add up
                message_id = self._inner.send_sms(message)
                sent_messages.remember(message.text)
                return message_id
            self._metrics.count("SmsCountryRefused")
            raise PermanentSendFailure(f"no SMS price known for {country}")
        month = clock.now().strftime("%Y-%m")
        spent = self._spend.reserve(month, cost, self._budget)
        if spent is None:
            self._metrics.count("SmsBudgetReached")
            raise PermanentSendFailure(f"the SMS budget for {month} is spent")
        try:
            message_id = self._inner.send_sms(message)
        except Exception:
            self._spend.release(month, cost)
            raise
        self._metrics.gauge(SMS_SPEND_METRIC, float(spent))  # the dashboard's spend against the limit
        sent_messages.remember(message.text)
        return message_id

    def send_email(self, message: EmailMessage) -> str:
        message_id = self._inner.send_email(message)
        sent_messages.remember(f"{message.subject}\n\n{message.text}")
        return message_id
