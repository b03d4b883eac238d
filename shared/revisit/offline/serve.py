"""`revisit serve`: the emulated stack and the booking API on 127.0.0.1, demo tenant seeded, an integrator
credential printed. Local-only routes under /_local (they exist only offline; no credential):
- GET /_local/outbox (a page) and GET /_local/outbox.json: every SMS and email sent, with its virtual send
  time, the clinic's local time, the patient, the kind and, for emails, the raw MIME (offline/outbox.py);
- GET /_local/clock, POST /_local/clock?days=1&hours=2: read or move virtual time (scheduled work fires);
- POST /_local/sms/inbound {"from", "text", "message_id"?}: a patient's SMS reply, as AWS delivers it;
- POST /_local/sweep {"night": "YYYY-MM-DD"}: re-run a night's sweep (starts nothing twice).
The last two: offline/local_routes.py."""

from __future__ import annotations

import gc
import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from revisit.api.app import openapi_document
from revisit.api.auth import CredentialStore
from revisit.console_site import console_config
from revisit.lambda_runtime import tenant_context
from revisit.offline.cognito import cognito_endpoint, demo_password
from revisit.offline.console import console_file
from revisit.offline.driver import Driver
from revisit.offline.gateway import Gateway
from revisit.offline.local_routes import LocalError, deliver_inbound_sms, rerun_sweep
from revisit.offline.outbox import outbox_html, outbox_records
from revisit.offline.stack import OfflineStack
from revisit.offline.synthetic import generate

MAX_BODY = 1_000_000
MAX_DAYS = 366  # one move of the virtual clock


