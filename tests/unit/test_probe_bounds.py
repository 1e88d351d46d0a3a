"""socklab/probes/bounded.py (and lab 7's body reader): a probe's reads keep bounded data
and end by a deadline, whatever the peer sends. No Docker: a socket pair, the peer a thread."""

from __future__ import annotations

import http.client
import socket
import threading
import time

import pytest

from socklab.probes import http_probe
from socklab.probes.bounded import KEEP, overflowed, read_until, stopped


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def send_forever(sock: socket.socket, block: bytes, pause: float = 0.0) -> None:
    try:
        while True:
            sock.sendall(block)
            time.sleep(pause)
    except OSError:
        pass


def test_a_peer_that_sends_without_end_is_read_to_keep_bytes_more_and_no_further(pair):
    ours, theirs = pair
    threading.Thread(target=send_forever, args=(theirs, b"x" * 65536), daemon=True).start()
    got = bytearray()
    assert read_until(ours, got, 100, time.monotonic() + 10) is False
    assert len(got) >= 100  # the expected bytes: the caller stops here, nothing kept past them
    got.clear()
    assert read_until(ours, got, None, time.monotonic() + 10) is False
    assert overflowed(got) and len(got) <= KEEP + 65536


def test_a_peer_that_trickles_meets_the_deadline(pair):
    ours, theirs = pair
    threading.Thread(target=send_forever, args=(theirs, b"x", 0.05), daemon=True).start()
    got, start = bytearray(), time.monotonic()
    assert read_until(ours, got, None, start + 0.5, idle=5) is False
    assert 0.4 < time.monotonic() - start < 2
    assert got and not overflowed(got)


def test_a_peer_that_closes_is_read_to_the_end(pair):
    ours, theirs = pair
    theirs.sendall(b"hello")
    theirs.shutdown(socket.SHUT_WR)
    got = bytearray()
    assert read_until(ours, got, None, time.monotonic() + 5) is True
    assert got == b"hello" and not overflowed(got, 5)


def test_idle_ends_a_silent_peer_before_the_deadline(pair):
    ours, _ = pair
    start = time.monotonic()
    assert read_until(ours, bytearray(), None, start + 10, idle=0.2) is False
    assert time.monotonic() - start < 2


def test_overflowed_counts_past_the_expected_bytes():
    assert not overflowed(b"x" * (10 + KEEP), 10)
    assert overflowed(b"x" * (11 + KEEP), 10)
    assert overflowed(b"x" * 5, 0, keep=4)
    assert "stopped reading after 123 bytes" in stopped(123)


def answer(pair, head: bytes, body: bytes, *, endless: bool = False):
    """http.client's view of ``head`` and ``body`` (then a body without end, or a close)."""
    ours, theirs = pair
    theirs.sendall(head + body)
    if endless:
        threading.Thread(target=send_forever, args=(theirs, b"y" * 65536), daemon=True).start()
    else:
        theirs.shutdown(socket.SHUT_WR)
    reply = http.client.HTTPResponse(ours, method="GET")
    reply.begin()
    return reply


def test_lab7_http_client_body_is_bounded(pair):
    reply = answer(pair, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", b"", endless=True)
    with pytest.raises(ValueError, match="stopped reading after"):
        http_probe.read_body(reply)


def test_lab7_http_client_body_as_read_has_it(pair):
    """A right body comes whole; one cut short is an IncompleteRead, as with ``read()``."""
    body = bytes(range(256)) * 800  # the site's largest file is 200 KiB
    reply = answer(pair, f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode(), body)
    assert http_probe.read_body(reply) == body


def test_lab7_http_client_short_body_is_incomplete(pair):
    reply = answer(pair, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", b"short")
    with pytest.raises(http.client.IncompleteRead):
        http_probe.read_body(reply)
