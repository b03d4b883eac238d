"""`revisit serve` as an integrator meets it: the CLI on a free port, a booking over real HTTP."""

import contextlib
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tests.conftest import ROOT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, headers=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextlib.contextmanager
def serving(*options: str, patients: int = 20):
    """`revisit serve` on a free port (with these options); yields the port and the printed credential."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "revisit.cli", "serve", "--port", str(port),
                                "--patients", str(patients), *options],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner, deadline = "", time.monotonic() + 60
        while "credential" not in banner and time.monotonic() < deadline:
            banner += process.stdout.readline()
        yield port, re.search(r"Bearer (rvk_\S+)", banner).group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_answers_a_booking_over_http():
    with serving() as (port, token):
        base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
        assert http("GET", f"{base}/health") == (200, '{"status":"ok"}')
        assert http("GET", f"{base}/patients/p-000000")[0] == 401
        booking = {"patient_id": "p-000000", "clinic_id": "boston", "appointment_type": "recall",
                   "provider_id": "boston-hyg-1", "starts_at": "2026-11-30T09:00:00-05:00"}
        status, body = http("POST", f"{base}/appointments", booking, auth)
        assert status == 201 and json.loads(body)["status"] == "booked"
        assert http("POST", f"{base}/appointments", booking, auth)[0] == 409
        assert http("POST", f"{base}/_local/clock?days=1")[0] == 200
        status, page = http("GET", f"{base}/_local/outbox")
        assert status == 200 and "Outbox" in page
        assert http("GET", f"{base}/openapi.json")[0] == 200


def raw_request(port, data: bytes, wait=5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        connection.sendall(data)
        chunks = []
        try:
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
        return b"".join(chunks)


def test_serve_answers_every_malformed_or_concurrent_request_and_never_drops_a_connection():
    import threading

    with serving() as (port, token):
        head = f"POST /patients HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        assert b" 400 " in raw_request(port, (head + "Content-Length: 4\r\n\r\n").encode() + b"\xff\xfe\xfd\xfc")
        assert b" 400 " in raw_request(port, (head + "Content-Length: abc\r\n\r\n").encode())
        assert b" 413 " in raw_request(port, (head + "Content-Length: 99999999999\r\n\r\n").encode())
        base = f"http://127.0.0.1:{port}"
        for query in ("days=1e9", "days=nan", "days=-1", "hours=abc"):
            assert http("POST", f"{base}/_local/clock?{query}")[0] == 422, query
        booking = {"patient_id": "p-000000", "clinic_id": "boston", "appointment_type": "recall",
                   "provider_id": "boston-hyg-1", "starts_at": "2026-11-30T10:00:00-05:00"}
        answers = []

        def book():
            try:
                answers.append(http("POST", f"{base}/appointments", booking, {"Authorization": f"Bearer {token}"})[0])
            except Exception as exc:  # a reset connection
                answers.append(type(exc).__name__)

        racers = [threading.Thread(target=book) for _ in range(20)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join()
        assert sorted(answers, key=str) == [201] + [409] * 19
