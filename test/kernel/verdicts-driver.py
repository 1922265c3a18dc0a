#!/usr/bin/env python3
"""Differential-test driver, two modes.

Inbound ("mode" absent or "in"): crafts packets (Ethernet frames, correct
checksums), injects them from client namespaces over veth into the firewalled
namespace, and reports what the kernel did with each one:

  arrived   the packet was delivered locally (seen by a raw socket after INPUT)
  out       the packet left the firewall on another interface (forwarded), as sent
  resp      answers the firewall sent about it (TCP RST, ICMP/ICMPv6 errors)

Outbound ("mode": "out"): the firewalled namespace itself sends each packet
through a raw IP socket with the header included (IP_HDRINCL / IPPROTO_RAW),
so it crosses the OUTPUT hooks (raw, mangle, nat, filter, security) and
POSTROUTING, and reports:

  eperm     sendto failed with EPERM: a DROP or REJECT on the way out
  arrived   where it arrived, as received: [{"client", "src", "dst", "sport", "dport"}]
            (seen by a packet socket in each client namespace)
  resp      the answer of a REJECT, sent back to the host itself over lo
  answers   those answers' headers (for the counters they move)
  host      (top level) every other frame the firewalled namespace sent
            meanwhile (its own MLD reports, say), so that the counters they
            move can be accounted for

With "save": [argv], that command runs in the firewalled namespace right
before the first packet and after the last one is drained (counters read
exactly around the packets the sockets saw): "saves": [before, after].

Input (stdin, JSON): {"srv": ns, "clients": [{"ns", "ifname", "mac", "srvmac"}],
"gap_us": n, "packets": [{"id", "client", "family", "src", "dst", "proto", ...}]}
Output (stdout, JSON): {"t0": monotonic seconds, "results": [{"id", "t", "t1", ...}]}
Every socket is closed on exit; nothing runs in the background.
"""
import ctypes
import json
import os
import select
import socket
import struct
import subprocess
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
    """(family, src, dst, proto, l4 bytes) of an IP packet (IPv6: after hop-by-hop, routing and destination options)."""
    v = data[0] >> 4
    if v == 4:
        ihl = (data[0] & 15) * 4
        return 4, socket.inet_ntop(socket.AF_INET, data[12:16]), socket.inet_ntop(socket.AF_INET, data[16:20]), data[9], data[ihl:]
    if v == 6:
        nh, rest = data[6], data[40:]
        while nh in (0, 43, 60) and len(rest) >= 2:
            nh, rest = rest[0], rest[(rest[1] + 1) * 8:]
        return 6, socket.inet_ntop(socket.AF_INET6, data[8:24]), socket.inet_ntop(socket.AF_INET6, data[24:40]), nh, rest
    return None


def main():
    req = json.load(sys.stdin)
    if req.get('mode') == 'out':
        return main_out(req)
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
    json.dump({'t0': t0, 'results': [res[p['id']] for p in pkts]}, sys.stdout)


def header_of(data):
    """The fields of an IP packet the rules can match (for packets the test did not send)."""
    ip = parse_ip(data)
    if not ip:
        return None
    fam, src, dst, proto, seg = ip
    h = {'family': fam, 'src': src, 'dst': dst, 'proto': proto, 'ttl': data[8] if fam == 4 else data[7]}
    if proto in (6, 17) and len(seg) >= 4:
        h['sport'], h['dport'] = struct.unpack('!HH', seg[:4])
    if proto == 6 and len(seg) >= 14:
        h['flags'] = seg[13]
    if proto in (1, 58) and len(seg) >= 2:
        h['icmpType'], h['icmpCode'] = seg[0], seg[1]
    return h


