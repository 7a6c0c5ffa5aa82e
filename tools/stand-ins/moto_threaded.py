"""moto_server in a thread of the test's own process, on 127.0.0.1 and a free port: for Python
tests that need a real S3, Kinesis or Glue catalog API without a process of its own (the local
run starts moto_server as a process: tools/local-run/zones.py)."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from typing import Iterator

from moto.server import ThreadedMotoServer


@contextmanager
def threaded_moto() -> Iterator[str]:
    """Yields the endpoint, http://127.0.0.1:<port>; the server stops when the block ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
