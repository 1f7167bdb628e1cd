"""`moto_server` with one correction to moto 5.2.5's wire format, so the AWS SDK can read its answers.

S3 Control is a REST-XML service whose answers AWS roots at `<{Operation}Result>` (S3 Control API reference,
e.g. ListAccessPoints: "Response Syntax ... <ListAccessPointsResult>"); the AWS SDKs check that root. moto
5.2.5 roots them at `<{Operation}Response>`, so no S3 Control listing (access points, Multi-Region Access
Points) can be decoded. This launcher renames that root element in S3 Control answers (paths under
`/v20180820/`) and changes nothing else: errors (`<ErrorResponse>`) and every other service are moto's own.
Listed in ARCHITECTURE.md's emulator table; started by the test harness, the demo and the benchmarks through
`scripts/emulator-venv.sh`, with moto_server's own arguments.
"""

import re
import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.server import main

S3CONTROL_PATH = "/v20180820/"
NAMESPACE = rb'xmlns="http://awss3control\.amazonaws\.com/doc/2018-08-20/"'
OPEN = re.compile(rb"<(?!Error)(\w+)Response(\s+" + NAMESPACE + rb")")


def fix(body: bytes) -> bytes:
    m = OPEN.search(body)
    if m is None:
        return body
    name = m.group(1)
    body = body[: m.start()] + b"<" + name + b"Result" + m.group(2) + body[m.end():]
    close = b"</" + name + b"Response>"
    at = body.rfind(close)
    if at >= 0:
        body = body[:at] + b"</" + name + b"Result>" + body[at + len(close):]
    return body


_dispatch = DomainDispatcherApplication.__call__


def dispatch(self, environ, start_response):
    if not environ.get("PATH_INFO", "").startswith(S3CONTROL_PATH):
        return _dispatch(self, environ, start_response)
    held = {}
    written = []

    def hold(status, headers, exc_info=None):
        held["response"] = (status, headers, exc_info)
        return written.append

    result = _dispatch(self, environ, hold)
    try:
        body = b"".join(written) + b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status, headers, exc_info = held["response"]
    body = fix(body)
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers, exc_info)
    return [body]


DomainDispatcherApplication.__call__ = dispatch

if __name__ == "__main__":
    sys.exit(main())
