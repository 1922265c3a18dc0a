/**
 * The drift check: a systemd timer on the host that compares the live rules
 * with the persisted files (scripts/drift.sh, with keep-foreign.awk deciding
 * what belongs to other tools), logs drift to the journal and, on request,
 * loads the persisted rules again. Shipped by a deploy (installed on confirm)
 * and by cloud-init user-data.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { DriftCheckOptions } from './deploy-props';
import { DistroProfile } from './distro';
import { ForeignRules } from './foreign-rules';
import { IpFamily } from '../iptables/family';
import { firewallError, showValue } from '../private/errors';
import { isUnresolved } from '../private/tokens';

/** Seconds between two checks unless the host says otherwise. */
export const DEFAULT_DRIFT_SECONDS = 300;
/** The shortest interval: a check costs a few milliseconds, but not a busy loop. */
export const MIN_DRIFT_SECONDS = 10;
/** The longest interval (a day). */
export const MAX_DRIFT_SECONDS = 86400;

/** Where the check's script, its awk program and its settings live on the host. */
export const DRIFT_DIR = '/usr/local/lib/cdktf-iptables';
export const DRIFT_SERVICE = 'cdktf-iptables-drift.service';
export const DRIFT_TIMER = 'cdktf-iptables-drift.timer';
/** The identifier of the check's journal entries (`journalctl -t cdktf-iptables`). */
export const DRIFT_LOG_IDENTIFIER = 'cdktf-iptables';

/** File names inside DRIFT_DIR (and in a deploy's staging folder). */
export const DRIFT_SCRIPT = 'drift.sh';
export const KEEP_FOREIGN_AWK = 'keep-foreign.awk';
export const KEPT_RULES_AWK = 'kept-rules.awk';
export const DRIFT_CONF = 'drift.conf';

const SCRIPTS = path.join(__dirname, 'scripts');

/** A host's checked drift settings; undefined: no timer. */
export interface DriftSettings {
  readonly intervalSeconds: number;
  readonly repair: boolean;
}

/**
 * Checks `drift` (a host's `DeployProps.drift`) and returns what the timer
 * runs with, or undefined when the check is off. Errors name the host.
 */
export function driftSettings(where: string, drift: DriftCheckOptions | undefined): DriftSettings | undefined {
  if (drift === undefined) return { intervalSeconds: DEFAULT_DRIFT_SECONDS, repair: false };
  if (typeof drift !== 'object' || drift === null || Array.isArray(drift)) {
    throw firewallError(where, { message: `drift is ${showValue(drift)}, not an object`, fix: 'Use e.g. drift: { intervalSeconds: 60, repair: true }.' });
  }
  const bool = (name: 'enabled' | 'repair', dflt: boolean): boolean => {
    const v = drift[name];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw firewallError(where, { message: `drift.${name} is ${showValue(v)}, not a boolean`, fix: `Use drift: { ${name}: true } or false (not a string).` });
    return v;
  };
  const enabled = bool('enabled', true);
  const repair = bool('repair', false);
  const interval = drift.intervalSeconds ?? DEFAULT_DRIFT_SECONDS;
  if (isUnresolved(interval)) {
    throw firewallError(where, { message: 'drift.intervalSeconds is an unresolved token', fix: 'The timer unit is written at synth: pass a literal number of seconds.' });
  }
  if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < MIN_DRIFT_SECONDS || interval > MAX_DRIFT_SECONDS) {
    throw firewallError(where, {
      message: `drift.intervalSeconds is ${showValue(interval)}; it must be a whole number of seconds from ${MIN_DRIFT_SECONDS} to ${MAX_DRIFT_SECONDS}`,
      fix: `Use e.g. drift: { intervalSeconds: ${DEFAULT_DRIFT_SECONDS} } (the default), or drift: { enabled: false } for no check.`,
    });
  }
  return enabled ? { intervalSeconds: interval, repair } : undefined;
}

/** A script of this library, as shipped. */
export function scriptText(name: string): string {
  return fs.readFileSync(path.join(SCRIPTS, name), 'utf8');
}

/**
 * A script without its comment lines and indentation, for user-data where
 * every byte counts. Only for scripts whose every line stands alone
 * (no here-documents, no multi-line strings but awk programs).
 */
