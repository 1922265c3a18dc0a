#!/bin/sh
# cdktf-iptables: compares the live iptables rules with the persisted rule files.
#
#   drift.sh check SETTINGS   (cdktf-iptables-drift.timer) logs drift to the journal
#                             and, with CFW_DRIFT_REPAIR=yes, loads the persisted
#                             rules again (the kept rules of other tools stay)
#   drift.sh report SETTINGS  (a deploy's stage) prints the drift; changes nothing
#
# SETTINGS (sourced; all values ours, validated at synth) sets:
#   CFW_FAMILIES                  "v4" or "v4 v6"
#   CFW_RULES_V4 / CFW_RULES_V6   the persisted rule files
#   CFW_KEEP_CHAINS / CFW_KEEP_IFACES  kept rules of other tools (Docker,
#                     fail2ban): left out of the comparison, kept by a repair
#   CFW_IPSETS_PATH   where our ipset sets are persisted (the sets checked are
#                     the ones that file creates)
#   CFW_DRIFT_REPAIR  "yes" to load the persisted rules again on drift
#
# The comparison is canonical iptables-save text, table by table for the tables
# our files write: comments, counters and the kept rules of other tools are
# left out of both sides (keep-foreign.awk, next to this script, decides and
# compares). Sets are compared by their members.
#
# Under the timer, stdout is the journal (SyslogIdentifier=cdktf-iptables):
# "<4>" marks a warning. A drift is logged in full when it is new or changed
# (and again hourly while it lasts); its end is logged once.
set -eu

RUN=/run/cdktf-iptables
LAST=/run/cdktf-iptables-drift.last
HERE=$(dirname "$0")

save_cmd() { if [ "$1" = v4 ]; then echo iptables-save; else echo ip6tables-save; fi; }
restore_cmd() { if [ "$1" = v4 ]; then echo iptables-restore; else echo ip6tables-restore; fi; }
rules_path() { if [ "$1" = v4 ]; then echo "$CFW_RULES_V4"; else echo "$CFW_RULES_V6"; fi; }
label() { if [ "$1" = v4 ]; then echo IPv4; else echo IPv6; fi; }

# Compares one family; appends "drift: ..." lines to $tmp/report. 0: equal, 3: drift.
compare_family() { # family
  file=$(rules_path "$1")
  if [ ! -f "$file" ]; then
    echo "drift: $(label "$1") the persisted rule file $file is missing" >> "$tmp/report"
    return 3
  fi
  if ! "$(save_cmd "$1")" > "$tmp/live.$1" 2> "$tmp/err"; then
    echo "drift: $(label "$1") $(save_cmd "$1") failed: $(head -c 300 "$tmp/err")" >> "$tmp/report"
    return 3
  fi
  rc=0
  awk -v mode=drift -v chains="${CFW_KEEP_CHAINS:-}" -v ifaces="${CFW_KEEP_IFACES:-}" \
    -v fam="$(label "$1")" -v rulesfile="$file" -f "$HERE/keep-foreign.awk" \
    "$tmp/live.$1" "$file" >> "$tmp/report" || rc=$?
  return "$rc"
}

# Compares the persisted sets with the live ones, by members, in one pass over
# one `ipset save`. Appends to the report; the names of the sets that differ go
# to $tmp/sets. The rule of ours that matches a set names its owner.
compare_sets() {
  : > "$tmp/sets"
  [ -f "${CFW_IPSETS_PATH:-}" ] || return 0
  grep -q '^create ' "$CFW_IPSETS_PATH" || return 0
  if ! command -v ipset >/dev/null 2>&1; then
    echo "drift: ipset is not installed; the sets of $CFW_IPSETS_PATH cannot be checked" >> "$tmp/report"
    return 3
  fi
  ipset save > "$tmp/sets.live" 2>/dev/null || true
  rules=
  for f in $CFW_FAMILIES; do [ ! -f "$(rules_path "$f")" ] || rules="$rules $(rules_path "$f")"; done
  # shellcheck disable=SC2086
  awk -v path="$CFW_IPSETS_PATH" -v out="$tmp/sets" '
    FNR == 1 { file++ }
    file == 1 && $1 == "create" { ours[$2] = 1; names[++n] = $2; next }
    file == 1 && $1 == "add" { want[$2, $3] = 1; next }
    file == 1 { next }
    file == 2 && $1 == "create" { live[$2] = 1; next }
    file == 2 && $1 == "add" && ($2 in ours) {
      if (($2, $3) in want) delete want[$2, $3]
      else { extra[$2]++; if (extra[$2] <= 3) ex[$2] = ex[$2] " " $3 }
      next
    }
    file >= 3 && / --match-set / && match($0, /--comment "[^"]*"/) {
      c = substr($0, RSTART + 11, RLENGTH - 12)
      for (i = 1; i < NF; i++) if ($i == "--match-set" && !(($(i + 1)) in owner)) owner[$(i + 1)] = c
    }
    END {
      for (k in want) { split(k, p, SUBSEP); missing[p[1]]++; if (missing[p[1]] <= 3) mi[p[1]] = mi[p[1]] " " p[2] }
      for (i = 1; i <= n; i++) {
        s = names[i]; o = (s in owner) ? " (matched by the rule of " owner[s] ")" : ""
        if (!(s in live)) { printf "drift: ipset set %s%s is missing (persisted in %s)\n", s, o, path; print s > out; continue }
        if (missing[s] + extra[s] == 0) continue
        printf "drift: ipset set %s%s: %d persisted but missing live%s, %d live but not in %s%s\n", s, o, missing[s], (missing[s] ? " (" substr(mi[s], 2) (missing[s] > 3 ? " ..." : "") ")" : ""), extra[s], path, (extra[s] ? " (" substr(ex[s], 2) (extra[s] > 3 ? " ..." : "") ")" : "")
        print s > out
      }
    }' "$CFW_IPSETS_PATH" "$tmp/sets.live" $rules >> "$tmp/report"
  [ ! -s "$tmp/sets" ] || return 3
}

