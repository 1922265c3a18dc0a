#!/usr/bin/env python3
"""Sends packets from the namespace it runs in, as the host itself would, and
reports for each whether the kernel let it out: raw IP sockets with the header
included (IP_HDRINCL / IPPROTO_RAW), so each packet crosses the OUTPUT hooks
(raw, mangle, nat, filter) and POSTROUTING; a DROP or REJECT on the way makes
sendto fail with EPERM at once (no timeout to wait for, unlike a TCP connect).

Input (stdin, JSON): [{"family": 4|6, "proto": "tcp"|"udp"|"icmp", "src", "dst", "port"}]
(for ICMP, "port" is the type). Output (stdout, JSON): ["sent" | "eperm", ...].
Every socket is closed on exit.
"""
import json
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def packet(p, sport):
    fam = p['family']
    af = socket.AF_INET if fam == 4 else socket.AF_INET6
    src, dst = socket.inet_pton(af, p['src']), socket.inet_pton(af, p['dst'])
    payload = b'cfw-egress-probe'
    if p['proto'] == 'tcp':
        proto, off = 6, 16
        seg = struct.pack('!HHIIBBHHH', sport, p['port'], 1, 0, 5 << 4, 2, 65535, 0, 0)
    elif p['proto'] == 'udp':
        proto, off = 17, 6
        seg = struct.pack('!HHHH', sport, p['port'], 8 + len(payload), 0) + payload
    else:
        proto, off = (1 if fam == 4 else 58), 2
        seg = struct.pack('!BBHHH', p['port'], 0, 0, sport, 1) + payload
    if proto == 1:
        ck = csum(seg)
    elif fam == 4:
        ck = csum(src + dst + struct.pack('!BBH', 0, proto, len(seg)) + seg)
    else:
        ck = csum(src + dst + struct.pack('!IxxxB', len(seg), proto) + seg)
    seg = seg[:off] + struct.pack('!H', ck or 0xffff) + seg[off + 2:]
    if fam == 4:
        return struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(seg), 0, 0, 64, proto, 0, src, dst) + seg
    hops = 255 if proto == 58 and p['port'] in (133, 135, 136) else 64
    return struct.pack('!IHBB16s16s', 0x60000000, len(seg), proto, hops, src, dst) + seg


def main():
    probes = json.load(sys.stdin)
    socks = {4: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW),
             6: socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)}
    out = []
    try:
        for i, p in enumerate(probes):
            dest = (p['dst'], 0) if p['family'] == 4 else (p['dst'], 0, 0, 0)
            try:
                socks[p['family']].sendto(packet(p, 20000 + i), dest)
                out.append('sent')
            except PermissionError:
                out.append('eperm')
    finally:
        for s in socks.values():
            s.close()
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
