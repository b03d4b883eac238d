"""Counts to CloudWatch through Powertools' embedded metric format (flushed when the handler returns)."""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit


class PowertoolsMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def count(self, name: str, value: int = 1) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    def gauge(self, name: str, value: float) -> None:
        self._metrics.add_metric(name=name, unit=MetricUnit.NoUnit, value=value)
