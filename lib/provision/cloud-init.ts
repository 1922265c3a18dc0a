import * as zlib from 'zlib';
import { CloudInitEncoding, CloudInitFormat, CloudInitOptions, CloudInitPart } from './cloud-init-options';
import { Distro, DistroProfile, IPSETS_UNIT, ipsetsUnit, restoreUnit } from './distro';
import { compactScript, DRIFT_TIMER, DriftFile } from './drift';
import { IpFamily } from '../iptables/family';

export { CloudInitEncoding, CloudInitFormat };
export type { CloudInitOptions, CloudInitPart };

/** AWS EC2's limit on user-data (raw bytes, before base64). */
export const AWS_USER_DATA_LIMIT = 16384;

/** Everything cloud-init needs to install a host's rules at first boot. */
export interface CloudInitInput {
  readonly profile: DistroProfile;
  /** Rule file text per family the host renders. */
  readonly rules: Partial<Record<IpFamily, string>>;
  /** sysctl `key=value` settings (e.g. forwarding for a NAT gateway). */
  readonly sysctl: readonly string[];
  /** Stop and mask active conflicting firewall services instead of failing. */
  readonly takeOver?: boolean;
  /** `ipset restore` text of the host's sets (loaded before the rules, which match them), if any. */
  readonly ipsets?: string;
  /** The drift check's files (script, awk program, settings, units); the timer is started after the rules. */
  readonly drift?: readonly DriftFile[];
}

const CONFLICTING = ['firewalld', 'ufw', 'nftables'];
const SYSCTL_FILE = '/etc/sysctl.d/90-cdktf-iptables.conf';
const MARKER = '/var/lib/cdktf-iptables/cloud-init-instance';
const EOF = 'CDKTF_IPTABLES_EOF';
/** Merged last: our lists go first, your keys and lists stay. */
const MERGE_TYPE = 'list(prepend)+dict(no_replace,recurse_list)+str()';
const BOUNDARY = '==CDKTF-IPTABLES-5d0c4a1e==';

function restoreCmd(f: IpFamily): string { return f === IpFamily.V4 ? 'iptables-restore' : 'ip6tables-restore'; }

/** The distro's install command for its packages (run only when something is missing). */
function installCommand(profile: DistroProfile, packages: readonly string[]): string {
  const pkgs = packages.join(' ');
  switch (profile.distro) {
    case Distro.DEBIAN:
      return `apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${pkgs}`;
    case Distro.RHEL:
      return `if command -v dnf >/dev/null 2>&1; then dnf -y -q install ${pkgs}; else yum -y -q install ${pkgs}; fi`;
    case Distro.ARCH:
      return `pacman -Sy --noconfirm --needed ${pkgs}`;
  }
}

/** A here-document that writes `content` (base64, 76 columns) to `path` atomically. */
function putFile(path: string, mode: string, content: string): string[] {
  const b64 = Buffer.from(content).toString('base64').match(/.{1,76}/g) ?? [];
  return [`put ${path} ${mode} <<'${EOF}'`, ...b64, EOF];
}

/**
 * Writes several files from ONE gzip stream (scripts without their comments
 * and indentation): far smaller than a here-document per file. Each file
 * starts with a line `@@ PATH MODE`; the folders exist already.
 */