def main_out(req):
    pkts = req['packets']
    clients = req['clients']
    # a REJECT's TCP reset comes back to the host: find it by its reversed ports
    by_tuple = {}
    for p in pkts:
        if p['proto'] == 6:
            by_tuple[(p['family'], p['dst'], p['src'], p['dport'], p['sport'])] = p['id']
    sniffers = []
    for c in clients:
        setns(c['ns'])
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        s.bind((c['ifname'], 0))
        sniffers.append(s)
    setns(req['srv'])
    loop = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    loop.bind(('lo', 0))
    senders = {4: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW),
               6: socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)}
    socks = sniffers + [loop]
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.setblocking(False)
    res = {p['id']: {'id': p['id'], 't': 0.0, 't1': 0.0, 'eperm': False, 'error': None, 'arrived': [], 'resp': [], 'answers': []}
           for p in pkts}
    host = []

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
                if a[1] not in (0x0800, 0x86dd):
                    continue
                if s is loop:
                    # each packet over lo is seen twice: as it leaves, and as it comes in
                    if a[2] != socket.PACKET_OUTGOING:
                        continue
                    ip = parse_ip(data[14:])
                    if not ip:
                        continue
                    fam, src, dst, proto, seg = ip
                    pid = None
                    what = None
                    if proto == 6 and len(seg) >= 14 and seg[13] & 4:
                        sport, dport = struct.unpack('!HH', seg[:4])
                        pid = by_tuple.get((fam, src, dst, sport, dport))
                        what = 'rst'
                    elif (proto == 1 and seg[0] in (3, 4, 5, 11, 12)) or (proto == 58 and seg[0] < 128):
                        pid = find_tag(seg)
                        what = f'icmp:{seg[0]}:{seg[1]}'
                    if pid in res:
                        res[pid]['resp'].append(what)
                        res[pid]['answers'].append(header_of(data[14:]))
                    else:
                        host.append({'iface': 'lo', **(header_of(data[14:]) or {})})
                    continue
                if a[2] == socket.PACKET_OUTGOING:
                    continue  # the client's own (it sends nothing: its OUTPUT policy is DROP)
                ci = sniffers.index(s)
                ip = parse_ip(data[14:])
                if not ip:
                    continue
                fam, src, dst, proto, seg = ip
                tag = find_tag(seg)
                if tag in res:
                    o = {'client': ci, 'src': src, 'dst': dst}
                    if proto in (6, 17):
                        o['sport'], o['dport'] = struct.unpack('!HH', seg[:4])
                    res[tag]['arrived'].append(o)
                else:
                    host.append({'client': ci, **(header_of(data[14:]) or {})})

    def save():
        if not req.get('save'):
            return None
        # runs in this thread's namespace (the firewalled one)
        return subprocess.run(req['save'], check=True, capture_output=True, text=True, timeout=20).stdout

    def settled(before):
        """A counter reading with no frame of the host's own in flight around it (bounded retries)."""
        for _ in range(10):
            drain()
            if before:
                host.clear()  # only what is sent between the two readings counts
            mark = len(host)
            out = save()
            drain()
            if len(host) == mark:
                return out
        raise RuntimeError('the namespace kept sending packets of its own around every counter reading')

    gap = req.get('gap_us', 200) / 1e6
    saves = [settled(True)]
    t0 = time.monotonic()
    for i, p in enumerate(pkts):
        fam = p['family']
        pkt = build_ip(fam, p, addr(fam, p['src']), addr(fam, p['dst']))
        dest = (p['dst'], 0) if fam == 4 else (p['dst'], 0, 0, 0)
        r = res[p['id']]
        r['t'] = time.monotonic() - t0
        try:
            senders[fam].sendto(pkt, dest)
        except PermissionError:
            r['eperm'] = True
        except OSError as e:
            r['error'] = f'{e.errno} {e.strerror}'
        # the OUTPUT and POSTROUTING hooks ran inside sendto
        r['t1'] = time.monotonic() - t0
        if i % 16 == 0:
            drain()
        until = time.monotonic() + gap
        while time.monotonic() < until:
            pass
    quiet = time.monotonic() + 0.5
    while time.monotonic() < quiet:
        drain()
        time.sleep(0.01)
    saves.append(settled(False))
    for s in socks + list(senders.values()):
        s.close()
    json.dump({'t0': t0, 'results': [res[p['id']] for p in pkts], 'host': host, 'saves': saves}, sys.stdout)


if __name__ == '__main__':
    main()