# Loads the persisted sets and rules again, as a deploy does: sets first (the
# rules match them by name), new contents swapped in; the live rules of the
# other tools we keep merged into ours; each family atomically.
repair() { # families
  while read -r name; do
    [ -n "$name" ] || continue
    if ! ipset list -n "$name" >/dev/null 2>&1; then
      awk -v n="$name" '($1 == "create" || $1 == "add") && $2 == n' "$CFW_IPSETS_PATH" | ipset restore -exist || return 1
    else
      awk -v n="$name" '($1 == "create" || $1 == "add") && $2 == n { $2 = n "_n"; print }' "$CFW_IPSETS_PATH" > "$tmp/set.n"
      ipset destroy "${name}_n" >/dev/null 2>&1 || true
      ipset restore < "$tmp/set.n" || return 1
      ipset swap "${name}_n" "$name" || return 1
      ipset destroy "${name}_n" || return 1
    fi
  done < "$tmp/sets"
  for f in $1; do
    file=$(rules_path "$f")
    [ -f "$file" ] || continue
    if [ -n "${CFW_KEEP_CHAINS:-}${CFW_KEEP_IFACES:-}" ]; then
      "$(save_cmd "$f")" > "$tmp/live.$f" || return 1
      awk -v chains="${CFW_KEEP_CHAINS:-}" -v ifaces="${CFW_KEEP_IFACES:-}" -f "$HERE/keep-foreign.awk" "$tmp/live.$f" "$file" > "$tmp/load.$f" || return 1
    else
      cp "$file" "$tmp/load.$f"
    fi
    "$(restore_cmd "$f")" -w 5 < "$tmp/load.$f" || return 1
  done
}

# Compares everything; true when something drifted (the families that did go to $drifted).
drift_found() {
  : > "$tmp/report"
  drifted=
  for f in $CFW_FAMILIES; do
    rc=0; compare_family "$f" || rc=$?
    if [ "$rc" = 3 ]; then drifted="$drifted $f"; elif [ "$rc" != 0 ]; then echo "drift: $(label "$f") the comparison failed (awk exit $rc)" >> "$tmp/report"; drifted="$drifted $f"; fi
  done
  sets=0; compare_sets || sets=$?
  [ -n "$drifted" ] || [ "$sets" != 0 ] || [ -s "$tmp/report" ]
}

main() { # check|report settings
  what=$1
  # shellcheck disable=SC1090
  . "$2"
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdktf-iptables-drift.XXXXXXXX" 2>/dev/null || mktemp -d /tmp/cdktf-iptables-drift.XXXXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  if [ "$what" = report ]; then
    # a deploy's stage (it holds the lock): the families deployed before (a
    # first deploy has nothing to compare)
    have=
    for f in $CFW_FAMILIES; do [ ! -f "$(rules_path "$f")" ] || have="$have $f"; done
    [ -n "$have" ] || return 0
    CFW_FAMILIES=$have
    if drift_found; then
      sed 's/^/cdktf-iptables: /' "$tmp/report" >&2
      echo "cdktf-iptables: drift: this load replaces the live rules above with the new ones (the kept rules of other tools stay)" >&2
    else
      echo "cdktf-iptables: no drift: the live rules equal the persisted ones" >&2
    fi
    return 0
  fi
  # the timer: never beside a deploy's stage, confirm or rollback
  install -d -m 700 "$RUN"
  exec 9>"$RUN/lock"
  flock -w 30 9 || { echo "<5>drift check skipped: a deploy holds $RUN/lock"; return 0; }
  # a load waiting for its confirm differs from the files on purpose
  [ ! -f "$RUN/armed" ] || return 0
  if ! drift_found; then
    if [ -f "$LAST" ]; then echo "<5>drift: none any more; the live rules equal the persisted ones again"; rm -f "$LAST"; fi
    return 0
  fi
  sum=$(cksum < "$tmp/report")
  now=$(date +%s)
  last=$(cat "$LAST" 2>/dev/null || true)
  if [ "${last% *}" != "$sum" ] || [ $(( now - ${last##* } )) -ge 3600 ] || [ "${CFW_DRIFT_REPAIR:-no}" = yes ]; then
    sed 's/^/<4>/' "$tmp/report"
    printf '%s %s\n' "$sum" "$now" > "$LAST"
  fi
  [ "${CFW_DRIFT_REPAIR:-no}" = yes ] || return 0
  if repair "$drifted" && ! drift_found; then
    echo "<5>drift repaired: the persisted rules are live again (the kept rules of other tools stay)"
    rm -f "$LAST"
  else
    echo "<3>drift repair failed; the live rules still differ:"
    sed 's/^/<3>/' "$tmp/report"
    return 1
  fi
}

case "${1:-}" in
  check|report) main "$1" "${2:?settings file}" ;;
  *) echo "usage: drift.sh check|report SETTINGS" >&2; exit 2 ;;
esac
