"""Request ids made without a system call are still unique: per request, thread and worker."""

from __future__ import annotations

import os
import re
import threading

from toneflow.web.hooks import RequestIds, choose_request_id, new_request_id

HEX_32 = re.compile(r"^[0-9a-f]{32}$")


def test_fresh_ids_are_32_hex_digits_and_never_repeat():
    ids = [choose_request_id("") for _ in range(1000)]
    assert all(HEX_32.match(i) for i in ids)
    assert len(set(ids)) == 1000


def test_a_safe_caller_id_is_kept_and_an_unsafe_one_replaced():
    assert choose_request_id("req-1.a_B") == "req-1.a_B"
    assert HEX_32.match(choose_request_id("bad id\n"))


def test_threads_drawing_at_once_get_distinct_ids():
    ids = RequestIds()
    drawn: list[list[str]] = [[] for _ in range(8)]

    def draw(into: list[str]) -> None:
        into.extend(ids() for _ in range(2000))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for into in drawn for i in into]
    assert len(set(every)) == len(every) == 16000


def test_a_forked_worker_draws_its_own_prefix():
    parent = new_request_id()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what a gunicorn worker forked from the master would make
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert HEX_32.match(child)
    assert child[:16] != parent[:16]