export function compactScript(text: string): string {
  const lines = text.split('\n');
  const out = lines.filter((l, i) => (i === 0 && l.startsWith('#!')) || !/^\s*(#|$)/.test(l)).map((l) => l.replace(/^\s+/, ''));
  return out.join('\n') + '\n';
}

/** Unique values, in order. */
function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/** The settings drift.sh sources on the host (`drift.conf`). */
export function driftConf(profile: DistroProfile, families: readonly IpFamily[], keep: readonly ForeignRules[], repair: boolean): string {
  const q = (v: string) => `'${v.replace(/'/g, '\'\\\'\'')}'`;
  const settings: Record<string, string> = {
    CFW_FAMILIES: families.map((f) => (f === IpFamily.V4 ? 'v4' : 'v6')).join(' '),
    CFW_RULES_V4: profile.rulesPath[IpFamily.V4],
    CFW_RULES_V6: profile.rulesPath[IpFamily.V6],
    CFW_KEEP_CHAINS: unique(keep.flatMap((k) => k.chains)).join(' '),
    CFW_KEEP_IFACES: unique(keep.flatMap((k) => k.interfaces)).join(' '),
    CFW_IPSETS_PATH: profile.ipsetsPath,
    CFW_DRIFT_REPAIR: repair ? 'yes' : 'no',
  };
  return [
    '# cdktf-iptables drift check settings (sourced by drift.sh). Generated; edit the cdktf program.',
    ...Object.entries(settings).map(([k, v]) => `${k}=${q(v)}`),
    '',
  ].join('\n');
}

/**
 * The oneshot service the timer starts. Its output is the journal under the
 * identifier `cdktf-iptables`; systemd's own start/stop lines stay out of it
 * (LogLevelMax=notice), so a host without drift logs nothing.
 */
export function driftServiceUnit(): string {
  return [
    '[Unit]',
    'Description=Compare the live iptables rules with the persisted ones (cdktf-iptables)',
    'After=iptables.service ip6tables.service cdktf-ipsets.service',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=/bin/sh ${DRIFT_DIR}/${DRIFT_SCRIPT} check ${DRIFT_DIR}/${DRIFT_CONF}`,
    `SyslogIdentifier=${DRIFT_LOG_IDENTIFIER}`,
    'LogLevelMax=notice',
    'PrivateTmp=yes',
    'Nice=10',
    '',
  ].join('\n');
}

/** The timer: the first check `interval` seconds after it starts (at boot, or on install), then every `interval` seconds. */
export function driftTimerUnit(intervalSeconds: number): string {
  return [
    '[Unit]',
    `Description=Check the iptables rules for drift every ${intervalSeconds}s (cdktf-iptables)`,
    '',
    '[Timer]',
    `OnActiveSec=${intervalSeconds}s`,
    `OnUnitActiveSec=${intervalSeconds}s`,
    'AccuracySec=1s',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** One file of the drift check, by its name in DRIFT_DIR or its unit name. */
export interface DriftFile {
  /** Absolute path on the host. */
  readonly path: string;
  readonly content: string;
  /** Octal mode. */
  readonly mode: string;
}

/** Everything the check installs on a host: script, awk program, settings, units. */
export function driftFiles(
  profile: DistroProfile, families: readonly IpFamily[], keep: readonly ForeignRules[], settings: DriftSettings,
): DriftFile[] {
  return [
    { path: `${DRIFT_DIR}/${DRIFT_SCRIPT}`, content: scriptText(DRIFT_SCRIPT), mode: '700' },
    { path: `${DRIFT_DIR}/${KEEP_FOREIGN_AWK}`, content: scriptText(KEEP_FOREIGN_AWK), mode: '600' },
    { path: `${DRIFT_DIR}/${DRIFT_CONF}`, content: driftConf(profile, families, keep, settings.repair), mode: '600' },
    { path: `/etc/systemd/system/${DRIFT_SERVICE}`, content: driftServiceUnit(), mode: '644' },
    { path: `/etc/systemd/system/${DRIFT_TIMER}`, content: driftTimerUnit(settings.intervalSeconds), mode: '644' },
  ];
}
