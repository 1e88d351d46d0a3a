"""Known wrong: plain UDP -- every packet sent once; nothing waits for an acknowledgement."""

import argparse
import socket
import time

from rdt import DATA, FIN, MAX_PAYLOAD, pack

parser = argparse.ArgumentParser()
parser.add_argument("--mode", default="window")
parser.add_argument("host")
parser.add_argument("port", type=int)
parser.add_argument("file")
args = parser.parse_args()
with open(args.file, "rb") as f:
    data = f.read()
chunks = [data[i:i + MAX_PAYLOAD] for i in range(0, len(data), MAX_PAYLOAD)]
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    for seq, chunk in enumerate(chunks):
        sock.sendto(pack(DATA, seq, chunk), (args.host, args.port))
        time.sleep(0.001)  # do not overrun the receiver: the only care taken
    for _ in range(3):
        sock.sendto(pack(FIN, len(chunks)), (args.host, args.port))
