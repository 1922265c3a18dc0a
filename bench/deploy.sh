#!/usr/bin/env bash
# Deploy figures: image build cold (empty cache) and cached, then the e2e deploy
# test, whose timings (boot, first apply, no-op plan, reboot, re-apply,
# rollback) it prints from test-reports/e2e-timings.json. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
cold=$(mktemp -d)
t0=$(date +%s.%N)
bash test/e2e/image.sh "$cold" >/dev/null
t1=$(date +%s.%N)
bash test/e2e/image.sh "$cold" >/dev/null
t2=$(date +%s.%N)
rm -rf "$cold"
echo "image build cold: $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
echo "image build cached: $(awk "BEGIN{printf \"%.2f\", $t2 - $t1}") s"
npx jest test/e2e >/dev/null 2>&1 || { echo "e2e test failed: run npx jest test/e2e" >&2; exit 1; }
# shellcheck disable=SC2016 # JavaScript, not shell
node -e 'const t=require("./test-reports/e2e-timings.json"); for (const [k,v] of Object.entries(t)) console.log(`${k.replace(/ s$/, "")}: ${v} s`)'
