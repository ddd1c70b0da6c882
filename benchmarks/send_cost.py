"""What one small ``send()`` costs the sender on loopback, with the receiver asleep or polling.

    python -m benchmarks.send_cost

The sender (pinned to core 0, like the benchmark's server) writes a 100-byte message
every 20 µs on one TCP connection and times the syscall alone; the receiver (core 1,
like the load generator) either sleeps in ``epoll_wait`` until data comes, or polls
with a zero timeout. On loopback the sender's syscall also runs the receiver's TCP
stack, and when the receiver sleeps, it wakes it on the other core: on a VM that
wake-up (an inter-processor interrupt through the hypervisor) is about half the cost
of the send. Remote clients behind a NIC put no such cost on the server's ``send()``.
"""

from __future__ import annotations

import os
import select
import socket
import sys
import time

N = 50_000
PAYLOAD = b"x" * 100


def _receiver(port: int, spin: bool) -> None:
    os.sched_setaffinity(0, {1})
    c = socket.create_connection(("127.0.0.1", port))
    c.setblocking(False)
    ep = select.epoll()
    ep.register(c.fileno(), select.EPOLLIN)
    while True:
        if ep.poll(0 if spin else -1):
            try:
                if not c.recv(65536):
                    os._exit(0)
            except BlockingIOError:
                continue


def measure(spin: bool) -> float:
    """Mean µs spent inside ``send()`` per message."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen()
    pid = os.fork()
    if pid == 0:
        _receiver(ls.getsockname()[1], spin)
    os.sched_setaffinity(0, {0})
    s, _ = ls.accept()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setblocking(False)
    clock = time.perf_counter
    inside = 0.0
    for _ in range(N):
        t0 = clock()
        s.send(PAYLOAD)
        inside += clock() - t0
        end = clock() + 20e-6
        while clock() < end:  # pace like a server writing other sockets in between
            pass
    s.close()
    os.waitpid(pid, 0)
    ls.close()
    return inside / N * 1e6


def main() -> None:
    if (os.cpu_count() or 1) < 2:
        sys.exit("needs two cores")
    asleep, polling = measure(False), measure(True)
    print(f"send() of {len(PAYLOAD)} bytes on loopback: receiver asleep {asleep:.2f} µs, "
          f"receiver polling {polling:.2f} µs ({asleep - polling:.2f} µs is waking it)")  # fmt: skip


if __name__ == "__main__":
    main()
