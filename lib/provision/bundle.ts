import * as crypto from 'crypto';

/** One file carried by a deploy bundle. */
export interface BundleFile {
  /** File name inside the staging folder: letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  /** Text content; must end with a newline. */
  readonly content: string;
  /** Octal mode, e.g. `600`. */
  readonly mode: string;
}

/** A deploy bundle: one self-checking shell script that stages a host's files. */
export interface DeployBundle {
  /** The script text (`deploy.sh`). */
  readonly script: string;
  /** The deploy's id: a hash of every file it carries; confirm and rollback name it. */
  readonly deployId: string;
}

/** Where the bundle unpacks, root-only (created by the bundle). */
export const STATE_DIR = '/var/lib/cdktf-iptables';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/**
 * Builds the deploy bundle: a POSIX shell script that, uploaded and run by ONE
 * SSH session, re-runs itself as root (`sudo -n` for another user), unpacks its
 * files into a fresh private folder, checks each against its sha256, and only
 * then runs `firewall.sh stage`. Files are literal here-documents, so the
 * script stays readable. Everything runs from `cfw_main "$@"` on the last
 * line: a truncated upload defines nothing or fails to parse, and runs nothing.
 */
export function deployBundle(hostPath: string, files: readonly BundleFile[]): DeployBundle {
  const sums = files.map((f) => {
    if (!NAME.test(f.name)) throw new Error(`internal: bundle file name ${JSON.stringify(f.name)}`);
    if (!f.content.endsWith('\n')) throw new Error(`internal: bundle file ${f.name} must end with a newline`);
    if (!/^[0-7]{3}$/.test(f.mode)) throw new Error(`internal: bundle file mode ${f.mode}`);
    return `${sha256(f.content)}  ${f.name}`;
  });
  if (new Set(files.map((f) => f.name)).size !== files.length) throw new Error('internal: bundle file names must be unique');
  const deployId = sha256(sums.join('\n')).slice(0, 20);

  const unpack: string[] = [];
  for (const f of files) {
    const eof = `CFW_EOF_${sha256(f.name + f.content).slice(0, 16)}`;
    if (f.content.split('\n').includes(eof)) throw new Error(`internal: ${f.name} contains its own delimiter`);
    unpack.push(`  cat > "$1/${f.name}" <<'${eof}'`, f.content.replace(/\n$/, ''), eof, `  chmod ${f.mode} "$1/${f.name}"`);
  }
  const script = [
    '#!/bin/sh',
    `# cdktf-iptables deploy bundle of ${hostPath.replace(/[^\x20-\x7e]/g, '?')} (deploy ${deployId}). Generated; edit the cdktf program.`,
    '# Run by one SSH session: unpacks the files below into a fresh root-only folder,',
    '# checks them against their sha256, then loads them with `firewall.sh stage`.',
    'set -eu',
    '# Terraform made this file world-writable (0777); take that back before anything else',
    'chmod 700 "$0" 2>/dev/null || true',
    '',
    'cfw_unpack() { # folder',
    ...unpack,
    '}',
    '',
    'cfw_sums() {',
    '  cat <<\'CFW_SUMS\'',
    ...sums,
    'CFW_SUMS',
    '}',
    '',
    'cfw_main() {',
    '  # the address this SSH session comes from (sudo drops SSH_CLIENT: pass it on)',
    '  client=${1:-${SSH_CLIENT:-}}',
    '  client=${client%% *}',
    '  if [ "$(id -u)" -ne 0 ]; then exec sudo -n /bin/sh "$0" "$client"; fi',
    '  umask 077',
    `  install -d -m 700 ${STATE_DIR}`,
    `  d=$(mktemp -d ${STATE_DIR}/stage.XXXXXXXX)`,
    '  cfw_unpack "$d"',
    '  if ! cfw_sums | (cd "$d" && sha256sum -c --status); then',
    '    rm -rf "$d"',
    '    echo "cdktf-iptables: the uploaded files do not match their sha256 (truncated or altered upload); nothing was changed" >&2',
    '    exit 1',
    '  fi',
    '  # the uploaded script is not needed any more (Terraform leaves an empty file in its place)',
    '  rm -f -- "$0"',
    `  exec /bin/sh "$d/firewall.sh" stage "$d" ${deployId} "$client"`,
    '}',
    '',
    'cfw_main "$@"',
    '',
  ].join('\n');
  return { script, deployId };
}

/** sha256 of a text, hex. */
export function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}
