#!/usr/bin/env bash
# Synthesizes examples/<name> with the cdktf CLI (as a user runs `cdktf synth`)
# and prints its warnings, where the rendered rule files are and what they
# contain. Usage: bash examples/synth-and-show.sh single-host
set -euo pipefail
name="${1:?usage: synth-and-show.sh EXAMPLE}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/examples/$name"
[ -f "$dir/main.ts" ] || { echo "no example named '$name' (looked for $dir/main.ts)" >&2; exit 2; }
export CHECKPOINT_DISABLE=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CI="${CI:-true}"
# a TF_CLI_CONFIG_FILE that does not exist makes terraform warn on every call
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then export TF_CLI_CONFIG_FILE=/dev/null; fi
cd "$dir"
rm -rf cdktf.out
"$root/node_modules/.bin/cdktf" synth
echo
echo "Synthesized examples/$name into $dir/cdktf.out"
# per host folder: iptables.rules, then its IPv6 twin
find cdktf.out -name 'iptables.rules' | LC_ALL=C sort | while read -r v4; do
  for f in "$v4" "$(dirname "$v4")/ip6tables.rules"; do
    [ -f "$f" ] || continue
    echo
    echo "==> examples/$name/$f"
    cat "$f"
  done
done
