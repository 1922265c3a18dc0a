/**
 * Guards resolved by intent and per-prefix accounting, with real packets:
 * - SSH opened to an admin source only, plus a brute-force guard: an outside
 *   client still cannot connect, the admin can, and the admin is still
 *   rate-limited (both families);
 * - exempt peers: never counted inside the admitted subnet, still refused
 *   outside it;
 * - IPv6 per-/64 accounting: an attacker rotating its source address inside
 *   one /64 is caught by the guard, a client from another /64 is not.
 */
import { talk, tcpSyn } from './probes';
import { CL, FAMILIES, host, requireNetns, SRV, Topology } from './topology';
import { Peer, Port, SshBruteforceGuard } from '../../lib';

requireNetns();

describe('admin-only SSH stays admin-only with a guard', () => {
  const topo = new Topology('cfwin');
  beforeAll(async () => {
    await topo.up();
    // cl3 is the admin (192.0.2.2, 2001:db8:3::2); HTTP is open to all
    const h = host({ allow: [Port.HTTP] }, (hh) => {
      hh.allowFrom(Peer.ipv4('192.0.2.0/24'), Port.SSH);
      hh.allowFrom(Peer.ipv6('2001:db8:3::/64'), Port.SSH);
    });
    new SshBruteforceGuard(h, 'ssh-guard');
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: outsiders are refused, the admin is admitted and still rate-limited', (fam) => {
    const lab = topo.lab;
    // outsiders on two links: refused like any closed port (RST), never answered by sshd
    expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 22)).toMatchObject({ state: 'closed', reason: 'reset' });
    expect(talk(lab, topo.cl[1], SRV[fam][1], 22)).toBe('');
    // the admin: three new connections pass (and are counted), the fourth is dropped by the guard
    for (let i = 0; i < 3; i++) expect(talk(lab, topo.cl[2], SRV[fam][2], 22, `admin ${i}\n`)).toBe(`admin ${i}\n`);
    expect(tcpSyn(lab, topo.cl[2], SRV[fam][2], 22)).toMatchObject({ state: 'filtered', reason: 'no-response' });
    // HTTP is unaffected for everyone
    expect(talk(lab, topo.cl[0], SRV[fam][0], 80, 'web\n')).toBe('web\n');
  });
});

describe('exempt peers skip the counting, but only where the port is admitted', () => {
  const topo = new Topology('cfwin');
  const exempt = { v4: '192.0.2.10', v6: '2001:db8:3::10' };
  beforeAll(async () => {
    await topo.up();
    for (const a of [`${exempt.v4}/24`, `${exempt.v6}/64`]) topo.lab.exec(topo.cl[2], 'ip', ['addr', 'add', a, 'dev', 'eth0', ...(a.includes(':') ? ['nodad'] : [])]);
    const h = host({}, (hh) => {
      hh.allowFrom(Peer.ipv4('192.0.2.0/24'), Port.SSH);
      hh.allowFrom(Peer.ipv6('2001:db8:3::/64'), Port.SSH);
    });
    // cl1's addresses are exempt too, but outside the admitted subnets: they stay out
    new SshBruteforceGuard(h, 'ssh-guard', {
      exempt: [Peer.ipv4(`${exempt.v4}/32`), Peer.ipv6(`${exempt.v6}/128`), Peer.ipv4('198.51.100.0/24'), Peer.ipv6('2001:db8:1::/64')],
      ipv6PrefixLength: 128, // count per address here, so the exempt address and the counted one are apart
    });
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test.each(FAMILIES)('%s: the exempt address is never limited, its neighbour is, an exempt outsider is refused', (fam) => {
    const lab = topo.lab;
    const from = (src: string, i: number) => lab.probe(topo.cl[2], 'nc', ['-N', '-w', '2', '-s', src, SRV[fam][2], '22'], { input: `${i}\n`, timeoutMs: 10_000 }).stdout;
    for (let i = 0; i < 6; i++) expect(from(exempt[fam], i)).toBe(`${i}\n`);
    for (let i = 0; i < 3; i++) expect(from(CL[fam][2], i)).toBe(`${i}\n`);
    expect(from(CL[fam][2], 3)).toBe(''); // counted: the 4th is dropped
    expect(tcpSyn(lab, topo.cl[0], SRV[fam][0], 22)).toMatchObject({ state: 'closed', reason: 'reset' });
  });
});

describe('IPv6 sources are counted per /64', () => {
  const topo = new Topology('cfwin');
  // extra addresses of cl1 inside its /64, one per attempt
  const rotating = ['2001:db8:1::10', '2001:db8:1::11', '2001:db8:1::12', '2001:db8:1::13', '2001:db8:1:0:ffff::14'];
  beforeAll(async () => {
    await topo.up();
    for (const a of rotating) topo.lab.exec(topo.cl[0], 'ip', ['addr', 'add', `${a}/64`, 'dev', 'eth0', 'nodad']);
    const h = host({});
    new SshBruteforceGuard(h, 'ssh-guard'); // 3 new connections per 10 s, per /64 by default
    topo.load(h);
  });
  afterAll(() => topo.lab.destroy());

  test('an attacker rotating addresses inside one /64 is dropped from the 4th attempt on; another /64 is admitted', () => {
    const lab = topo.lab;
    const from = (src: string) => lab.probe(topo.cl[0], 'nc', ['-N', '-w', '2', '-s', src, SRV.v6[0], '22'], { input: `from ${src}\n`, timeoutMs: 10_000 });
    for (const src of rotating.slice(0, 3)) expect(from(src).stdout).toBe(`from ${src}\n`);
    for (const src of rotating.slice(3)) expect(from(src).stdout).toBe(''); // new address, same /64: dropped
    expect(talk(lab, topo.cl[1], SRV.v6[1], 22, 'other /64\n')).toBe('other /64\n');
    // IPv4 keeps per-address accounting: cl1's IPv4 address is a different source and still admitted
    expect(talk(lab, topo.cl[0], SRV.v4[0], 22, 'v4\n')).toBe('v4\n');
    expect(CL.v6[0]).toMatch(/^2001:db8:1::/);
  });
});