class _BadRequest(Exception):
    def __init__(self, status: int, message: str, field: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 reset connections in a 20-way booking race


def serve(tenant_file: Path, start: datetime, port: int, patients: int, ready=print) -> None:
    # Patients' links (the unsubscribe link in recall emails) point at this server.
    with OfflineStack(tenant_file, start, public_url=f"http://127.0.0.1:{port}") as stack:
        ctx = tenant_context()
        people, appointments = generate(stack.config, patients, start.date(), seed=7)
        stack.tables.patients.save_many(people)
        for appointment in appointments:
            ctx.tables.appointments.save(appointment)
        _, token = CredentialStore(stack.tables.credentials).issue("local-integrator", stack.config.tenant_id, rate_per_second=20)
        gateway, driver = Gateway(stack), Driver(stack)
        lock = threading.Lock()  # one request at a time through the emulator, like one Lambda environment

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self): self._handle("GET")
            def do_POST(self): self._handle("POST")
            def do_PATCH(self): self._handle("PATCH")
            def do_PUT(self): self._handle("PUT")
            def do_DELETE(self): self._handle("DELETE")

            def log_message(self, *args):  # no request lines with patient ids on the console
                pass

            timeout = 15  # a client that promises a body and sends less gets a 408, not a hung thread

            def _handle(self, method: str) -> None:
                headers: dict[str, str] = {}
                try:
                    body = self._body()
                except _BadRequest as bad:
                    status, content_type, payload = bad.status, "application/json", json.dumps(
                        {"status": bad.status, "error": str(bad), "field": bad.field})
                    self.close_connection = True
                else:
                    path = urlsplit(self.path)
                    with lock:
                        try:
                            status, content_type, payload, headers = self._answer(method, path, body)
                        except Exception as exc:  # a bug in the emulator: say so, keep serving
                            status, content_type, payload = 500, "application/json", json.dumps(
                                {"status": 500, "error": f"offline server error: {type(exc).__name__}"})
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in headers.items():  # a page's security headers, as API Gateway passes them
                    if name.lower() not in ("content-type", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> str | None:
                declared = self.headers.get("Content-Length") or "0"
                if not (declared.isascii() and declared.isdigit()):  # '²' is a digit to str.isdigit
                    raise _BadRequest(400, "Content-Length is not a number", "Content-Length")
                length = int(declared)
                if length > MAX_BODY:
                    raise _BadRequest(413, f"bodies are at most {MAX_BODY} bytes", "Content-Length")
                try:
                    raw = self.rfile.read(length) if length else b""
                except TimeoutError:
                    raise _BadRequest(408, "the body did not arrive", "Content-Length") from None
                if len(raw) < length:
                    raise _BadRequest(400, "the body is shorter than its Content-Length", "Content-Length")
                try:
                    return raw.decode("utf-8") if raw else None
                except UnicodeDecodeError:
                    raise _BadRequest(400, "the body is not UTF-8", "body") from None

            def _answer(self, method: str, path, body: str | None) -> tuple[int, str, str, dict[str, str]]:
                if path.path == "/_local/cognito":  # the Cognito endpoint the console signs in at
                    if method != "POST":
                        return 405, "application/json", json.dumps({"__type": "UnknownOperationException"}), {}
                    status, answer = cognito_endpoint(stack.client("cognito-idp"), self.headers.get("X-Amz-Target"), body)
                    return status, "application/x-amz-json-1.1", json.dumps(answer), {}
                if path.path.startswith("/_local/"):
                    return *_local(method, path, body, stack, driver), {}
                if path.path == "/console" or path.path.startswith("/console/"):
                    return console_file(path.path, console_config("/_local/cognito", stack.staff_pool.client_id, ""))
                if path.path == "/openapi.json":
                    return 200, "application/json", openapi_document(), {}
                answer = gateway.request(method, self.path, body, dict(self.headers.items()))
                driver.settle()  # the events it published reach their consumers now, as on AWS within seconds
                return answer.status, answer.headers.get("Content-Type", "application/json"), answer.body, answer.headers

        server = _Server(("127.0.0.1", port), Handler)
        gc.collect()
        gc.freeze()  # the seeded emulated account is long-lived: not rescanned by every collection (p95 latency)
        ready(f"Revisit API for tenant {stack.config.tenant_id} on http://127.0.0.1:{server.server_port} "
              f"({len(people)} synthetic patients, virtual time {stack.clock.now():%Y-%m-%d %H:%M}Z)\n"
              f"  credential: Authorization: Bearer {token}\n"
              f"  OpenAPI: /openapi.json   outbox: /_local/outbox (/_local/outbox.json)   "
              f"clock: /_local/clock (POST ?days=1 to advance)\n"
              f"  staff console: http://127.0.0.1:{server.server_port}/console/  sign in as "
              + ", ".join(f"{m.staff_id} / {demo_password(m.staff_id)} ({m.role.value})" for m in _console_users(stack.config))
              + "\n"
              "  a patient's reply: POST /_local/sms/inbound {\"from\", \"text\"}   "
              "a night's sweep again: POST /_local/sweep {\"night\": \"YYYY-MM-DD\"}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()


def _console_users(config) -> list:
    """One demo user per role the console shows something different to (every user of the tenant file signs in
    the same way: `Revisit-<staff_id>-2026`)."""
    wanted = ("boston-front-desk", "boston-hygienist", "boston-lead", "boston-senior-reg", "boston-reg-1", "chain-admin")
    return [m for m in config.staff if m.staff_id in wanted]


def _local(method: str, path, body: str | None, stack: OfflineStack, driver: Driver) -> tuple[int, str, str]:
    posts = {"/_local/sms/inbound": deliver_inbound_sms, "/_local/sweep": rerun_sweep}
    if path.path in posts:
        if method != "POST":
            return 405, "application/json", json.dumps({"status": 405, "error": "POST only", "field": None})
        try:
            return 200, "application/json", json.dumps(posts[path.path](stack, driver, body), ensure_ascii=False)
        except LocalError as error:
            return error.status, "application/json", json.dumps(error.problem(), ensure_ascii=False)
    if path.path == "/_local/outbox.json":
        records = outbox_records(stack.config, stack.table)
        return 200, "application/json", json.dumps({"messages": records}, ensure_ascii=False)
    if path.path == "/_local/clock":
        if method == "POST":
            query = parse_qs(path.query)
            try:
                days, hours = (float(query.get(name, ["0"])[0]) for name in ("days", "hours"))
            except ValueError:
                days = hours = -1.0
            if not (0 <= days <= MAX_DAYS and 0 <= hours <= 24 * MAX_DAYS and days + hours > 0):
                return 422, "application/json", json.dumps({"status": 422, "field": "days", "error":
                                                            f"days and hours: a positive move of at most {MAX_DAYS} days"})
            driver.run_until(stack.clock.now() + timedelta(days=days, hours=hours))
        return 200, "application/json", json.dumps({"now": stack.clock.now().isoformat()})
    if path.path == "/_local/outbox":
        return 200, "text/html; charset=utf-8", outbox_html(outbox_records(stack.config, stack.table))
    return 404, "application/json", json.dumps({"status": 404, "error": "no such local route", "field": None})
