"""`revisit demo --start` in late October: the nightly sweep follows Madrid's DST change, every message in
out/outbox.jsonl says when (UTC and the clinic's time), to whom (patient id), what and how, emails with their
raw MIME, and the summary gives SMS segments per language."""

import json
from datetime import datetime
from email import message_from_string, policy
from zoneinfo import ZoneInfo

from revisit.cli import main


def test_demo_from_a_chosen_start_writes_a_timed_and_explained_outbox_and_segments_per_language(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--patients", "60", "--days", "4", "--start", "2026-10-23T12:00"]) == 0
    assert "at virtual 2026-10-23 12:00Z" in capsys.readouterr().out
    executions = [json.loads(line) for line in (tmp_path / "executions.jsonl").read_text().splitlines()]
    nightly = sorted(e["start"] for e in executions if e["machine"] == "sweep")
    # 02:00 in Madrid: summer time until the night of 25 October (03:00 became 02:00), then winter time
    assert nightly == ["2026-10-24T00:00:00+00:00", "2026-10-25T00:00:00+00:00", "2026-10-26T01:00:00+00:00",
                       "2026-10-27T01:00:00+00:00"]

    messages = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert {m["channel"] for m in messages} == {"sms", "email"}
    for message in messages:
        sent = datetime.fromisoformat(message["sent_at"].replace("Z", "+00:00"))
        local = datetime.fromisoformat(message["local_time"])
        assert local == sent and local.utcoffset() == sent.astimezone(ZoneInfo(message["time_zone"])).utcoffset()
        assert message["kind"] and (message["patient_id"] is None) == message["kind"].startswith("staff:")
        if message["channel"] == "email":
            parsed = message_from_string(message["raw"], policy=policy.default)
            assert parsed["Subject"] and str(parsed["Subject"]).replace("\n ", " ") == message["subject"].replace("\n ", " ")
    assert any(m["kind"].startswith("recall:") and m["channel"] == "sms" for m in messages)

    summary = json.loads((tmp_path / "summary.json").read_text())
    by_language = summary["sms_segments_by_language"]
    sms = [m for m in messages if m["channel"] == "sms"]
    assert sum(f["sms"] for f in by_language.values()) == len(sms)
    assert summary["sms_segments"] == sum(f["segments"] for f in by_language.values()) == sum(m["segments"] for m in sms)
    for language, figures in by_language.items():
        mine = [m for m in sms if m["language"] == language]
        assert figures["max_segments"] == max(m["segments"] for m in mine)
        assert sum(figures["encodings"].values()) == len(mine) and set(figures["encodings"]) <= {"GSM-7", "UCS-2"}
    assert by_language["ru"]["encodings"] == {"UCS-2": by_language["ru"]["sms"]}
    markdown = (tmp_path / "summary.md").read_text()
    assert "SMS segments per language" in markdown and "| ru |" in markdown
