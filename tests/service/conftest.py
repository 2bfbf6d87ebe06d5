"""A real server for the service tests: uvicorn on a free loopback port, in a thread.

The socket is bound here (127.0.0.1, port 0: the kernel picks a free port) and handed to
uvicorn; startup waits at most :data:`STARTUP` seconds and the server is always stopped
(and its thread joined, bounded) when the tests are done.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from daycare_settle.service import create_app

STARTUP = 30.0
SHUTDOWN = 10.0


class LiveServer:
    """A running server: its base URL and a client bound to it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url, timeout=60.0)


def start(max_body: int | None = None) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    app = create_app() if max_body is None else create_app(max_body=max_body)
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(SHUTDOWN)
            sock.close()
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def stop(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(SHUTDOWN)
    if thread.is_alive():  # pragma: no cover - a hung server fails the run loudly
        server.force_exit = True
        thread.join(SHUTDOWN)


@contextmanager
def serving(max_body: int | None = None) -> Iterator[LiveServer]:
    """A server on loopback for the ``with`` block, with its client; stopped after it."""
    server, thread, url = start(max_body=max_body)
    live = LiveServer(url)
    try:
        yield live
    finally:
        live.client.close()
        stop(server, thread)


@pytest.fixture(scope="session")
def live() -> Iterator[LiveServer]:
    with serving() as server:
        yield server


@pytest.fixture(scope="session")
def small() -> Iterator[LiveServer]:
    """A server whose body limit is 1 000 bytes."""
    with serving(max_body=1_000) as server:
        yield server
