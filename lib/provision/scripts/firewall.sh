#!/bin/sh
# cdktf-iptables: installs rendered iptables/ip6tables rule files on this host,
# with a rollback that restores the exact state from before the load.
#
#   firewall.sh stage STAGING DEPLOY [CLIENT]  load the staged rules now, rollback armed
#   firewall.sh confirm DEPLOY                 keep them: disarm, persist, enable units
#   firewall.sh rollback DEPLOY NONCE          (the armed timer) restore the state from before
#
# STAGING holds the files of one deploy (verified against their sha256 by the
# deploy bundle before this runs) and `settings`, which sets (all values ours,
# validated at synth):
#   CFW_FAMILIES       "v4" or "v4 v6"
#   CFW_ROLLBACK_SECS  seconds before an unconfirmed load is rolled back
#   CFW_RULES_V4 / CFW_RULES_V6   persistent rule file paths of the distro
#   CFW_UNIT_V4 / CFW_UNIT_V6     unit names (iptables.service / ip6tables.service)
#   CFW_SHIP_UNITS     "yes" to install our own units even where the distro has some
#   CFW_MASK           services to stop and mask on confirm (e.g. firewalld), may be empty
#   CFW_TAKE_OVER      "yes" to stop conflicting firewall services instead of failing
#   CFW_SYSCTL         sysctl settings (key=value, separated by spaces), may be empty
#   CFW_PASS_LIST_V4 / CFW_PASS_LIST_V6  xt_recent lists (per family) that let the deploying client past the
#                      brute-force guards while it deploys; empty without guards
#   CFW_GUARD_LISTS    "v4list:v6list:v4prefix:v6prefix ..." recent lists of brute-force
#                      guards; the authenticated deploying client is forgiven there
#   CFW_IPSETS         names of the ipset sets in `ipsets.rules` (may be empty);
#                      their contents are swapped in live, and back by a rollback
#   CFW_IPSETS_PATH    where the sets are persisted (restored at boot before the rules)
#   CFW_KEEP_CHAINS / CFW_KEEP_IFACES   chains (globs) and interfaces of other
#                      tools (Docker, fail2ban) whose live rules are merged into
#                      the loaded rules by keep-foreign.awk; may be empty. The
#                      stage prints what they admit (kept-rules.awk).
#   CFW_DRIFT          "yes" to install the drift check on confirm (drift.sh,
#                      drift.conf and the cdktf-iptables-drift units), "no" to
#                      remove one; the stage prints the drift it replaces either way
#   CFW_DRIFT_DIR      where the drift check's files live
#
# DEPLOY is the deploy's id (a hash of its files). State:
#   /run/cdktf-iptables      what is armed right now (volatile: a reboot disarms,
#                            and the host boots on its persisted, previous rules)
#   /var/lib/cdktf-iptables  this script, for the rollback timer and the confirm
set -eu

STATE=/var/lib/cdktf-iptables
RUN=/run/cdktf-iptables
CONFLICTING="firewalld ufw nftables"

say() { printf 'cdktf-iptables: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

restore_cmd() { if [ "$1" = v4 ]; then echo iptables-restore; else echo ip6tables-restore; fi; }
save_cmd() { if [ "$1" = v4 ]; then echo iptables-save; else echo ip6tables-save; fi; }
file_of() { if [ "$1" = v4 ]; then echo iptables.rules; else echo ip6tables.rules; fi; }
rules_path() { if [ "$1" = v4 ]; then echo "$CFW_RULES_V4"; else echo "$CFW_RULES_V6"; fi; }
unit_of() { if [ "$1" = v4 ]; then echo "$CFW_UNIT_V4"; else echo "$CFW_UNIT_V6"; fi; }

have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# A firewall service that would fight over the rules: active now, or enabled
# to load its own rules at the next boot. ufw's unit runs on stock Ubuntu even
# while ufw itself is off (ENABLED=no in /etc/ufw/ufw.conf): only an enabled ufw counts.
conflicting() { # service
  have_systemd || return 1
  systemctl is-active --quiet "$1" 2>/dev/null || systemctl is-enabled --quiet "$1" 2>/dev/null || return 1
  if [ "$1" = ufw ]; then grep -qs '^ENABLED=yes' /etc/ufw/ufw.conf || return 1; fi
  return 0
}

# Every step that reads or changes the armed state holds this lock, so a
# confirm and a rollback that fire together cannot both win.
lock() {
  install -d -m 700 "$RUN"
  exec 9>"$RUN/lock"
  flock -w 60 9 || die "another cdktf-iptables step holds $RUN/lock for over 60s; nothing was changed"
}

# The built-in chains of a table, for an empty table with ACCEPT policies.
builtin_chains() {
  case "$1" in
    raw) echo PREROUTING OUTPUT ;;
    mangle) echo PREROUTING INPUT FORWARD OUTPUT POSTROUTING ;;
    nat) echo PREROUTING INPUT OUTPUT POSTROUTING ;;
    filter|security) echo INPUT FORWARD OUTPUT ;;
    *) return 1 ;;
  esac
}

