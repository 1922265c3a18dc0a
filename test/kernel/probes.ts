/**
 * Real-packet probes for kernel tests: nmap for TCP/UDP port states (with the
 * reason: syn-ack, reset, port-unreach, no-response), ping, nc for a real
 * conversation, and a raw-socket probe for "another protocol".
 */
import * as path from 'path';
import { Lab } from './lab';

/** A port's state as nmap reports it, with the packet that decided it. */
export interface PortVerdict {
  readonly state: string;
  readonly reason: string;
  readonly ms: number;
}

const NMAP_TIMING = ['--max-retries', '1', '--initial-rtt-timeout', '300ms', '--max-rtt-timeout', '600ms', '--host-timeout', '20s'];

function nmap(lab: Lab, from: string, addr: string, scan: string, port: number, extra: string[] = []): PortVerdict {
  const six = addr.includes(':') ? ['-6'] : [];
  const r = lab.probe(from, 'nmap', ['-n', '-Pn', ...six, scan, '-p', String(port), '--reason', ...NMAP_TIMING, ...extra, '-oX', '-', addr], { timeoutMs: 30_000 });
  const m = r.stdout.match(/<port protocol="\w+" portid="(\d+)"><state state="([^"]+)" reason="([^"]+)"/);
  if (!m && /<hosts up="0"/.test(r.stdout)) return { state: 'host-down', reason: 'no-response', ms: r.ms };
  if (!m) throw new Error(`nmap ${scan} ${addr}:${port} gave no port verdict: ${r.stdout}${r.stderr}`);
  return { state: m[2], reason: m[3], ms: r.ms };
}

/** TCP SYN scan of one port. open/syn-ack, closed/reset, filtered/no-response. */
export function tcpSyn(lab: Lab, from: string, addr: string, port: number): PortVerdict {
  return nmap(lab, from, addr, '-sS', port);
}

/** A lone ACK to a port (no connection): unfiltered/reset means the host answered RST. */
export function tcpAck(lab: Lab, from: string, addr: string, port: number): PortVerdict {
  return nmap(lab, from, addr, '-sA', port);
}

/** UDP scan of one port. open/udp-response, closed/port-unreach, open|filtered/no-response. */
export function udp(lab: Lab, from: string, addr: string, port: number): PortVerdict {
  return nmap(lab, from, addr, '-sU', port);
}

/** One echo request; true when answered. */
export function ping(lab: Lab, from: string, addr: string): boolean {
  const six = addr.includes(':') ? ['-6'] : ['-4'];
  return lab.probe(from, 'ping', [...six, '-n', '-c', '1', '-W', '2', addr], { timeoutMs: 10_000 }).status === 0;
}

/** Sends `text` over TCP with nc and returns what came back ('' when the connection failed). */
export function talk(lab: Lab, from: string, addr: string, port: number, text = 'hello firewall\n'): string {
  const r = lab.probe(from, 'nc', ['-N', '-w', '2', addr, String(port)], { input: text, timeoutMs: 10_000 });
  return r.status === 0 ? r.stdout : '';
}

/** One raw packet of IP protocol `proto`; returns 'icmp TYPE CODE' or 'no-response'. */
export function otherProtocol(lab: Lab, from: string, addr: string, proto = 47): string {
  return lab.probe(from, 'python3', [path.join(__dirname, 'proto-probe.py'), addr, String(proto), '2'], { timeoutMs: 10_000 }).stdout.trim();
}

/** Starts the echo server in `ns` and waits until it listens. */
export async function startEchoServer(lab: Lab, ns: string, tcp: number[], udpPorts: number[] = []): Promise<void> {
  const child = lab.start(ns, process.execPath, [path.join(__dirname, 'echo-server.js'), `tcp=${tcp.join(',')}`, `udp=${udpPorts.join(',')}`]);
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  await lab.waitFor(`echo server in ${ns}: ${out}`, () => out.includes('ready') || child.exitCode !== null);
  if (!out.includes('ready')) throw new Error(`echo server in ${ns} failed: ${out}`);
}
