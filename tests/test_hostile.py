"""Hostile requests a real gunicorn must refuse before the app: huge or too many headers.

(The other hostile inputs of the hardening issue each have their own test beside the
code they attack: XML-breaking text — test_web_answer / test_render; object tags in a
flow — test_flows_source; chunked bodies over the limit — test_web_answer / test_gunicorn;
deeply nested JSON — test_web_answer / test_web_events; path-traversal flow names —
test_web_answer; sandbox escapes — test_answer / test_web_answer. docs/hardening.md
lists them all.)
"""

from __future__ import annotations

import socket

import pytest
from support import free_port, server_env, start, stop, wait_until_up

pytestmark = pytest.mark.slow  # every test talks to a gunicorn server


@pytest.fixture(scope="module")
def port(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("hostile")
    number = free_port()
    process = start(tmp_path, server_env(tmp_path, number), number)
    try:
        wait_until_up(process, number, tmp_path)
        yield number
    finally:
        stop(process)


def raw_request(port: int, head: bytes) -> bytes:
    """Send a hand-made request head; return the status line gunicorn answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n", 1)[0]


def test_a_normal_request_is_answered(port):
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    assert raw_request(port, head).startswith(b"HTTP/1.1 200")


def test_a_huge_header_is_refused(port):
    head = (
        b"GET /answer/minivoice/menu HTTP/1.1\r\nHost: x\r\nX-Big: "
        + b"a" * 9000
        + b"\r\nConnection: close\r\n\r\n"
    )
    assert raw_request(port, head).startswith(b"HTTP/1.1 431")


def test_too_many_headers_are_refused(port):
    headers = b"".join(b"X-H%d: v\r\n" % n for n in range(150))
    head = b"GET /answer/minivoice/menu HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    assert raw_request(port, head).startswith(b"HTTP/1.1 431")


def test_a_huge_request_line_is_refused(port):
    head = b"GET /answer/minivoice/menu?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert raw_request(port, head).split(b" ")[1] in (b"400", b"414")
