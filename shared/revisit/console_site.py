"""The staff console's static site (issue 15): its files, the config.json it reads, and the security headers
it is served with; the same for `revisit serve` and for the CDK stack (S3 behind CloudFront)."""

from __future__ import annotations

import json
from pathlib import Path

CONSOLE_DIR = Path(__file__).parent / "console"
CONSOLE_FILES = {"index.html": "text/html; charset=utf-8", "console.js": "text/javascript; charset=utf-8",
                 "console.css": "text/css; charset=utf-8"}


def console_config(cognito_endpoint: str, client_id: str, api_base: str) -> str:
    """config.json: where the console signs in and which API it calls (no secret: a public app client)."""
    return json.dumps({"cognito": {"endpoint": cognito_endpoint, "clientId": client_id}, "apiBase": api_base})


def content_security_policy(connect: str = "") -> str:
    """Scripts and styles from the site only, nothing inline; requests to the site, the API and Cognito."""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            f"connect-src 'self'{(' ' + connect) if connect else ''}; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'")
