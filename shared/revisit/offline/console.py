"""`revisit serve`'s copy of the console's site (CloudFront and S3 on AWS): its three files and config.json,
with the headers CloudFront's response-headers policy adds."""

from __future__ import annotations

from revisit.console_site import CONSOLE_DIR, CONSOLE_FILES, content_security_policy

HEADERS = {"Content-Security-Policy": content_security_policy(), "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "Cache-Control": "no-cache"}


def console_file(path: str, config: str) -> tuple[int, str, str, dict[str, str]]:
    name = path.removeprefix("/console").strip("/") or "index.html"
    if name == "config.json":
        return 200, "application/json", config, HEADERS
    if name not in CONSOLE_FILES:
        return 404, "text/plain; charset=utf-8", "not found", HEADERS
    return 200, CONSOLE_FILES[name], (CONSOLE_DIR / name).read_text(encoding="utf-8"), HEADERS
