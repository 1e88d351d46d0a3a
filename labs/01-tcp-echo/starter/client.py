"""Lab 1: a TCP echo client. Usage: python3 client.py HOST PORT MESSAGE

Read the lab's README.md first. Replace each TODO with the socket calls it names.
"""

import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    # TODO: connect to (host, port) with a TCP socket, sendall() the message,
    #       recv() until you have as many bytes back as you sent (or the server closes),
    #       print what came back, and close the socket.
    print(f"client not written yet ({host}:{port}, {message!r})")


if __name__ == "__main__":
    main()
