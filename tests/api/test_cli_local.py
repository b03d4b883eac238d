"""The offline commands' options: --start for `demo` and `serve`, `sweep --night` (offline and on AWS)."""

import json
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from revisit.cli import main, start_time
from revisit.topology import state_machine_name

from tests.conftest import DEMO_TENANT


@pytest.mark.parametrize("argv, option", [
    (["demo", "--start", "2026-10-32"], "--start"),
    (["demo", "--start", "25/10/2026"], "--start"),
    (["demo", "--start", "2026-10-25T24:00"], "--start"),
    (["demo", "--start", "2026-10-25 01:00"], "--start"),
    (["serve", "--start", "tomorrow"], "--start"),
    (["serve", "--start", "1899-01-01"], "--start"),
    (["sweep", "--night", "2026-11-31", "--url", "http://127.0.0.1:8080"], "--night"),
    (["sweep", "--night", "20261123", "--url", "http://127.0.0.1:8080"], "--night"),
    (["sweep", "--url", "http://127.0.0.1:8080"], "--night"),
    (["sweep", "--night", "2026-11-23"], "--url --tenant"),
    (["sweep", "--night", "2026-11-23", "--url", "http://x", "--tenant", str(DEMO_TENANT)], "--tenant"),
])
def test_a_bad_start_or_night_is_refused_naming_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert f"revisit {argv[0]}: error:" in error and option in error, error


def test_start_is_utc_and_a_date_alone_is_noon_like_the_default():
    assert start_time("2026-10-25") == datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    assert start_time("2026-10-25T00:30") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert start_time("2026-10-25T00:30Z") == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_sweep_url_errors_say_what_is_wrong(capsys):
    assert main(["sweep", "--night", "2026-11-23", "--url", "file:///etc/passwd"]) == 2
    assert "--url" in capsys.readouterr().err
    assert main(["sweep", "--night", "2026-11-23", "--url", "http://127.0.0.1:1"]) == 1
    assert "no `revisit serve` answering" in capsys.readouterr().err


def test_sweep_on_aws_starts_the_tenants_sweep_machine_for_the_night_named_after_it(capsys, monkeypatch):
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        sfn = boto3.client("stepfunctions")
        machine = sfn.create_state_machine(
            name=state_machine_name("demo", "sweep"), roleArn="arn:aws:iam::123456789012:role/sweep",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))["stateMachineArn"]
        assert main(["sweep", "--night", "2026-11-23", "--tenant", str(DEMO_TENANT)]) == 0
        [execution] = sfn.list_executions(stateMachineArn=machine)["executions"]
        assert execution["name"].startswith("sweep-demo-20261123-rerun-")
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        assert json.loads(described["input"]) == {"run_date": "2026-11-23"}
        assert execution["name"] in capsys.readouterr().out