tables_of() { sed -n 's/^\*\([a-z]*\)$/\1/p' "$1"; }

empty_table() { # table
  chains=$(builtin_chains "$1") || die "unknown table $1 in the new rules"
  echo "*$1"
  for c in $chains; do echo ":$c ACCEPT [0:0]"; done
  echo COMMIT
}

# The live rules of a family, completed so that restoring them undoes the new
# file whatever was there: every table the new file writes appears, as an
# empty table with ACCEPT policies when it did not exist (iptables-save prints
# nothing at all for a fresh nf_tables host). Verified before anything loads.
snapshot() { # family new-file out
  "$(save_cmd "$1")" > "$3.tmp" || die "$(save_cmd "$1") failed; nothing was changed"
  for t in $(tables_of "$2"); do
    grep -qx "\\*$t" "$3.tmp" || empty_table "$t" >> "$3.tmp"
  done
  verify_snapshot "$1" "$2" "$3.tmp"
  mv "$3.tmp" "$3"
}

verify_snapshot() { # family new-file snapshot
  for t in $(tables_of "$2"); do
    grep -qx "\\*$t" "$3" || die "the snapshot of the live $1 rules lacks table $t; nothing was changed"
  done
  "$(restore_cmd "$1")" --test < "$3" \
    || die "the live $1 rules cannot be restored by $(restore_cmd "$1") (rules of another tool this iptables cannot express?), so no rollback would be possible; nothing was changed"
}

# Say which iptables backend loads the rules, and warn when the other backend
# holds rules too (iptables-legacy vs iptables-nft).
backend_note() {
  version=$(iptables -V 2>/dev/null || true)
  say "loading with $version"
  case "$version" in
    *nf_tables*) other=iptables-legacy-save ;;
    *) other=iptables-nft-save ;;
  esac
  if command -v "$other" >/dev/null 2>&1 && "$other" 2>/dev/null | grep -q '^-A '; then
    say "warning: $other shows rules too; they stay active beside ours (flush them, or pick one backend with update-alternatives)"
  fi
}

# xt_recent lists: add, forgive or remove the deploying client (an address the
# bundle read from SSH_CLIENT, checked to be one). Failures are harmless: the
# list may not exist in this ruleset.
recent_write() { # list-file line
  [ -w "/proc/net/xt_recent/$1" ] || return 0
  printf '%s\n' "$2" > "/proc/net/xt_recent/$1" 2>/dev/null || true
}

client_family() { case "$1" in *:*) echo v6 ;; *) echo v4 ;; esac; }

# The address an xt_recent entry of prefix length $2 is stored under.
masked() { # address prefix
  case "$1" in
    *:*) awk -v a="$1" -v p="$2" 'BEGIN {
           n = split(a, h, "::"); split(h[1], l, ":"); c = 0
           if (h[1] != "") for (i = 1; i <= length(l); i++) g[c++] = l[i]
           m = 0; if (n > 1 && h[2] != "") m = split(h[2], r, ":")
           while (c < 8 - m) g[c++] = "0"
           for (i = 1; i <= m; i++) g[c++] = r[i]
           out = ""
           for (i = 0; i < 8; i++) {
             v = 0; s = tolower(g[i])
             for (j = 1; j <= length(s); j++) v = v * 16 + index("0123456789abcdef", substr(s, j, 1)) - 1
             k = p - 16 * i; if (k < 0) k = 0; if (k > 16) k = 16
             d = 2 ^ (16 - k); v = v - v % d
             out = out (i ? ":" : "") sprintf("%x", v)
           }
           print out }' ;;
    *) awk -v a="$1" -v p="$2" 'BEGIN {
           split(a, o, "."); out = ""
           for (i = 0; i < 4; i++) {
             k = p - 8 * i; if (k < 0) k = 0; if (k > 8) k = 8
             d = 2 ^ (8 - k); v = o[i + 1] - o[i + 1] % d
             out = out (i ? "." : "") v
           }
           print out }' ;;
  esac
}