function putArchive(files: readonly DriftFile[]): string[] {
  const text = files.map((f) => {
    const content = /\.(sh|awk)$/.test(f.path) ? compactScript(f.content) : f.content;
    if (content.split('\n').some((line) => line.startsWith('@@ '))) throw new Error(`internal: ${f.path} has a line starting with "@@ "`);
    return `@@ ${f.path} ${f.mode}\n${content}`;
  }).join('');
  const b64 = gzipStable(text).toString('base64').match(/.{1,76}/g) ?? [];
  const tmp = '/run/cdktf-iptables-files';
  return [
    `install -d -m 755 ${unique(files.map((f) => f.path.replace(/\/[^/]*$/, ''))).join(' ')}`,
    `base64 -d > ${tmp}.gz <<'${EOF}'`, ...b64, EOF,
    `gzip -dc < ${tmp}.gz | awk '/^@@ / { if (f != "") close(f); f = $2 ".cdktf-iptables.tmp"; print $2, $3; printf "" > f; next } { print > f }' > ${tmp}.list`,
    `while read -r path mode; do chmod "$mode" "$path.cdktf-iptables.tmp"; mv "$path.cdktf-iptables.tmp" "$path"; done < ${tmp}.list`,
    `rm -f ${tmp}.gz ${tmp}.list`,
  ];
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * The shell script (POSIX sh, `set -eu`) that cloud-init runs as `bootcmd`:
 * in cloud-init's init stage, which systemd orders before sshd and
 * network-online.target. Once per instance (a marker holds the instance id):
 * on later boots the enabled units load the rules before network-pre.target,
 * and a later SSH deploy is never overwritten by this old user-data.
 * No `${` or `%{` anywhere: Terraform would read them as template syntax.
 */
export function bootScript(input: CloudInitInput): string {
  const p = input.profile;
  const families = ([IpFamily.V4, IpFamily.V6] as const).filter((f) => input.rules[f] !== undefined);
  const units = families.map((f) => p.unit[f]);
  const sets = input.ipsets !== undefined;
  const packages = sets ? [...p.packages, 'ipset'] : [...p.packages];
  const enable = sets ? [IPSETS_UNIT, ...units] : units;
  const l: string[] = [];
  l.push(
    '# cdktf-iptables: installs and loads this host\'s firewall, once per instance',
    'set -eu',
    'say() { echo "cdktf-iptables: $*" >&2; }',
    'die() { say "error: $*"; exit 1; }',
    'trap \'rc=$?; [ "$rc" = 0 ] || say "error: the firewall install stopped (exit $rc); the host may be unfiltered"\' EXIT',
    'have() { command -v "$1" >/dev/null 2>&1; }',
    'iid=$(printenv INSTANCE_ID || true)',
    `if [ -n "$iid" ] && [ "$(cat ${MARKER} 2>/dev/null || true)" = "$iid" ]; then`,
    '  say "installed for instance $iid already; the units load the rules at boot"; exit 0',
    'fi',
    'put() { install -d -m 755 "$(dirname "$1")"; base64 -d > "$1.cdktf-iptables.tmp"; chmod "$2" "$1.cdktf-iptables.tmp"; mv "$1.cdktf-iptables.tmp" "$1"; }',
    'unit_exists() { [ "$(systemctl show -p LoadState --value "$1")" != not-found ]; }',
    '[ -d /run/systemd/system ] && have systemctl || die "no systemd: nothing would load the rules at boot"',
  );
  // packages, only when something is missing (the image may have them)
  const needs = families.map((f) => `have ${restoreCmd(f)}`);
  if (sets) needs.push('have ipset');
  if (!p.shipUnits) needs.push(...units.map((u) => `unit_exists ${u}`));
  l.push(
    `if ! { ${needs.join(' && ')}; }; then`,
    `  say "installing ${packages.join(' ')}"`,
    `  ${installCommand(p, packages)} || die "installing ${packages.join(' ')} failed"`,
    'fi',
  );
  for (const cmd of [...families.map(restoreCmd), ...(sets ? ['ipset'] : [])]) {
    l.push(`have ${cmd} || die "${cmd} is missing after installing ${packages.join(' ')}"`);
  }
  // conflicting firewall services
  for (const svc of p.mask) {
    l.push(
      `case "$(systemctl show -p LoadState --value ${svc}.service)" in`,
      '  not-found|masked) ;;',
      `  *) say "stopping, disabling and masking ${svc} (${p.distro} profile)"; systemctl disable --now ${svc}.service; systemctl mask ${svc}.service ;;`,
      'esac',
    );
  }
  const others = CONFLICTING.filter((s) => !p.mask.includes(s));
  l.push('active=');
  for (const svc of others) {
    // active now, or enabled (it may start after this, unordered, and flush our rules);
    // Ubuntu runs ufw.service with ufw disabled (ENABLED=no): that one does not conflict
    const running = `{ systemctl is-active --quiet ${svc}.service || systemctl is-enabled --quiet ${svc}.service; }`;
    const cond = svc === 'ufw' ? `${running} && grep -qs "^ENABLED=yes" /etc/ufw/ufw.conf` : running;
    l.push(`if ${cond}; then active="$active ${svc}"; fi`);
  }
  l.push('if [ -n "$active" ]; then');
  if (input.takeOver) {
    l.push('  for svc in $active; do say "takeOver: stopping, disabling and masking $svc"; systemctl disable --now "$svc.service"; systemctl mask "$svc.service"; done');
  } else {
    l.push('  set -- $active; die "$* is active or enabled and would fight over the rules; disable it in the image, or use cloudInit({ takeOver: true })"');
  }
  l.push('fi');
  // files: sets, rules, units where the distro lacks them, sysctls
  if (sets) {
    l.push(...putFile(p.ipsetsPath, '600', input.ipsets!));
    l.push(...putFile(`/etc/systemd/system/${IPSETS_UNIT}`, '644', ipsetsUnit(p.ipsetsPath)));
  }
  for (const f of families) {
    l.push(...putFile(p.rulesPath[f], '600', input.rules[f]!));
  }
  for (const f of families) {
    const unitFile = putFile(`/etc/systemd/system/${p.unit[f]}`, '644', restoreUnit(f, p.rulesPath[f]));
    if (p.shipUnits) {
      l.push(...unitFile);
    } else {
      l.push(`if ! unit_exists ${p.unit[f]}; then`, ...unitFile, 'fi');
    }
  }
  if (input.sysctl.length > 0) l.push(...putFile(SYSCTL_FILE, '644', ['# written by cdktf-iptables', ...input.sysctl, ''].join('\n')));
  if (input.drift) l.push(...putArchive(input.drift));
  // load: the sets (the rules match them by name), the rules (tested first), then
  // the units (enabled, active), then forwarding
  if (sets) l.push(`ipset restore -exist < ${p.ipsetsPath} || die "loading the ipset sets ${p.ipsetsPath} failed"`);
  for (const f of families) {
    l.push(`${restoreCmd(f)} --test < ${p.rulesPath[f]} || die "${restoreCmd(f)} --test rejected ${p.rulesPath[f]}"`);
  }
  for (const f of families) {
    l.push(`${restoreCmd(f)} -w 5 < ${p.rulesPath[f]} || die "loading ${p.rulesPath[f]} failed"`);
  }
  l.push(`say "rules loaded: ${families.map((f) => p.rulesPath[f]).join(' ')}"`);
  l.push('systemctl daemon-reload');
  l.push(`systemctl enable ${enable.join(' ')}`);
  for (const u of enable) l.push(`systemctl is-active --quiet ${u} || systemctl start ${u}`);
  if (input.drift) {
    // queued, not waited for: timers start after sysinit.target, which waits for this boot stage
    l.push(`systemctl enable ${DRIFT_TIMER}`, `systemctl start --no-block ${DRIFT_TIMER}`, `say "drift check enabled (${DRIFT_TIMER})"`);
  }
  if (input.sysctl.length > 0) {
    l.push(`sysctl -q -p ${SYSCTL_FILE}`, `say "forwarding on (${SYSCTL_FILE}), after the rules"`);
  }
  l.push(
    `install -d -m 700 ${MARKER.replace(/\/[^/]*$/, '')}`,
    `if [ -n "$iid" ]; then printf '%s\\n' "$iid" > ${MARKER}; fi`,
    `say "firewall installed; ${enable.join(' ')} enabled"`,
  );
  return l.join('\n') + '\n';
}

/**
 * A `#cloud-config` user-data document that installs and loads the host's
 * rules in `bootcmd`: in cloud-init's init stage, before sshd starts, once
 * per instance. Every command is checked (`set -eu`), so a failure makes
 * cloud-init report an error. `merge_how` keeps it whole when combined with
 * other cloud-config parts after them.
 */
export function cloudInitDocument(input: CloudInitInput): string {
  // a subshell: `set -eu` and `exit` stay ours when cloud-init merges other
  // bootcmd entries after it into the same script; a failure still ends it
  // with our status (a plain statement, not an AND-OR list, so set -e holds)
  const script = ['(', ...bootScript(input).split('\n').slice(0, -1), ')', 'rc=$?; if [ "$rc" != 0 ]; then exit "$rc"; fi'];
  return [
    '#cloud-config',
    '# cdktf-iptables: the firewall is installed and loaded by bootcmd (before sshd), once per instance',
    'merge_how:',
    '  - name: list',
    '    settings: [prepend]',
    '  - name: dict',
    '    settings: [no_replace, recurse_list]',
    'bootcmd:',
    '  - |',
    ...script.map((s) => (s === '' ? '' : `    ${s}`)),
    '',
  ].join('\n');
}

/** A MIME multipart/mixed document: `parts` first, then the firewall's cloud-config. */
export function multipartDocument(firewall: string, parts: readonly CloudInitPart[]): string {
  const all = [...parts.map((p, i) => ({ ...p, filename: p.filename ?? `part-${i + 1}.txt`, merge: undefined as string | undefined })),
    { contentType: 'text/cloud-config', content: firewall, filename: 'cdktf-iptables.cfg', merge: MERGE_TYPE }];
  const out = [`Content-Type: multipart/mixed; boundary="${BOUNDARY}"`, 'MIME-Version: 1.0', ''];
  for (const p of all) {
    out.push(`--${BOUNDARY}`, `Content-Type: ${p.contentType}; charset="utf-8"`, 'MIME-Version: 1.0',
      'Content-Transfer-Encoding: 8bit', `Content-Disposition: attachment; filename="${p.filename}"`);
    if (p.merge) out.push(`Merge-Type: ${p.merge}`);
    out.push('', p.content.endsWith('\n') ? p.content.slice(0, -1) : p.content);
  }
  out.push(`--${BOUNDARY}--`, '');
  return out.join('\n');
}

/** gzip with a fixed header (no name, mtime 0, OS "Unix"): the same bytes for the same text. */
export function gzipStable(text: string): Buffer {
  const gz = zlib.gzipSync(Buffer.from(text, 'utf8'), { level: 9 });
  gz[9] = 3;
  return gz;
}

/** What the instance receives and what a resource gets: the rendered user-data. */
export interface UserData {
  /** The string for the resource (plain text, or base64 of gzip). */
  readonly value: string;
  /** Bytes the instance receives (the gzip bytes for GZIP_BASE64). */
  readonly bytes: number;
  /** Bytes of the plain text. */
  readonly plainBytes: number;
}

/** Checks options; returns a problem message and fix, or undefined. */
export function cloudInitOptionsProblem(o: CloudInitOptions): { message: string; fix: string } | undefined {
  const enumOk = (v: unknown, e: object) => v === undefined || Object.values(e).includes(v);
  if (!enumOk(o.format, CloudInitFormat)) return { message: `cloudInit() format is ${JSON.stringify(o.format)}`, fix: `Use one of ${Object.values(CloudInitFormat).join(', ')}.` };
  if (!enumOk(o.encoding, CloudInitEncoding)) return { message: `cloudInit() encoding is ${JSON.stringify(o.encoding)}`, fix: `Use one of ${Object.values(CloudInitEncoding).join(', ')}.` };
  if (o.maxBytes !== undefined && !(Number.isInteger(o.maxBytes) && o.maxBytes >= 0)) {
    return { message: `cloudInit() maxBytes is ${JSON.stringify(o.maxBytes)}`, fix: 'Use a whole number of bytes (16384 for AWS EC2), or 0 for no check.' };
  }
  if (o.takeOver !== undefined && typeof o.takeOver !== 'boolean') return { message: `cloudInit() takeOver is ${JSON.stringify(o.takeOver)}, not a boolean`, fix: 'Use takeOver: true or false.' };
  const parts = o.parts ?? [];
  if (parts.length > 0 && (o.format ?? CloudInitFormat.CLOUD_CONFIG) !== CloudInitFormat.MIME_MULTIPART) {
    return { message: 'cloudInit() parts only go into a MIME_MULTIPART document', fix: 'Set format: CloudInitFormat.MIME_MULTIPART, or drop parts.' };
  }
  for (const [i, p] of parts.entries()) {
    if (typeof p?.contentType !== 'string' || !/^[a-z0-9-]+\/[a-z0-9.+-]+$/.test(p.contentType)) {
      return { message: `cloudInit() parts[${i}].contentType is ${JSON.stringify(p?.contentType)}`, fix: 'Use a MIME type such as text/cloud-config or text/x-shellscript.' };
    }
    if (typeof p.content !== 'string') return { message: `cloudInit() parts[${i}].content is not a string`, fix: 'Pass the part\'s text.' };
    if (p.content.includes(BOUNDARY)) return { message: `cloudInit() parts[${i}].content contains the MIME boundary ${BOUNDARY}`, fix: 'Remove that line from the part.' };
    if (p.filename !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(p.filename)) {
      return { message: `cloudInit() parts[${i}].filename is ${JSON.stringify(p.filename)}`, fix: 'Use letters, digits, ".", "_" and "-" only.' };
    }
  }
  return undefined;
}

/** The user-data for `input` in the shape and encoding `options` ask for (options checked first). */
export function renderUserData(input: CloudInitInput, options: CloudInitOptions = {}): UserData {
  const doc = cloudInitDocument({ ...input, takeOver: options.takeOver ?? input.takeOver });
  const multipart = (options.format ?? CloudInitFormat.CLOUD_CONFIG) === CloudInitFormat.MIME_MULTIPART;
  const text = multipart ? multipartDocument(doc, options.parts ?? []) : doc;
  const plainBytes = Buffer.byteLength(text, 'utf8');
  if ((options.encoding ?? CloudInitEncoding.PLAIN) === CloudInitEncoding.GZIP_BASE64) {
    const gz = gzipStable(text);
    return { value: gz.toString('base64'), bytes: gz.length, plainBytes };
  }
  return { value: text, bytes: plainBytes, plainBytes };
}

/** The size problem of rendered user-data, or undefined. Names the limit and the way out. */
export function userDataSizeProblem(ud: UserData, options: CloudInitOptions): { message: string; fix: string } | undefined {
  const limit = options.maxBytes ?? AWS_USER_DATA_LIMIT;
  if (limit === 0 || ud.bytes <= limit) return undefined;
  const gzipped = (options.encoding ?? CloudInitEncoding.PLAIN) === CloudInitEncoding.GZIP_BASE64;
  return {
    message: `cloudInit() user-data is ${ud.bytes} bytes${gzipped ? ' gzipped' : ''}, over the limit of ${limit} bytes${limit === AWS_USER_DATA_LIMIT ? ' (AWS EC2 user-data, before base64)' : ''}`,
    fix: gzipped
      ? 'Fewer rules (e.g. peers as subnets), deploy over SSH (connection), or raise maxBytes if your cloud allows more.'
      : 'Use cloudInit({ encoding: CloudInitEncoding.GZIP_BASE64 }) and pass it as user_data_base64, or raise maxBytes if your cloud allows more.',
  };
}

/** sysctl settings that the host's requirements call for. */
export function sysctlFor(requirements: readonly string[]): string[] {
  const out: string[] = [];
  if (requirements.includes('ipv4-forwarding')) out.push('net.ipv4.ip_forward=1');
  if (requirements.includes('ipv6-forwarding')) out.push('net.ipv6.conf.all.forwarding=1');
  return out;
}
