"""`moto_server` with two corrections to moto 5.2.5, where it differs from AWS in ways the tests rely on.

1. Wire format, so the AWS SDK can read its answers.

S3 Control is a REST-XML service whose answers AWS roots at `<{Operation}Result>` (S3 Control API reference,
e.g. ListAccessPoints: "Response Syntax ... <ListAccessPointsResult>"); the AWS SDKs check that root. moto
5.2.5 roots them at `<{Operation}Response>`, so no S3 Control listing (access points, Multi-Region Access
Points) can be decoded. This launcher renames that root element in S3 Control answers (paths under
`/v20180820/`) and changes nothing else: errors (`<ErrorResponse>`) and every other service are moto's own.

2. Atomic conditional writes. DynamoDB evaluates a write's condition and applies the write as one step
(DynamoDB Developer Guide, "Condition expressions": a conditional write succeeds only if the item's
attributes meet the condition at the time of the write). moto_server serves requests on threads and its
DynamoDB backend checks the condition and then writes without a lock, so two concurrent `PutItem`s with
`attribute_not_exists` can both succeed. Its item writes (`PutItem`, `UpdateItem`, `DeleteItem`,
`TransactWriteItems`) are serialized here with one lock; nothing else changes.

Listed in ARCHITECTURE.md's emulator table; started by the test harness, the demo and the benchmarks through
`scripts/emulator-venv.sh`, with moto_server's own arguments.
"""

import functools
import re
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
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

_writes = threading.RLock()  # re-entrant: TransactWriteItems applies its items through put_item / update_item


def _atomic(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _writes:
            return method(*args, **kwargs)

    return locked


for _name in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _atomic(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    sys.exit(main())