pass_list() { # family
  if [ "$1" = v4 ]; then echo "${CFW_PASS_LIST_V4:-}"; else echo "${CFW_PASS_LIST_V6:-}"; fi
}

client_pass() { # + or -
  client=$(cat "$RUN/client" 2>/dev/null || true)
  [ -n "$client" ] || return 0
  list=$(pass_list "$(client_family "$client")")
  [ -n "$list" ] || return 0
  recent_write "$list" "$1$client"
}

client_forgive() {
  client=$(cat "$RUN/client" 2>/dev/null || true)
  [ -n "$client" ] || return 0
  fam=$(client_family "$client")
  for entry in ${CFW_GUARD_LISTS:-}; do
    # v4list:v6list:v4prefix:v6prefix
    l4=${entry%%:*}; rest=${entry#*:}; l6=${rest%%:*}; rest=${rest#*:}; p4=${rest%%:*}; p6=${rest#*:}
    if [ "$fam" = v4 ]; then recent_write "$l4" "-$(masked "$client" "$p4")"
    else recent_write "$l6" "-$(masked "$client" "$p6")"; fi
  done
}

# The file a family loads: ours, or ours merged with the live rules of the
# other tools we keep (their chains and the jumps into them).
load_file() { # family staging
  if [ -n "${CFW_KEEP_CHAINS:-}${CFW_KEEP_IFACES:-}" ]; then
    "$(save_cmd "$1")" > "$2/live.$1" || die "$(save_cmd "$1") failed; nothing was changed"
    awk -v chains="${CFW_KEEP_CHAINS:-}" -v ifaces="${CFW_KEEP_IFACES:-}" -f "$2/keep-foreign.awk" \
      "$2/live.$1" "$2/$(file_of "$1")" > "$2/load.$1" || die "merging the kept rules of other tools failed; nothing was changed"
  else
    cp "$2/$(file_of "$1")" "$2/load.$1"
  fi
}

# What the kept rules of other tools admit, refuse or forward, read from the
# live rules that load_file saved.
kept_summary() { # family staging
  [ -n "$(keeping)" ] || return 0
  kfam=; [ "$1" = v4 ] || kfam=IPv6
  if ! awk -v mode=foreign -v chains="${CFW_KEEP_CHAINS:-}" -v ifaces="${CFW_KEEP_IFACES:-}" -f "$2/keep-foreign.awk" "$2/live.$1" > "$2/foreign.$1" \
    || ! awk -v fam="$kfam" -f "$2/kept-rules.awk" "$2/foreign.$1" > "$2/kept.$1"; then
    say "warning: summarising the kept rules of other tools failed"
    return 0
  fi
  if [ -s "$2/kept.$1" ]; then sed 's/^/cdktf-iptables: /' "$2/kept.$1" >&2; kept_any=yes; fi
}

keeping() {
  if [ -n "${CFW_KEEP_CHAINS:-}${CFW_KEEP_IFACES:-}" ]; then printf ' (merged with the kept rules of other tools)'; fi
}

stop_timer() {
  if [ -f "$RUN/timer.unit" ] && have_systemd; then
    systemctl stop "$(cat "$RUN/timer.unit").service" >/dev/null 2>&1 || true
  fi
  rm -f "$RUN/timer.unit"
}

# ipset sets. The rules match sets by name, so a set must exist before the
# rules are tested or loaded: a missing one is created empty (and destroyed
# again by a rollback). New contents are loaded under NAME_n and swapped in
# with `ipset swap`: atomic, and the rules are never without their set.
sets_prepare() { # staging
  [ -n "${CFW_IPSETS:-}" ] || return 0
  command -v ipset >/dev/null 2>&1 || die "ipset is not installed on this host (install the ipset package); nothing was changed"
  for name in $CFW_IPSETS; do
    if ! ipset list -n "$name" >/dev/null 2>&1; then
      grep "^create $name " "$1/ipsets.rules" | ipset restore || die "creating set $name failed; nothing was changed"
      echo "$name" >> "$RUN/new-sets"
      echo "$name" >> "$RUN/created-now"
    elif ! grep -qx "$name" "$RUN/new-sets" 2>/dev/null && ! grep -q "^create $name " "$RUN/sets.snapshot" 2>/dev/null; then
      ipset save "$name" >> "$RUN/sets.snapshot" || die "ipset save $name failed; nothing was changed"
    fi
  done
}

sets_load() { # restore-file
  [ -s "$1" ] || return 0
  awk '$1 == "create" || $1 == "add" { $2 = $2 "_n" } { print }' "$1" > "$1.n"
  names=$(awk '$1 == "create" { print $2 }' "$1")
  for name in $names; do ipset destroy "${name}_n" >/dev/null 2>&1 || true; done
  ipset restore < "$1.n" || return 1
  for name in $names; do
    ipset swap "${name}_n" "$name" || return 1
    ipset destroy "${name}_n" || return 1
  done
}

sets_forget_new() { # list-file
  while read -r name; do
    [ -n "$name" ] || continue
    ipset destroy "$name" >/dev/null 2>&1 || say "set $name is still in use; left in place"
  done < "$1"
}

# A stage that stops before arming destroys the sets it created.
sets_abort() {
  if [ ! -f "$RUN/armed.by-this-stage" ] && [ -s "$RUN/created-now" ]; then sets_forget_new "$RUN/created-now"; fi
  rm -f "$RUN/created-now" "$RUN/armed.by-this-stage"
}

# Restores the snapshot (under the lock) and restarts what a takeOver stopped.
restore_previous() {
  [ ! -s "$RUN/sets.snapshot" ] || sets_load "$RUN/sets.snapshot" || say "restoring the previous ipset contents failed"
  for f in v4 v6; do
    snap="$RUN/snapshot.$f"
    [ -f "$snap" ] || continue
    "$(restore_cmd "$f")" < "$snap" || say "restoring the previous $f rules failed"
  done
  [ ! -s "$RUN/new-sets" ] || sets_forget_new "$RUN/new-sets"
  if have_systemd; then
    while read -r svc; do
      [ -n "$svc" ] || continue
      say "starting $svc again (it was stopped for the unconfirmed load)"
      systemctl start "$svc" || say "could not start $svc again"
    done < "$RUN/stopped"
  fi
}

clear_armed() {
  rm -f "$RUN/armed" "$RUN/due" "$RUN/snapshot.v4" "$RUN/snapshot.v6" "$RUN/taken-over" "$RUN/stopped" "$RUN/client" "$RUN/settings" "$RUN/sets.snapshot" "$RUN/new-sets"
}

stage() { # staging deploy [client]
  staging=$1 deploy=$2 client=${3:-}
  if [ ! -d "$staging" ] || [ -L "$staging" ]; then die "staging folder $staging is missing"; fi
  # shellcheck disable=SC1091
  . "$staging/settings"
  for f in $CFW_FAMILIES; do
    command -v "$(restore_cmd "$f")" >/dev/null 2>&1 || die "$(restore_cmd "$f") is not installed on this host (install the iptables package); nothing was changed"
  done
  command -v flock >/dev/null 2>&1 || die "flock is not installed on this host (util-linux); nothing was changed"
  case "$client" in *[!0-9A-Fa-f.:]*) client= ;; esac
  lock
  install -d -m 700 "$STATE"
  # stage folders of deploys that can no longer be confirmed (a reboot disarmed them)
  armed=$(cat "$RUN/armed" 2>/dev/null || true)
  for old in "$STATE"/stage.*; do
    [ -d "$old" ] && [ "$old" != "$staging" ] && [ "$old" != "${armed##* }" ] && rm -rf "$old"
  done
  backend_note
  # what changed on the host since the last deploy (this load replaces it);
  # a load still waiting for its confirm differs from the files on purpose
  if [ -z "$armed" ]; then
    TMPDIR=$staging /bin/sh "$staging/drift.sh" report "$staging/settings" || say "warning: the drift check failed; loading anyway"
  fi
  # sets the rules name must exist before the rules are tested (a new one is created empty)
  [ -n "$armed" ] || rm -f "$RUN/sets.snapshot" "$RUN/new-sets"
  rm -f "$RUN/created-now" "$RUN/armed.by-this-stage"
  trap sets_abort EXIT
  sets_prepare "$staging"
  # 1. checks that change nothing: the host's own iptables validates the files
  #    (merged with the live rules of other tools we keep), conflicting
  #    firewall services are refused unless takeOver
  kept_any=no
  for f in $CFW_FAMILIES; do
    load_file "$f" "$staging"
    "$(restore_cmd "$f")" --test < "$staging/load.$f" || die "$(restore_cmd "$f") --test rejected $(file_of "$f")$(keeping); nothing was changed"
    kept_summary "$f" "$staging"
  done
  if [ "$kept_any" = yes ]; then
    say "(kept rules summarised from the live iptables-save text as they are: their ACCEPT, DNAT, REJECT, DROP and RETURN rules with the jumps into them; unknown matches shown as written; not checked against the firewall's intent)"
  elif [ -n "$(keeping)" ]; then
    say "keeping the rules of other tools (${CFW_KEEP_CHAINS:-}${CFW_KEEP_IFACES:+ ${CFW_KEEP_IFACES}}): none are live now"
  fi
  conflicts=
  for svc in $CONFLICTING; do
    if conflicting "$svc"; then conflicts="$conflicts $svc"; fi
  done
  if [ -n "$conflicts" ] && [ "${CFW_TAKE_OVER:-no}" != yes ]; then
    die "${conflicts# } is active or enabled on this host and would fight over the rules; stop and disable it, or set takeOver: true to let cdktf-iptables stop and mask it. Nothing was changed."
  fi
  # 2. the rollback point, verified before anything changes
  for f in $CFW_FAMILIES; do
    if [ -n "$armed" ] && [ -f "$RUN/snapshot.$f" ]; then
      # an earlier load was never confirmed: the rules from before it are the
      # known-good state; tables it did not write did not exist before it either
      cp "$RUN/snapshot.$f" "$RUN/next.$f"
      for t in $(tables_of "$staging/$(file_of "$f")"); do
        grep -qx "\\*$t" "$RUN/next.$f" || empty_table "$t" >> "$RUN/next.$f"
      done
      verify_snapshot "$f" "$staging/$(file_of "$f")" "$RUN/next.$f"
    else
      snapshot "$f" "$staging/$(file_of "$f")" "$RUN/next.$f"
    fi
  done
  # 3. arm: from here on, a timer restores the rollback point unless confirmed
  if [ -n "$armed" ]; then
    say "an earlier load was never confirmed; its rollback point (the rules from before it) is kept"
    stop_timer
  else
    : > "$RUN/taken-over"
    : > "$RUN/stopped"
  fi
  for f in $CFW_FAMILIES; do mv "$RUN/next.$f" "$RUN/snapshot.$f"; done
  install -m 700 "$0" "$STATE/firewall.sh.tmp" && mv "$STATE/firewall.sh.tmp" "$STATE/firewall.sh"
  cp "$staging/settings" "$RUN/settings"
  printf '%s\n' "$client" > "$RUN/client"
  nonce="$(date +%s)-$$"
  printf '%s %s %s\n' "$deploy" "$nonce" "$staging" > "$RUN/armed"
  : > "$RUN/armed.by-this-stage"
  rm -f "$RUN/rolled-back"
  # the timer runs outside this SSH session, so it survives the session's end
  if have_systemd && command -v systemd-run >/dev/null 2>&1; then
    unit="cdktf-iptables-rollback-$nonce"
    systemd-run --quiet --collect --unit="$unit" \
      /bin/sh -c "sleep $CFW_ROLLBACK_SECS && exec /bin/sh $STATE/firewall.sh rollback $deploy $nonce"
    echo "$unit" > "$RUN/timer.unit"
  else
    # no kill is ever needed: a timer whose nonce is no longer armed does nothing
    setsid /bin/sh -c "sleep $CFW_ROLLBACK_SECS; exec /bin/sh $STATE/firewall.sh rollback $deploy $nonce" </dev/null >/dev/null 2>&1 &
  fi
  for svc in $conflicts; do
    echo "$svc" >> "$RUN/taken-over"
    systemctl is-active --quiet "$svc" 2>/dev/null || continue
    say "stopping $svc (takeOver); it is disabled and masked once the new rules are confirmed, started again by a rollback"
    echo "$svc" >> "$RUN/stopped"
    systemctl stop "$svc"
  done
  # 4. load: the sets' new contents (swapped in), then the rules, atomically per family
  # (other tools' rules merged again: they may have changed meanwhile)
  if [ -n "${CFW_IPSETS:-}" ] && ! sets_load "$staging/ipsets.rules"; then
    stop_timer; restore_previous; clear_armed
    die "loading the ipset sets failed; the previous rules and sets are back"
  fi
  for f in $CFW_FAMILIES; do
    load_file "$f" "$staging"
    if ! "$(restore_cmd "$f")" < "$staging/load.$f"; then
      stop_timer; restore_previous; clear_armed
      die "loading $(file_of "$f") failed; the previous rules are back"
    fi
  done
  # the deploying client proved its key: its own connections never trip a guard
  client_forgive
  client_pass +
  printf '%s %s\n' "$nonce" "$(( $(date +%s) + CFW_ROLLBACK_SECS ))" > "$RUN/due"
  say "new rules loaded; they are rolled back in ${CFW_ROLLBACK_SECS}s unless confirmed over a new SSH connection"
}

