"""X4: `revisit import patients` against `revisit serve` over real HTTP: every bad row named by line and field
and nothing written; a good file creates, the same file again updates; CSV and JSON."""

import json
import subprocess
import sys

from tests.api.test_serve import http, serving
from tests.conftest import DEMO_TENANT, ROOT

GOOD = """patient_number,clinic_id,first_name,last_name,date_of_birth,language,phone,email,sms_consent,email_consent,last_visit,recalls
10001,boston,Ada,Byron,1990-02-03,en,+16175550191,ada@mail.example.com,yes,yes,2026-06-01,prophy:2026-06-01;perio:2026-08-20:2
10002,madrid,Lucía,Gómez,1985-07-09,es,+34612345678,,sí,no,2026-05-11,prophy:2026-05-11
"""
BAD = GOOD + """10003,boston,Bo,Tan,1970-13-01,en,,,no,no,,
10004,nowhere,Al,Ray,1970-01-01,en,,,no,no,,
10005,boston,Cy,Ng,1970-01-01,en,,,maybe,no,,
10006,boston,Di,Ox,1970-01-01,en,,,no,no,,whitening:2026-01-01
10001,boston,Ed,Oz,1970-01-01,en,,,no,no,,
"""


def run_import(tmp_path, content, port, token, name="export.csv", *extra):
    path = tmp_path / name
    path.write_text(content)
    return subprocess.run([sys.executable, "-m", "revisit.cli", "import", "patients", str(path), "--tenant",
                           str(DEMO_TENANT), "--url", f"http://127.0.0.1:{port}", "--token", token, *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_bad_row_is_named_and_nothing_is_imported_then_a_good_file_twice_creates_then_updates(tmp_path):
    with serving(patients=5) as (port, token):
        auth = {"Authorization": f"Bearer {token}"}
        bad = run_import(tmp_path, BAD, port, token)
        assert bad.returncode == 2 and "nothing imported" in bad.stderr
        for expected in ("line 4: date_of_birth", "line 5: clinic_id", "line 6: sms_consent",
                         "line 7: recalls.0.recall_type", "line 8: patient_number: also on line 2"):
            assert expected in bad.stderr, (expected, bad.stderr)
        assert http("GET", f"http://127.0.0.1:{port}/patients/boston-10001", headers=auth)[0] == 404
        first = run_import(tmp_path, GOOD, port, token)
        assert first.returncode == 0 and "2 created, 0 updated" in first.stdout, first.stderr
        again = run_import(tmp_path, GOOD.replace("+16175550191", "+16175550192").replace("Byron", "King"), port, token)
        assert again.returncode == 0 and "0 created, 2 updated" in again.stdout, again.stderr
        status, body = http("GET", f"http://127.0.0.1:{port}/patients/boston-10001", headers=auth)
        patient = json.loads(body)
        assert status == 200 and patient["phone"] == "+16175550192" and patient["last_visit"] == "2026-06-01"
        assert patient["last_name"] == "King"  # names are updated too
        assert {r["recall_type"]: r.get("interval_months") for r in patient["recalls"]} == {"prophy": None, "perio": 2}
        records = [{"patient_number": "20001", "clinic_id": "sofia", "first_name": "Мария", "last_name": "Петрова",
                    "date_of_birth": "1979-03-04", "language": "bg", "sms_consent": False, "email_consent": False,
                    "recalls": [{"recall_type": "prophy", "last_done": "2026-04-01"}]}]
        as_json = run_import(tmp_path, json.dumps(records, ensure_ascii=False), port, token, "export.json")
        assert as_json.returncode == 0 and "1 created" in as_json.stdout, as_json.stderr
        checked = run_import(tmp_path, GOOD, port, token, "export.csv", "--check")
        assert checked.returncode == 0 and "2 patient(s) ready" in checked.stdout
