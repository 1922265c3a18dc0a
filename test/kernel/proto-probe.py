#!/usr/bin/env python3
"""Sends one raw IP packet of a given protocol number and reports the ICMP/ICMPv6
answer it gets, for kernel tests. Usage: proto-probe.py DEST PROTO [TIMEOUT_S]
Prints 'icmp TYPE CODE' (ICMP for IPv4, ICMPv6 for IPv6) or 'no-response'."""
import select
import socket
import sys
import time

dest, proto = sys.argv[1], int(sys.argv[2])
timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
v6 = ':' in dest
fam = socket.AF_INET6 if v6 else socket.AF_INET
icmp_proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP

listener = socket.socket(fam, socket.SOCK_RAW, icmp_proto)
sender = socket.socket(fam, socket.SOCK_RAW, proto)
payload = b'cdktf-iptables-proto-probe'
sender.sendto(payload, (dest, 0))
deadline = time.monotonic() + timeout
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        print('no-response')
        break
    ready, _, _ = select.select([listener], [], [], left)
    if not ready:
        continue
    data, addr = listener.recvfrom(2048)
    # IPv4 raw sockets deliver the IP header; IPv6 ones do not.
    icmp = data[(data[0] & 0x0F) * 4:] if not v6 else data
    kind, code = icmp[0], icmp[1]
    # only errors about our own probe count (they quote our payload)
    if payload in data and ((not v6 and kind == 3) or (v6 and kind in (1, 4))):
        print(f'icmp {kind} {code}')
        break
