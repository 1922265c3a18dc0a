#!/usr/bin/env python3
"""Differential-test driver: crafts packets (Ethernet frames, correct checksums),
injects them from client namespaces over veth into the firewalled namespace,
and reports what the kernel did with each one:

  arrived   the packet was delivered locally (seen by a raw socket after INPUT)
  out       the packet left the firewall on another interface (forwarded), as sent
  resp      answers the firewall sent about it (TCP RST, ICMP/ICMPv6 errors)

Input (stdin, JSON): {"srv": ns, "clients": [{"ns", "ifname", "mac", "srvmac"}],
"gap_us": n, "packets": [{"id", "client", "family", "src", "dst", "proto", ...}]}
Output (stdout, JSON): {"results": [{"id", "t", "arrived", "out": [...], "resp": [...]}]}
Every socket is closed on exit; nothing runs in the background.
"""
import ctypes
import json
import os
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
TAG = b'CFWV'


def setns(name):
    fd = os.open(f'/var/run/netns/{name}', os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f'setns {name}')
    finally:
        os.close(fd)


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def addr(fam, a):
    return socket.inet_pton(socket.AF_INET if fam == 4 else socket.AF_INET6, a)


def l4(fam, p, src, dst, payload):
    """Transport header + payload for packet description p (checksummed)."""
    proto = p['proto']
    if proto == 6:
        flags = p.get('flags', 2)
        hdr = struct.pack('!HHIIBBHHH', p['sport'], p['dport'], p.get('seq', 1), p.get('ack', 0), 5 << 4, flags, 65535, 0, 0)
        seg = hdr + payload
    elif proto == 17:
        seg = struct.pack('!HHHH', p['sport'], p['dport'], 8 + len(payload), 0) + payload
    elif proto in (1, 58):
        t, c = p['icmpType'], p.get('icmpCode', 0)
        if 'inner' in p:
            inner = build_ip(fam, p['inner'], addr(fam, p['inner']['src']), addr(fam, p['inner']['dst']))
            body = struct.pack('!I', 0) + inner
        elif proto == 58 and t in (135, 136):
            body = struct.pack('!I', 0x60000000 if t == 136 else 0) + addr(6, p['dst']) + payload
        else:
            body = struct.pack('!HH', p.get('icmpId', 1), p.get('icmpSeq', 1)) + payload
        seg = struct.pack('!BBH', t, c, 0) + body
    elif proto == 47:
        seg = struct.pack('!HH', 0, 0x0800) + payload
    else:
        seg = payload
    if proto in (6, 17, 58) or proto == 1:
        if proto == 1:
            ck = csum(seg)
        elif fam == 4:
            ck = csum(src + dst + struct.pack('!BBH', 0, proto, len(seg)) + seg)
        else:
            ck = csum(src + dst + struct.pack('!IxxxB', len(seg), proto) + seg)
        if proto == 17 and ck == 0:
            ck = 0xffff
        off = {6: 16, 17: 6, 1: 2, 58: 2}[proto]
        seg = seg[:off] + struct.pack('!H', ck) + seg[off + 2:]
    return seg


def build_ip(fam, p, src, dst):
    payload = TAG + struct.pack('!I', p.get('tag', p.get('id', 0)))
    seg = l4(fam, p, src, dst, payload)
    if fam == 4:
        hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(seg), p.get('ipid', 1) & 0xffff, 0, p.get('ttl', 64), p['proto'], 0, src, dst)
        hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
        return hdr + seg
    return struct.pack('!IHBB16s16s', 0x60000000, len(seg), p['proto'], p.get('ttl', 64), src, dst) + seg


def mac(m):
    return bytes(int(x, 16) for x in m.split(':'))


def frame(client, p):
    fam = p['family']
    ip = build_ip(fam, p, addr(fam, p['src']), addr(fam, p['dst']))
    return mac(client['srvmac']) + mac(client['mac']) + struct.pack('!H', 0x0800 if fam == 4 else 0x86dd) + ip


