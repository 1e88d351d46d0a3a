"""Known wrong: exits with status 1, like ping(8), when no reply came."""

import socket
import sys
import time

TIMEOUT = 1.0  # seconds to wait for each ping's reply


def ping(sock: socket.socket, server: tuple[str, int], seq: int) -> float | None:
    """Send ping ``seq`` and wait for its own reply: the round-trip time in ms, or None."""
    message = f"PING {seq} {time.time():.6f}".encode()
    sent = time.monotonic()
    sock.sendto(message, server)
    deadline = sent + TIMEOUT  # one deadline for the ping, however many datagrams come
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, peer = sock.recvfrom(65535)
        except TimeoutError:
            return None
        if data == message and peer == server:
            return (time.monotonic() - sent) * 1000
        fields = data.split()
        late = fields[1].decode(errors="replace") if len(fields) > 1 else "?"
        print(f"(a datagram for ping {late} came while waiting for ping {seq}: ignored)",
              flush=True)
    return None


def summary(count: int, rtts: list[float]) -> str:
    line = f"--- {count} sent, {len(rtts)} received, {100 * (count - len(rtts)) / count:.1f}% loss"
    if rtts:
        line += (f", rtt min/avg/max = {min(rtts):.1f}/{sum(rtts) / len(rtts):.1f}/"
                 f"{max(rtts):.1f} ms")
    return line


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    server = (socket.gethostbyname(host), port)  # replies come from this address
    rtts = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for seq in range(1, count + 1):
            rtt = ping(sock, server, seq)
            if rtt is None:
                print(f"seq={seq} timeout", flush=True)
            else:
                rtts.append(rtt)
                print(f"seq={seq} rtt={rtt:.1f} ms", flush=True)
    print(summary(count, rtts), flush=True)
    sys.exit(0 if rtts else 1)  # like ping(8): status 1 when no reply came


if __name__ == "__main__":
    main()
