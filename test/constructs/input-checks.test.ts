/**
 * Values checked for what they mean: reserved names, kernel limits, guards
 * resolved by intent, run-time types, tokens, secrets, long ids.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import {
  DropLogger, GuardMode, IcmpEchoLimit, IpFamily, Peer, Port, PortScanTrap, SshBruteforceGuard, StatefulHost, SynFloodGuard,
} from '../../lib';

function newStack(): TerraformStack {
  return new TerraformStack(new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cfw-in-')) }), 'stack');
}
function newHost(props = {}): StatefulHost {
  return new StatefulHost(newStack(), 'web', { ruleComments: false, ...props });
}
const lines = (h: StatefulHost, f: IpFamily) => h.renderRules(f).split('\n').filter((l) => l && !l.startsWith('#'));
const chain = (h: StatefulHost, f: IpFamily, name: string) => lines(h, f).filter((l) => l.startsWith(`-A ${name} `));
/** Validation errors of a host's stack (cdktf collects them at synth). */
function synthErrors(h: StatefulHost): string {
  try {
    Testing.synth(h.node.scope as TerraformStack, true);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('reserved and over-long kernel names are synth errors naming the path, value and fix', () => {
  test.each([
    ['UDP', /\[stack\/web\/g\] chainName "UDP" is the host's own service chain: rules added to it would change what that chain \(or target\) does\. Choose a name of your own/],
    ['TCP', /chainName "TCP" is the host's own service chain/],
    ['INPUT', /chainName "INPUT" is a built-in chain/],
    ['POSTROUTING', /chainName "POSTROUTING" is a built-in chain/],
    ['ACCEPT', /chainName "ACCEPT" is a target name/],
    ['MASQUERADE', /chainName "MASQUERADE" is a target name/],
    ['udp', /chainName "udp" is a case variant of UDP/],
    ['fw-open', /chainName "fw-open" is a chain of one of the library's parts/],
    ['SYN_FLOOD', /chainName "SYN_FLOOD" is a chain of one of the library's parts/],
    ['-j', /chainName "-j" starts with "-"/],
    ['a'.repeat(29), /chainName "a{29}" is 29 characters long; the kernel takes 1 to 28/],
  ])('chainName %s', (name, re) => {
    expect(() => new SshBruteforceGuard(newHost(), 'g', { chainName: name })).toThrow(re);
  });

  test('a chain name another part claims is a synth error naming both', () => {
    const h = newHost();
    new SshBruteforceGuard(h, 'a');
    new SshBruteforceGuard(h, 'b', { port: Port.tcp(2222), chainName: 'IN_SSH' });
    expect(synthErrors(h)).toMatch(/\[stack\/web\/b\] chain "IN_SSH" is already used by stack\/web\/a/);
  });

  test('two guards on one port: the second would never see a packet', () => {
    const h = newHost();
    new SshBruteforceGuard(h, 'a');
    new SshBruteforceGuard(h, 'b', { chainName: 'IN_SSH_B', listName: 'other' });
    expect(synthErrors(h)).toMatch(/guarded port "tcp\/22" is already used by stack\/web\/a/);
  });

  test('list names: 198 characters with IPv6 (the 6 suffix), 15 for hashlimit tables', () => {
    expect(() => new SshBruteforceGuard(newHost(), 'g', { listName: 'l'.repeat(198) })).not.toThrow();
    expect(() => new SshBruteforceGuard(newHost(), 'g', { listName: 'l'.repeat(199) })).toThrow(/listName "l+"… is 199 characters long; the kernel takes 1 to 198/);
    expect(() => new SshBruteforceGuard(newHost(), 'g', { mode: GuardMode.HASHLIMIT, listName: 'h'.repeat(16) })).toThrow(/hashlimit table.* is 16 characters long; the kernel takes 1 to 15/);
  });

  test('xt_limit / hashlimit ranges: rates up to 10000/s, bursts up to 10000, no wrapped credit cap', () => {
    expect(() => new SynFloodGuard(newHost(), 's', { perSecond: 10_001 })).toThrow(/\[stack\/web\/s\] perSecond is 10001; it must be a whole number from 1 to 10000\. iptables refuses/);
    expect(() => new SynFloodGuard(newHost(), 's', { burst: 10_001 })).toThrow(/burst is 10001; it must be a whole number from 1 to 10000/);
    expect(() => new IcmpEchoLimit(newHost(), 'p', { perSecond: 10_000, burst: 10_000 })).not.toThrow();
    expect(() => new DropLogger(newHost(), 'l', { perMinute: 1, burst: 10_000 })).toThrow(/at 1 per minute the kernel's credit counter overflows above a burst of 7158/);
    expect(() => new DropLogger(newHost(), 'l', { perMinute: 1, burst: 7158 })).not.toThrow();
    expect(() => new SshBruteforceGuard(newHost(), 'g', { mode: GuardMode.HASHLIMIT, perMinute: 600_001 })).toThrow(/perMinute is 600001/);
    expect(() => new SshBruteforceGuard(newHost(), 'g', { shortWindow: { hits: 21, seconds: 10 } })).toThrow(/ip_pkt_list_tot/);
  });
});

describe('a guard keeps to the openings of its port (never widens them)', () => {
  test('allowFrom an admin subnet + guard: the jump carries the same -s, and nothing admits others', () => {
    const h = newHost({ allow: [Port.HTTPS] });
    h.allowFrom(Peer.ipv4('192.0.2.0/24'), Port.SSH);
    new SshBruteforceGuard(h, 'g');
    expect(chain(h, IpFamily.V4, 'TCP')).toEqual([
      '-A TCP -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j IN_SSH',
      '-A TCP -p tcp -m tcp --dport 443 -j ACCEPT',
      '-A TCP -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT',
    ]);
    // IPv6 never admitted port 22: the guard does not open it there
    expect(chain(h, IpFamily.V6, 'TCP')).toEqual(['-A TCP -p tcp -m tcp --dport 443 -j ACCEPT']);
  });

  test('allowOn + allowFrom on the guarded port: one jump per opening', () => {
    const h = newHost();
    h.allowOn('eth1', Port.tcp(2222));
    h.allowFrom(Peer.ipv6('2001:db8:1::/64'), Port.tcp(2222));
    new SshBruteforceGuard(h, 'g', { port: Port.tcp(2222) });
    expect(chain(h, IpFamily.V4, 'TCP')).toEqual([
      '-A TCP -i eth1 -p tcp -m tcp --dport 2222 -j IN_SSH_2222',
      '-A TCP -i eth1 -p tcp -m tcp --dport 2222 -j ACCEPT',
    ]);
    expect(chain(h, IpFamily.V6, 'TCP')).toEqual([
      '-A TCP -i eth1 -p tcp -m tcp --dport 2222 -j IN_SSH_2222',
      '-A TCP -s 2001:db8:1::/64 -p tcp -m tcp --dport 2222 -j IN_SSH_2222',
      '-A TCP -i eth1 -p tcp -m tcp --dport 2222 -j ACCEPT',
      '-A TCP -s 2001:db8:1::/64 -p tcp -m tcp --dport 2222 -j ACCEPT',
    ]);
  });

  test('a port the host does not open: the guard governs it for everyone (unchanged)', () => {
    const h = newHost();
    new SshBruteforceGuard(h, 'g');
    expect(chain(h, IpFamily.V4, 'TCP')).toEqual(['-A TCP -p tcp -m tcp --dport 22 -j IN_SSH']);
  });

  test('exempt peers skip the counting, inside the guard chain only', () => {
    const h = newHost();
    h.allowFrom(Peer.ipv4('192.0.2.0/24'), Port.SSH);
    new SshBruteforceGuard(h, 'g', { exempt: [Peer.ipv4('192.0.2.10'), Peer.ipv6('2001:db8::/48')] });
    expect(chain(h, IpFamily.V4, 'IN_SSH')[0]).toBe('-A IN_SSH -s 192.0.2.10/32 -j ACCEPT');
    expect(chain(h, IpFamily.V6, 'IN_SSH')[0]).toBe('-A IN_SSH -s 2001:db8::/48 -j ACCEPT');
    // the exempt IPv6 peer is not admitted: no jump to the guard in IPv6
    expect(chain(h, IpFamily.V6, 'TCP')).toEqual([]);
  });
});

describe('IPv6 per-source accounting by prefix', () => {
  test('defaults /64 (IPv6) and /32 (IPv4), configurable per part', () => {
    const h = newHost();
    new SshBruteforceGuard(h, 'g', { ipv6PrefixLength: 56, ipv4PrefixLength: 24 });
    new PortScanTrap(h, 't');
    new SynFloodGuard(h, 's', { ipv6PrefixLength: 48 });
    const v4 = lines(h, IpFamily.V4).join('\n');
    const v6 = lines(h, IpFamily.V6).join('\n');
    expect(v4).toContain('--name sshbf --mask 255.255.255.0 --rsource');
    expect(v6).toContain('--name sshbf6 --mask ffff:ffff:ffff:ff00:: --rsource');
    expect(v4).toContain('--name TCP-PORTSCAN --mask 255.255.255.255 --rsource');
    expect(v6).toContain('--name TCP-PORTSCAN6 --mask ffff:ffff:ffff:ffff:: --rsource');
    expect(v4).toContain('--hashlimit-name syn_flood -j RETURN');
    expect(v6).toContain('--hashlimit-name syn_flood --hashlimit-srcmask 48 -j RETURN');
  });

  test('a prefix length out of range', () => {
    expect(() => new PortScanTrap(newHost(), 't', { ipv6PrefixLength: 129 })).toThrow(/\[stack\/web\/t\] ipv6PrefixLength is 129; it must be a whole number from 8 to 128/);
    expect(() => new SynFloodGuard(newHost(), 's', { ipv4PrefixLength: 33 })).toThrow(/ipv4PrefixLength is 33/);
  });
});

describe('run-time types: what JSON, YAML and jsii users pass', () => {
  test.each([
    ['ping "false"', () => newHost({ ping: 'false' }), /\[stack\/web\] ping is "false", not a boolean\. Pass true or false\. Did you mean false/],
    ['ipv6 0', () => newHost({ ipv6: 0 }), /ipv6 is 0, not a boolean/],
    ['takeOver "false"', () => newHost({ takeOver: 'false' }), /\[stack\/web\] takeOver is "false", not a boolean/],
    ['rollbackSeconds "30"', () => newHost({ rollbackSeconds: '30' }), /rollbackSeconds is "30", not a finite number\. Pass a whole number\. Did you mean 30/],
    ['allow as one Port', () => newHost({ allow: Port.SSH }), /\[stack\/web\] allow is an? .*, not a list\. Wrap it in a list/],
    ['allow as a string', () => newHost({ allow: 'tcp/22' }), /allow is "tcp\/22", not a list/],
    ['closedPortResponse lower case', () => newHost({ closedPortResponse: 'reject' }), /closedPortResponse is "reject"\. Use one of REJECT, DROP/],
    ['outbound a string', () => newHost({ outbound: 'DROP' }), /outbound is "DROP", not an object/],
    ['props null', () => new StatefulHost(newStack(), 'web', null as any), /props of StatefulHost are null, not an object/],
    ['matchTtl "false"', () => new SshBruteforceGuard(newHost(), 'g', { matchTtl: 'false' as any }), /\[stack\/web\/g\] matchTtl is "false", not a boolean/],
    ['perMinute NaN', () => new SshBruteforceGuard(newHost(), 'g', { perMinute: NaN }), /perMinute is NaN, not a finite number/],
    ['a window without hits', () => new SshBruteforceGuard(newHost(), 'g', { shortWindow: { seconds: 5 } as any }), /shortWindow\.hits is missing/],
    ['mode a number', () => new SshBruteforceGuard(newHost(), 'g', { mode: 1 as any }), /mode is 1\. Use one of RECENT, HASHLIMIT/],
    ['exempt a lone Peer', () => new PortScanTrap(newHost(), 't', { exempt: Peer.ipv4('192.0.2.1') as any }), /\[stack\/web\/t\] exempt is a Peer, not a list/],
    ['tcp "false"', () => new PortScanTrap(newHost(), 't', { tcp: 'false' as any }), /tcp is "false", not a boolean/],
    ['perSource "no"', () => new SynFloodGuard(newHost(), 's', { perSource: 'no' as any }), /perSource is "no", not a boolean/],
  ] as Array<[string, () => unknown, RegExp]>)('%s', (_, f, re) => {
    expect(f).toThrow(re);
  });
});

describe('tokens and secrets', () => {
  test('a token where a rule file needs a literal is refused with cdktf\'s own test', () => {
    const st = newStack();
    const v = new TerraformVariable(st, 'iface', { type: 'string' });
    const h = new StatefulHost(st, 'web', { ruleComments: false });
    expect(() => h.allowOn(v.stringValue, Port.SSH)).toThrow(/\[stack\/web\] allowOn\(\) interface ".*" is an unresolved token/);
    expect(() => h.allowFrom(Peer.ipv4(v.stringValue), Port.SSH)).toThrow(/\[stack\/web\] allowFrom\(\) peer is an unresolved token/);
  });

  test('a literal ${ or %{ in a connection string is refused; a real token passes', () => {
    const st = newStack();
    const key = new TerraformVariable(st, 'key', { type: 'string', sensitive: true });
    const conn = (c: object) => () => new StatefulHost(st, `h${Math.random().toString(36).slice(2)}`, { ruleComments: false, allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: key.stringValue, ...c } as any });
    expect(conn({ host: 'x${file("/etc/passwd")}' })).toThrow(/connection\.host "x\$\{file\(\\"\/etc\/passwd\\"\)\}" holds a literal "\$\{" or "%\{", which Terraform would evaluate/);
    expect(conn({ user: '%{if true}root%{endif}' })).toThrow(/connection\.user .* holds a literal/);
    expect(conn({ timeout: '${var.t}' })).toThrow(/connection\.timeout .* holds a literal/);
    expect(conn({ bastion: { host: 'b${x}' } })).toThrow(/connection\.bastion\.host .* holds a literal/);
    expect(conn({ host: new TerraformVariable(st, 'ip', { type: 'string' }).stringValue })).not.toThrow();
  });

  test('a privateKey passed as a Buffer or a string with a template shows its type, never its bytes', () => {
    const secret = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAASECRETSECRET\n-----END OPENSSH PRIVATE KEY-----\n';
    let msg = '';
    try {
      newHost({ allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: Buffer.from(secret) as any } });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/\[stack\/web\] connection\.privateKey is a Buffer of \d+ bytes; it must be a non-empty string/);
    expect(msg).not.toMatch(/SECRET|65,|"data"/);
    try {
      newHost({ allow: [Port.SSH], connection: { host: '203.0.113.10', privateKey: `${secret}\${x}` } });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/connection\.privateKey holds a literal/);
    expect(msg).not.toContain('SECRET');
  });
});

describe('construct ids', () => {
  test('a very long id synthesizes (folder name shortened with a hash), no ENAMETOOLONG', () => {
    const st = newStack();
    const h = new StatefulHost(st, 'w'.repeat(5000), { allow: [Port.SSH] });
    expect(h.outputFolder.length).toBeLessThan(80);
    expect(() => Testing.synth(st, true)).not.toThrow();
  });

  test('a non-string id names the scope', () => {
    expect(() => new SshBruteforceGuard(newHost(), 42 as any)).toThrow(/\[stack\/web\] a construct id must be a non-empty string, got 42/);
  });
});

describe('linear synth structures', () => {
  test('duplicates and covers are still found with many peers', () => {
    const h = newHost();
    for (let i = 0; i < 2000; i++) h.allowFrom(Peer.ipv4(`10.${Math.floor(i / 256)}.${i % 256}.0/24`), Port.SSH);
    expect(() => h.allowFrom(Peer.ipv4('10.3.7.0/24'), Port.SSH)).toThrow(/already open/);
    expect(() => h.block(Peer.ipv4('10.3.0.0/16'))).toThrow(/block\(10\.3\.0\.0\/16\) conflicts with allowFrom\(10\.3\.0\.0\/24, tcp\/22\)/);
    h.block(Peer.ipv4('10.200.0.0/16'));
    expect(() => h.allowFrom(Peer.ipv4('10.200.1.1'), Port.HTTPS)).toThrow(/but block\(10\.200\.0\.0\/16\) drops all of it first/);
    expect(() => h.block(Peer.ipv4('10.3.7.1'))).not.toThrow(); // narrower than an allowFrom: allowed (the block wins for that host)
  });
});

describe('scopes that are not constructs', () => {
  test('a part, a host and StatefulHost.of name the problem instead of a TypeError', () => {
    expect(() => new SshBruteforceGuard(42 as any, 'g')).toThrow(/^\[<root>\] the scope is 42, not a construct/);
    expect(() => new StatefulHost({} as any, 'web', { ruleComments: false })).toThrow(/^\[<root>\] the scope is an empty object, not a construct/);
    expect(() => StatefulHost.of('x' as any)).toThrow(/StatefulHost\.of\(\) got "x", not a construct/);
  });
});