rollback() { # deploy nonce
  # the window counts from the end of the load, so a long set load does not eat
  # into it: wait out the rest (the load wrote when it is due, for its nonce)
  due=$(cat "$RUN/due" 2>/dev/null || true)
  case "${due% *} ${due##* }" in
    "$2 "[0-9]*)
      rest=$(( ${due##* } - $(date +%s) ))
      if [ "$rest" -gt 0 ] && [ "$rest" -le 3600 ]; then sleep "$rest"; fi ;;
  esac
  lock
  armed=$(cat "$RUN/armed" 2>/dev/null || true)
  # confirmed, superseded or already rolled back: nothing to do
  [ "${armed% *}" = "$1 $2" ] || exit 0
  # shellcheck disable=SC1091
  . "$RUN/settings"
  client_pass -
  restore_previous
  staging=${armed##* }
  case "$staging" in "$STATE"/stage.*) rm -rf "$staging" ;; esac
  clear_armed
  rm -f "$RUN/timer.unit"
  printf '%s %s\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$RUN/rolled-back"
  say "rules rolled back to the ones live before the last load"
}

# Copies a file into place atomically, only when its content differs.
put() { # source target mode
  if [ -f "$2" ] && cmp -s "$1" "$2"; then return 1; fi
  install -d -m 755 "$(dirname "$2")"
  install -m "$3" "$1" "$2.cdktf-iptables.tmp"
  mv "$2.cdktf-iptables.tmp" "$2"
}

# The drift check: script, settings and timer installed (or removed, when the
# host has the check off). A changed timer restarts, so a new interval holds at once.
drift_units() { # staging
  dir=${CFW_DRIFT_DIR:-/usr/local/lib/cdktf-iptables}
  rm -f /run/cdktf-iptables-drift.last
  if [ "${CFW_DRIFT:-no}" = yes ]; then
    put "$1/drift.sh" "$dir/drift.sh" 700 || true
    put "$1/keep-foreign.awk" "$dir/keep-foreign.awk" 600 || true
    put "$1/drift.conf" "$dir/drift.conf" 600 || true
    changed=no
    for u in cdktf-iptables-drift.service cdktf-iptables-drift.timer; do
      if put "$1/$u" "/etc/systemd/system/$u" 644; then changed=yes; fi
    done
    [ "$changed" = no ] || systemctl daemon-reload
    systemctl is-enabled --quiet cdktf-iptables-drift.timer 2>/dev/null || systemctl enable --quiet cdktf-iptables-drift.timer || die "$kept enabling cdktf-iptables-drift.timer failed"
    if [ "$changed" = yes ] || ! systemctl is-active --quiet cdktf-iptables-drift.timer; then
      systemctl restart cdktf-iptables-drift.timer || die "$kept starting cdktf-iptables-drift.timer failed"
    fi
  elif [ -f /etc/systemd/system/cdktf-iptables-drift.timer ]; then
    systemctl disable --now --quiet cdktf-iptables-drift.timer 2>/dev/null || true
    rm -f /etc/systemd/system/cdktf-iptables-drift.timer /etc/systemd/system/cdktf-iptables-drift.service
    rm -rf "$dir"
    systemctl daemon-reload
  fi
}

confirm() { # deploy
  lock
  armed=$(cat "$RUN/armed" 2>/dev/null || true)
  if [ "${armed%% *}" != "$1" ]; then
    if [ "$(cut -d' ' -f1 "$RUN/rolled-back" 2>/dev/null)" = "$1" ]; then
      die "the new rules were already rolled back at $(cut -d' ' -f2 "$RUN/rolled-back") (not confirmed in time); apply again"
    fi
    die "no load of this deploy is armed (rolled back, superseded by another deploy, or the host rebooted); apply again"
  fi
  # shellcheck disable=SC1091
  . "$RUN/settings"
  staging=${armed##* }
  # disarm: from here on the new rules stay, whatever fails below
  stop_timer
  rm -f "$RUN/armed"
  printf '%s\n' "$1" > "$STATE/confirmed"
  client_forgive
  client_pass -
  kept="the new rules are confirmed and live, but"
  for f in $CFW_FAMILIES; do
    put "$staging/$(file_of "$f")" "$(rules_path "$f")" 600 || true
  done
  if [ -n "${CFW_IPSETS:-}" ]; then put "$staging/ipsets.rules" "$CFW_IPSETS_PATH" 600 || true; fi
  if [ -n "${CFW_SYSCTL:-}" ]; then
    printf '# written by cdktf-iptables\n' > "$staging/sysctl.conf"
    for kv in $CFW_SYSCTL; do printf '%s\n' "$kv" >> "$staging/sysctl.conf"; done
    put "$staging/sysctl.conf" /etc/sysctl.d/90-cdktf-iptables.conf 644 || true
    sysctl -q -p /etc/sysctl.d/90-cdktf-iptables.conf || die "$kept applying /etc/sysctl.d/90-cdktf-iptables.conf failed (is /proc/sys writable here?); apply again once fixed"
  fi
  if have_systemd; then
    reload=no
    for svc in $CFW_MASK $(cat "$RUN/taken-over" 2>/dev/null); do
      if [ "$(systemctl is-enabled "$svc" 2>/dev/null || true)" != masked ]; then
        systemctl disable --now "$svc" >/dev/null 2>&1 || true
        systemctl mask "$svc" >/dev/null || die "$kept masking $svc failed"
      fi
    done
    for f in $CFW_FAMILIES; do
      unit=$(unit_of "$f")
      if [ "${CFW_SHIP_UNITS:-no}" = yes ] || ! systemctl cat "$unit" >/dev/null 2>&1; then
        if put "$staging/$unit" "/etc/systemd/system/$unit" 644; then reload=yes; fi
      fi
    done
    if [ -n "${CFW_IPSETS:-}" ]; then
      if put "$staging/cdktf-ipsets.service" /etc/systemd/system/cdktf-ipsets.service 644; then reload=yes; fi
    fi
    [ "$reload" = no ] || systemctl daemon-reload
    if [ -n "${CFW_IPSETS:-}" ]; then
      # the sets are live already: enabling is enough (a start would only add entries)
      systemctl is-enabled --quiet cdktf-ipsets.service 2>/dev/null || systemctl enable --quiet cdktf-ipsets.service || die "$kept enabling cdktf-ipsets.service failed"
    elif [ -f /etc/systemd/system/cdktf-ipsets.service ]; then
      # the firewall has no sets any more: nothing restores the old ones at boot
      systemctl disable --quiet cdktf-ipsets.service 2>/dev/null || true
      rm -f /etc/systemd/system/cdktf-ipsets.service "$CFW_IPSETS_PATH"
      systemctl daemon-reload
    fi
    for f in $CFW_FAMILIES; do
      unit=$(unit_of "$f")
      systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl enable --quiet "$unit" || die "$kept enabling $unit failed"
      # the new rules are live already: start only a unit that is not active
      # (a first deploy). Its start loads the persisted file, ours alone: when
      # other tools' rules are kept, the merged rules are loaded again at once.
      if ! systemctl is-active --quiet "$unit" 2>/dev/null; then
        [ -z "$(keeping)" ] || load_file "$f" "$staging"
        systemctl start "$unit" || die "$kept starting $unit failed"
        [ -z "$(keeping)" ] || "$(restore_cmd "$f")" < "$staging/load.$f"
      fi
    done
    drift_units "$staging"
  else
    say "no systemd here: rules are persisted in the rule files but nothing restores them at boot (and nothing checks them for drift)"
  fi
  clear_armed
  case "$staging" in "$STATE"/stage.*) rm -rf "$staging" ;; esac
  say "rules confirmed, persisted and enabled"
}

case "${1:-}" in
  stage) stage "${2:?staging folder}" "${3:?deploy id}" "${4:-}" ;;
  confirm) confirm "${2:?deploy id}" ;;
  rollback) rollback "${2:?deploy id}" "${3:?nonce}" ;;
  *) die "usage: firewall.sh stage STAGING DEPLOY [CLIENT] | confirm DEPLOY | rollback DEPLOY NONCE" ;;
esac
