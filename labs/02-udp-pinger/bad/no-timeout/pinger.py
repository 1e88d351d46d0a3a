"""Known wrong: waits for each reply with no timeout, so it hangs on the first lost ping."""

import socket
import sys
import time


def ping(sock: socket.socket, server: tuple[str, int], seq: int) -> float | None:
    message = f"PING {seq} {time.time():.6f}".encode()
    sent = time.monotonic()
    sock.sendto(message, server)
    while True:
        data, peer = sock.recvfrom(65535)  # blocks for ever when the ping or its reply was lost
        if data == message and peer == server:
            return (time.monotonic() - sent) * 1000


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    server = (socket.gethostbyname(host), port)
    rtts = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for seq in range(1, count + 1):
            rtt = ping(sock, server, seq)
            if rtt is None:
                print(f"seq={seq} timeout", flush=True)
            else:
                rtts.append(rtt)
                print(f"seq={seq} rtt={rtt:.1f} ms", flush=True)
    loss = 100 * (count - len(rtts)) / count
    print(f"--- {count} sent, {len(rtts)} received, {loss:.1f}% loss, rtt min/avg/max = "
          f"{min(rtts):.1f}/{sum(rtts) / len(rtts):.1f}/{max(rtts):.1f} ms", flush=True)


if __name__ == "__main__":
    main()
