"""What every Lambda handler shares: settings validated at cold start, Powertools, the tenant context.

A handler is a few lines:

    @step(RecallRef)
    def lambda_handler(request, ctx):
        return create_recall_tasks(request, ctx)
"""

from __future__ import annotations

import functools
import gc
import os
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, ValidationError

import revisit
from revisit.adapters.dynamo import TenantTables
from revisit.adapters.eligibility import eligibility_provider
from revisit.adapters.events import EventBridgePublisher
from revisit.adapters.links import KmsLinkSigner
from revisit.adapters.messaging import AwsNotifier
from revisit.adapters.metrics import PowertoolsMetrics
from revisit.adapters.reports import S3ReportStore
from revisit.adapters.workflows import StepFunctionsStarter
from revisit.config import describe_validation_error, load_tenant
from revisit.errors import ConfigError, InvalidStepInput
from revisit.services.context import TenantContext
from revisit.services.sms_policy import PolicedNotifier
from revisit.topology import TOPOLOGY, metric_dimensions, state_machine_environment

# Most steps publish no metric of their own; the cold-start metric is enough. Not a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
metrics = Metrics(namespace="Revisit")
# No X-Ray SDK (Powertools' Tracer): importing it cost about 120 ms of every cold start (issue 14) and it
# patched botocore. Lambda's active tracing (the CDK app turns it on) still records each invocation and its
# duration in X-Ray; what is lost is a subsegment per AWS call, which the execution history and the logs show.

__all__ = ["MetricUnit", "logger", "metrics", "step", "tenant_context"]


class Settings(BaseModel):
    """The function's environment. A missing or wrong value fails the cold start, not the first patient."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    tenant_id: str
    table_name: str
    reports_bucket: str
    tenant_config_path: str = "/opt/tenant/tenant.json"
    ses_configuration_set: str | None = None
    event_bus_name: str | None = None
    links_key_id: str | None = None
    public_api_url: str | None = None
    state_machine_arns: tuple[tuple[str, str], ...] = ()
    """(machine, ARN) of the state machines this function may start (revisit.topology declares which)."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        values: dict[str, object] = {name: environ[name.upper()] for name in cls.model_fields if name.upper() in environ}
        values["state_machine_arns"] = tuple(
            (machine, environ[variable]) for machine in TOPOLOGY.machine_names
            if (variable := state_machine_environment(machine)) in environ)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(describe_validation_error("environment", exc)) from None


_contexts: dict[Settings, TenantContext] = {}
X12_RECORDED_DIR = "REVISIT_X12_RECORDED_DIR"
"""Offline only: the recorded 271 answers an x12 tenant's eligibility provider reads instead of HTTPS."""


def apply_logging_environment() -> None:
    """On Lambda the environment is set before this module loads. Offline it is set afterwards (by the
    offline stack), so the log level and service name are read again."""
    logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))
    logger.append_keys(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))


def tenant_context() -> TenantContext:
    """Built once per execution environment (and per settings, offline, where tenants come and go)."""
    settings = Settings.from_environment()
    context = _contexts.get(settings)
    if context is None:
        config = load_tenant(settings.tenant_config_path)
        if config.tenant_id != settings.tenant_id:
            raise ConfigError(f"{settings.tenant_config_path}: tenant_id {config.tenant_id!r} is not {settings.tenant_id!r}")
        tables = TenantTables(boto3.resource("dynamodb").Table(settings.table_name), config)
        sink = PowertoolsMetrics(metrics)
        context = TenantContext(
            config=config,
            tables=tables,
            notifier=PolicedNotifier(AwsNotifier(ClientOnFirstUse("sns"), ClientOnFirstUse("sesv2"),
                                                 settings.ses_configuration_set), config, tables.sms_spend, sink),
            eligibility=eligibility_provider(config, os.environ.get(X12_RECORDED_DIR)),
            reports=S3ReportStore(ClientOnFirstUse("s3"), settings.reports_bucket),
            metrics=sink,
            workflows=StepFunctionsStarter(ClientOnFirstUse("stepfunctions"), dict(settings.state_machine_arns)),
            events=EventBridgePublisher(ClientOnFirstUse("events"), settings.event_bus_name)
            if settings.event_bus_name else None,
            links=KmsLinkSigner(ClientOnFirstUse("kms"), settings.links_key_id) if settings.links_key_id else None,
            public_url=str(config.public_api_url or settings.public_api_url or "") or None,
        )
        _contexts[settings] = context
        metrics.set_default_dimensions(**metric_dimensions(config.tenant_id))
    return context


class ClientOnFirstUse:
    """A boto3 client made when the function first calls its service. Making one reads the service's model
    (about 13 ms of a cold start each), and most functions never call most of the services their context
    offers: a report writer sends no SMS, a recall step writes no report (issue 14)."""

    _making = threading.Lock()  # boto3's default session makes clients one thread at a time

    def __init__(self, service: str) -> None:
        self._service = service
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            with self._making:
                if self._client is None:
                    self._client = boto3.client(self._service)
        return getattr(self._client, name)


def end_of_init() -> None:
    """The first invocation ends the cold start: what the init built is frozen out of the collector's sight and
    the collector, paused for the init (revisit/__init__.py), starts."""
    if revisit.COLLECTOR_PAUSED_FOR_INIT:
        revisit.COLLECTOR_PAUSED_FOR_INIT = False
        gc.freeze()
        gc.enable()


def reset_contexts() -> None:
    """Offline only: forget clients made for an earlier emulated account."""
    _contexts.clear()


def step(request_model: type[BaseModel], on_result: Callable[[Any], None] | None = None):
    """Wraps a workflow step: correlation id = execution name, metrics, typed input and output."""

    def decorate(service_call: Callable[[Any, TenantContext], BaseModel]):
        @functools.wraps(service_call)
        def handler(event: dict, context: Any) -> dict:
            try:
                request = request_model.model_validate(event)
            except ValidationError as exc:
                raise InvalidStepInput(describe_validation_error("step input", exc)) from None
            result = service_call(request, tenant_context())
            if on_result is not None:
                on_result(result)
            output = result.model_dump(mode="json")
            # Step results carry ids, dates, counts and outcomes only (models/steps.py), never patient data.
            logger.info("step finished", extra={"step_result": output})
            return output

        wrapped = logger.inject_lambda_context(correlation_id_path="execution_name")(metrics.log_metrics(handler))

        @functools.wraps(service_call)
        def lambda_handler(event: dict, context: Any) -> dict:
            end_of_init()
            try:
                return wrapped(event, context)
            finally:
                metrics.clear_metrics()  # flushed already; with metrics disabled (offline) they would pile up

        return lambda_handler

    return decorate


def http_handler(handle: Callable[[dict, Any], dict], correlation_id_path: str | None = None):
    """Wraps a handler that is not a workflow step (the API, its authorizer, inbound SMS): correlation id =
    API Gateway's request id by default; the event (it carries patient data) is never logged."""
    from aws_lambda_powertools.logging import correlation_paths

    wrapped = logger.inject_lambda_context(correlation_id_path=correlation_id_path or correlation_paths.API_GATEWAY_REST,
                                           log_event=False)(metrics.log_metrics(handle))

    @functools.wraps(handle)
    def lambda_handler(event: dict, context: Any) -> dict:
        end_of_init()
        try:
            return wrapped(event, context)
        finally:
            metrics.clear_metrics()

    return lambda_handler
