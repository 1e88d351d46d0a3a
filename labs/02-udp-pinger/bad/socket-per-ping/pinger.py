"""Lab 2: a pinger on a connected UDP socket, waiting in select()."""

import select
import socket
import sys
import time

TIMEOUT = 1.0


def ping(sock: socket.socket, seq: int) -> float | None:
    request = f"PING {seq} {time.time()!r}".encode("ascii")
    sent = time.monotonic()
    sock.send(request)
    deadline = sent + TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        readable, _, _ = select.select([sock], [], [], left)
        if not readable:
            return None
        try:
            reply = sock.recv(65535)
        except ConnectionRefusedError:  # an ICMP "port unreachable" came back
            continue
        if reply == request:
            return (time.monotonic() - sent) * 1000.0


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    rtts: list[float] = []
    for seq in range(1, count + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect((host, port))
            rtt = ping(sock, seq)
        if rtt is None:
            print(f"seq={seq} timeout", flush=True)
        else:
            rtts.append(rtt)
            print(f"seq={seq} rtt={rtt:.3f} ms", flush=True)
    lost = count - len(rtts)
    line = f"--- {count} sent, {len(rtts)} received, {100.0 * lost / max(count, 1):.1f}% loss"
    if rtts:
        avg = sum(rtts) / len(rtts)
        line += f", rtt min/avg/max = {min(rtts):.3f}/{avg:.3f}/{max(rtts):.3f} ms"
    print(line, flush=True)


if __name__ == "__main__":
    main()
