#!/usr/bin/env bash
# The test run of `npx projen test` (and of CI): jest in three lanes side by
# side, each lane one jest process running its test files one after another,
# then eslint.
#
#   e2e       test/e2e: terraform against booted hosts; mostly waiting (boots,
#             rollback windows, drift timers, SSH), little CPU
#   packages  the package and example tests: pack, npm install and compile in
#             fresh apps (they also compile lib/ when it is stale, so they
#             share a lane); mostly CPU; then eslint
#   rest      everything else: unit, kernel (network namespaces) and fuzz tests
#
# (Measured on 2 cores, the lanes take about 260, 200 + 30 and 260 s; move a
# file between lanes when one lane grows much longer than the others.)
#
# The lanes cannot meet: every namespace, veth, machine and temp folder a test
# makes carries its jest process's PID (Lab, Fleet, global-setup.ts), and the
# cached images and layers are built under flock (test/e2e/image*.sh) and
# Node 22 is renamed into place (test/packaged.ts). Each lane writes its own
# JUnit report (test-reports/junit-<lane>.xml, each test case with its file)
# and prefixes its lines with its name; the summary at the end lists each
# lane's exit status and seconds.
#
# With arguments, one plain jest run over them, then eslint, as before (e.g.
# `npx projen test test/values`, `npx projen test -t fleet`).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
jest=node_modules/.bin/jest
if [ "$#" -gt 0 ]; then
  "$jest" --ci "$@" || exit
  exec npx projen eslint
fi

# the lanes' test path patterns (regular expressions, as jest reads them); rest is what none matches
e2e=('/test/e2e/')
packages=('/test/package\.test\.ts$' '/test/examples\.test\.ts$')
rest=(--testPathIgnorePatterns=/node_modules/)
for p in "${e2e[@]}" "${packages[@]}"; do rest+=("--testPathIgnorePatterns=$p"); done

status_dir=$(mktemp -d)
trap 'rm -rf "$status_dir"' EXIT

# step LANE NAME COMMAND...: runs a command with its lines prefixed, records exit status and seconds
step() {
  local lane=$1 name=$2
  shift 2
  local t0=$SECONDS
  "$@" 2>&1 | sed -u "s/^/[$lane] /"
  local rc=${PIPESTATUS[0]}
  echo "$name $rc $((SECONDS - t0))" >> "$status_dir/$lane"
  return "$rc"
}
tests() {
  local lane=$1
  shift
  JEST_JUNIT_OUTPUT_NAME="junit-$lane.xml" JEST_JUNIT_ADD_FILE_ATTRIBUTE=true step "$lane" jest "$jest" --ci "$@"
}

tests e2e "${e2e[@]}" &
lane_e2e=$!
{ tests packages "${packages[@]}"; step packages eslint npx projen eslint; } &
lane_packages=$!
tests rest "${rest[@]}" &
lane_rest=$!
wait "$lane_e2e" "$lane_packages" "$lane_rest"

failed=0
for lane in e2e packages rest; do
  [ -s "$status_dir/$lane" ] || { echo "lane $lane: no result"; failed=1; continue; }
  while read -r name rc secs; do
    echo "lane $lane, $name: exit $rc after ${secs} s"
    [ "$rc" = 0 ] || failed=1
  done < "$status_dir/$lane"
done
exit "$failed"