def find_tag(data):
    i = data.find(TAG)
    if i < 0 or i + 8 > len(data):
        return None
    return struct.unpack('!I', data[i + 4:i + 8])[0]


def parse_ip(data):
    """(family, src, dst, proto, l4 bytes) of an IP packet."""
    v = data[0] >> 4
    if v == 4:
        ihl = (data[0] & 15) * 4
        return 4, socket.inet_ntop(socket.AF_INET, data[12:16]), socket.inet_ntop(socket.AF_INET, data[16:20]), data[9], data[ihl:]
    if v == 6:
        return 6, socket.inet_ntop(socket.AF_INET6, data[8:24]), socket.inet_ntop(socket.AF_INET6, data[24:40]), data[6], data[40:]
    return None


def main():
    req = json.load(sys.stdin)
    pkts = req['packets']
    by_tuple = {}
    for p in pkts:
        if p['proto'] == 6:
            by_tuple[(p['family'], p['dst'], p['src'], p['dport'], p['sport'])] = p['id']
    senders = []
    for c in req['clients']:
        setns(c['ns'])
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.bind((c['ifname'], 0))
        senders.append(s)
    setns(req['srv'])
    listeners = []
    for proto in (6, 17, 1, 47, 253):
        listeners.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, proto))
    for proto in (6, 17, 58, 47, 253):
        listeners.append(socket.socket(socket.AF_INET6, socket.SOCK_RAW, proto))
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    socks = listeners + [sniff]
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.setblocking(False)
    res = {p['id']: {'id': p['id'], 't': 0.0, 't1': 0.0, 'arrived': False, 'out': [], 'resp': []} for p in pkts}

    def drain():
        while True:
            ready, _, _ = select.select(socks, [], [], 0)
            if not ready:
                return
            for s in ready:
                try:
                    data, a = s.recvfrom(65535)
                except BlockingIOError:
                    continue
                if s is not sniff:
                    tag = find_tag(data)
                    if tag in res:
                        res[tag]['arrived'] = True
                    continue
                if a[2] != socket.PACKET_OUTGOING or a[1] not in (0x0800, 0x86dd):
                    continue
                ip = parse_ip(data[14:])
                if not ip:
                    continue
                fam, src, dst, proto, seg = ip
                if proto == 6 and len(seg) >= 14 and seg[13] & 4:
                    sport, dport = struct.unpack('!HH', seg[:4])
                    pid = by_tuple.get((fam, src, dst, sport, dport))
                    if pid is not None:
                        res[pid]['resp'].append('rst')
                        continue
                if (proto == 1 and seg[0] in (3, 4, 5, 11, 12)) or (proto == 58 and seg[0] < 128):
                    tag = find_tag(seg)
                    if tag in res:
                        res[tag]['resp'].append(f'icmp:{seg[0]}:{seg[1]}')
                    continue
                tag = find_tag(seg)
                if tag in res:
                    o = {'iface': a[0], 'src': src, 'dst': dst}
                    if proto in (6, 17):
                        o['sport'], o['dport'] = struct.unpack('!HH', seg[:4])
                    res[tag]['out'].append(o)

    gap = req.get('gap_us', 200) / 1e6
    t0 = time.monotonic()
    for i, p in enumerate(pkts):
        f = frame(req['clients'][p['client']], p)
        res[p['id']]['t'] = time.monotonic() - t0
        senders[p['client']].send(f)
        # the kernel handled the frame between t and t1 (veth delivers it inside send)
        res[p['id']]['t1'] = time.monotonic() - t0
        if i % 16 == 0:
            drain()
        until = time.monotonic() + gap
        while time.monotonic() < until:
            pass
    quiet = time.monotonic() + 0.5
    while time.monotonic() < quiet:
        drain()
        time.sleep(0.01)
    for s in socks + senders:
        s.close()
    json.dump({'results': [res[p['id']] for p in pkts]}, sys.stdout)


if __name__ == '__main__':
    main()
