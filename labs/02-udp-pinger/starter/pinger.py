"""Lab 2: a UDP pinger. Usage: python3 pinger.py HOST PORT [COUNT]

Read the lab's README.md first. Replace each TODO with the socket calls it names.
"""

import socket
import sys
import time

TIMEOUT = 1.0  # seconds to wait for each ping's reply


def ping(sock: socket.socket, server: tuple[str, int], seq: int) -> float | None:
    """Send ping ``seq`` and wait for its own reply: the round-trip time in ms, or None."""
    message = f"PING {seq} {time.time():.6f}".encode()
    # TODO: note the time (time.monotonic()), then sendto() the message to the server.
    # TODO: wait for the reply, at most TIMEOUT seconds after sending: sock.settimeout(),
    #       then recvfrom(); socket.timeout (TimeoutError) means the time ran out.
    # TODO: a datagram that is not exactly this message (a late reply to an earlier ping)
    #       is not this ping's reply: ignore it and wait on, for the time that is left.
    # TODO: return the round-trip time in milliseconds, or None when the time ran out.
    print(f"ping {seq} not sent yet: {message!r}", flush=True)
    return None


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    server = (socket.gethostbyname(host), port)  # replies come from this address
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for seq in range(1, count + 1):
            rtt = ping(sock, server, seq)
            # TODO: print "seq=N rtt=X.X ms", or "seq=N timeout" when rtt is None.
            print(f"seq={seq}: not written yet ({rtt})")
    # TODO: print the summary line, for example
    #       "--- 10 sent, 7 received, 30.0% loss, rtt min/avg/max = 21.4/38.2/55.0 ms"
    #       (without the ", rtt ..." part when no reply came).


if __name__ == "__main__":
    main()
