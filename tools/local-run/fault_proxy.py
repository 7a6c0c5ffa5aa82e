"""A proxy on 127.0.0.1 in front of moto_server that answers some calls as AWS does when it is
overloaded, for the fault-injection run (`npm run local -- --faults`).

- S3: while `s3_errors_left` lasts, the first PutObject of each object is answered 503 SlowDown
  or 500 InternalError (alternately) without reaching moto, as S3 does under a request-rate spike;
  the caller's retry of that object then goes through.
- Kinesis: for the first `kinesis_calls` PutRecords calls (a while: each refusal costs the caller
  a backoff, and the whole path runs hundreds of calls), every `throttle_every`-th call is refused
  whole (400 ProvisionedThroughputExceededException); of the others, every `refuse_every`-th record is
  refused inside a 200 answer (FailedRecordCount, ErrorCode per record) and only the rest reach
  moto, as a shard over its write limit for a moment does. A record is refused once: when the
  caller sends it again, the moment has passed.

Everything else passes through unchanged. The proxy counts what it injected, so the run can say
how many faults each path met and still delivered everything.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Injected:
    s3_put_errors: dict[int, int] = field(default_factory=lambda: {500: 0, 503: 0})
    kinesis_calls_throttled: int = 0
    kinesis_records_refused: int = 0
    kinesis_calls: int = 0
    s3_puts: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "s3 PutObject answered 500": self.s3_put_errors[500],
            "s3 PutObject answered 503": self.s3_put_errors[503],
            "kinesis PutRecords calls throttled whole": self.kinesis_calls_throttled,
            "kinesis records refused inside a call": self.kinesis_records_refused,
        }


class FaultProxy:
    def __init__(self, upstream: str, s3_errors: int = 40, kinesis_calls: int = 80, throttle_every: int = 4, refuse_every: int = 3):
        self.upstream = urlsplit(upstream)
        self.s3_errors_left = s3_errors
        self.kinesis_faulty_calls = kinesis_calls
        self.throttle_every = throttle_every
        self.refuse_every = refuse_every
        self.injected = Injected()
        self._refused_before: set[bytes] = set()
        self._failed_once: set[str] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- decisions, under the lock (the server is threaded) --

    def _s3_error(self, path: str) -> int | None:
        with self._lock:
            self.injected.s3_puts += 1
            if self.s3_errors_left <= 0 or path in self._failed_once:
                return None
            self._failed_once.add(path)
            self.s3_errors_left -= 1
            status = 503 if self.s3_errors_left % 2 == 0 else 500
            self.injected.s3_put_errors[status] += 1
            return status

    def _kinesis_call(self) -> int:
        with self._lock:
            self.injected.kinesis_calls += 1
            return self.injected.kinesis_calls

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # the run's log has its own lines
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()  # the empty line after the last chunk
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                # A HEAD answer has no body but the length of the object it describes.
                length = next((v for k, v in headers.items() if k.lower() == "content-length"), "0") if self.command == "HEAD" else str(len(body))
                self.send_header("Content-Length", length)
                self.end_headers()
                self.wfile.write(body)

            def _forward(self, body: bytes) -> tuple[int, bytes, dict[str, str]]:
                connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "host", "transfer-encoding")}
                    headers["Host"] = proxy.upstream.netloc
                    headers["Content-Length"] = str(len(body))
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    return response.status, response.read(), dict(response.getheaders())
                finally:
                    connection.close()

            def _handle(self) -> None:
                body = self._body()
                target = self.headers.get("X-Amz-Target", "")
                if self.command == "PUT" and not target and "x-id=UploadPart" not in self.path:
                    status = proxy._s3_error(self.path.split("?")[0])
                    if status is not None:
                        code = "SlowDown" if status == 503 else "InternalError"
                        xml = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>injected by the fault proxy</Message></Error>"
                        self._answer(status, xml.encode(), {"Content-Type": "application/xml"})
                        return
                if target.endswith(".PutRecords"):
                    self._put_records(body)
                    return
                self._answer(*self._forward(body))

            def _put_records(self, body: bytes) -> None:
                call = proxy._kinesis_call()
                kind = "application/x-amz-json-1.1"
                if call > proxy.kinesis_faulty_calls:
                    self._answer(*self._forward(body))
                    return
                if call % proxy.throttle_every == 0:
                    with proxy._lock:
                        proxy.injected.kinesis_calls_throttled += 1
                    error = {"__type": "ProvisionedThroughputExceededException", "message": "Rate exceeded for stream (injected by the fault proxy)"}
                    self._answer(400, json.dumps(error).encode(), {"Content-Type": kind})
                    return
                request = json.loads(body)
                records = request["Records"]
                with proxy._lock:
                    digests = [hashlib.sha1(f"{r.get('PartitionKey')}|{r.get('Data')}".encode()).digest() for r in records]
                    refused = {i for i in range(len(records)) if (i + 1) % proxy.refuse_every == 0 and digests[i] not in proxy._refused_before}
                    proxy._refused_before.update(digests[i] for i in refused)
                kept = [r for i, r in enumerate(records) if i not in refused]
                results: list[dict] = []
                if kept:
                    status, answer, headers = self._forward(json.dumps({**request, "Records": kept}).encode())
                    if status != 200:
                        self._answer(status, answer, headers)
                        return
                    delivered = iter(json.loads(answer)["Records"])
                else:
                    delivered = iter([])
                failed = 0
                for i in range(len(records)):
                    if i in refused:
                        failed += 1
                        results.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard (injected by the fault proxy)"})
                    else:
                        result = next(delivered)
                        failed += 1 if "ErrorCode" in result else 0
                        results.append(result)
                with proxy._lock:
                    proxy.injected.kinesis_records_refused += len(refused)
                self._answer(200, json.dumps({"FailedRecordCount": failed, "Records": results}).encode(), {"Content-Type": kind})

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        return Handler
