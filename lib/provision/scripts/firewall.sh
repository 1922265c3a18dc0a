#!/bin/sh
# cdktf-iptables: installs rendered iptables/ip6tables rule files on this host.
#
#   firewall.sh stage   STAGING  -- load the staged rules now, with a rollback armed
#   firewall.sh confirm STAGING  -- keep them: cancel the rollback, persist, enable units
#   firewall.sh rollback         -- restore the rules that were live before `stage`
#
# Settings come from the environment, set by the provisioner from validated values:
#   CFW_FAMILIES       "v4" or "v4 v6"
#   CFW_ROLLBACK_SECS  seconds before an unconfirmed load is rolled back
#   CFW_RULES_V4 / CFW_RULES_V6   persistent rule file paths of the distro
#   CFW_UNIT_V4 / CFW_UNIT_V6     unit names (iptables.service / ip6tables.service)
#   CFW_SHIP_UNITS     "yes" to install our own units when the distro has none
#   CFW_MASK           services to stop and mask on confirm (e.g. firewalld), may be empty
#   CFW_TAKE_OVER      "yes" to stop conflicting firewall services instead of failing
#   CFW_SYSCTL         sysctl settings (key=value, separated by spaces), may be empty
set -eu

STATE=/var/lib/cdktf-iptables
TIMER=cdktf-iptables-rollback
CONFLICTING="firewalld ufw nftables"

say() { printf 'cdktf-iptables: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

restore_cmd() { if [ "$1" = v4 ]; then echo iptables-restore; else echo ip6tables-restore; fi; }
save_cmd() { if [ "$1" = v4 ]; then echo iptables-save; else echo ip6tables-save; fi; }
file_of() { if [ "$1" = v4 ]; then echo iptables.rules; else echo ip6tables.rules; fi; }
rules_path() { if [ "$1" = v4 ]; then echo "$CFW_RULES_V4"; else echo "$CFW_RULES_V6"; fi; }
unit_of() { if [ "$1" = v4 ]; then echo "$CFW_UNIT_V4"; else echo "$CFW_UNIT_V6"; fi; }

have_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# The armed rollback is a transient service that sleeps, then restores: it runs
# outside the SSH session, so it survives the session's end. (A transient
# OnActiveSec timer was tried first: after a reboot of the container systemd
# sometimes never fired it, which the end-to-end test caught.)
rollback_pending() {
  if [ -f "$STATE/rollback.unit" ] && have_systemd; then
    systemctl is-active --quiet "$(cat "$STATE/rollback.unit").service" 2>/dev/null && return 0
  fi
  [ -f "$STATE/rollback.pid" ] && kill -0 "$(cat "$STATE/rollback.pid")" 2>/dev/null
}

cancel_rollback() {
  if [ -f "$STATE/rollback.unit" ] && have_systemd; then
    unit=$(cat "$STATE/rollback.unit")
    systemctl stop "$unit.service" >/dev/null 2>&1 || true
  fi
  rm -f "$STATE/rollback.unit"
  if [ -f "$STATE/rollback.pid" ]; then kill "$(cat "$STATE/rollback.pid")" 2>/dev/null || true; rm -f "$STATE/rollback.pid"; fi
}

check_staging() {
  if [ ! -d "$1" ] || [ -L "$1" ]; then die "staging folder $1 is missing"; fi
}

# Say which iptables backend loads the rules, and warn when the other backend
# holds rules too: they would still filter packets but be invisible to the
# tools this host uses (iptables-legacy vs iptables-nft).
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

stage() {
  check_staging "$1"
  for f in $CFW_FAMILIES; do
    command -v "$(restore_cmd "$f")" >/dev/null 2>&1 || die "$(restore_cmd "$f") is not installed on this host (install the iptables package)"
  done
  install -d -m 700 "$STATE"
  : > "$STATE/taken-over"
  for svc in $CONFLICTING; do
    if have_systemd && systemctl is-active --quiet "$svc" 2>/dev/null; then
      if [ "${CFW_TAKE_OVER:-no}" = yes ]; then
        say "stopping $svc (takeOver); it is disabled and masked once the new rules are confirmed"
        systemctl stop "$svc"
        echo "$svc" >> "$STATE/taken-over"
      else
        die "$svc is active on this host and would fight over the rules; stop it, or set takeOver: true to let cdktf-iptables stop and mask it. Nothing was changed."
      fi
    fi
  done
  backend_note
  # the host's own iptables validates the files before anything changes
  for f in $CFW_FAMILIES; do
    "$(restore_cmd "$f")" --test < "$1/$(file_of "$f")" || die "$(restore_cmd "$f") --test rejected $(file_of "$f"); nothing was changed"
  done
  install -d -m 700 "$STATE" "$STATE/rollback"
  install -m 700 "$0" "$STATE/firewall.sh"
  # keep the older snapshot while a previous load is still unconfirmed: it is the known-good one
  if rollback_pending; then
    cancel_rollback
    say "an earlier load was never confirmed; keeping the rules from before it as the rollback point"
  else
    for f in $CFW_FAMILIES; do "$(save_cmd "$f")" > "$STATE/rollback/$(file_of "$f")"; done
  fi
  rm -f "$STATE/rolled-back"
  if have_systemd && command -v systemd-run >/dev/null 2>&1; then
    unit="$TIMER-$(date +%s)-$$"
    systemd-run --quiet --collect --unit="$unit" --setenv=CFW_FAMILIES="$CFW_FAMILIES" \
      /bin/sh -c "sleep $CFW_ROLLBACK_SECS && exec /bin/sh $STATE/firewall.sh rollback"
    echo "$unit" > "$STATE/rollback.unit"
  else
    setsid sh -c "sleep $CFW_ROLLBACK_SECS; CFW_FAMILIES='$CFW_FAMILIES' sh '$STATE/firewall.sh' rollback" </dev/null >/dev/null 2>&1 &
    echo $! > "$STATE/rollback.pid"
  fi
  for f in $CFW_FAMILIES; do
    "$(restore_cmd "$f")" < "$1/$(file_of "$f")" || { rollback; die "loading $(file_of "$f") failed; the previous rules are back"; }
  done
  say "new rules loaded; they are rolled back in ${CFW_ROLLBACK_SECS}s unless confirmed over a new SSH connection"
}

rollback() {
  for f in $CFW_FAMILIES; do
    snap="$STATE/rollback/$(file_of "$f")"
    [ -f "$snap" ] && "$(restore_cmd "$f")" < "$snap"
  done
  date -u +%Y-%m-%dT%H:%M:%SZ > "$STATE/rolled-back"
  rm -f "$STATE/rollback.pid" "$STATE/rollback.unit"
  say "rules rolled back to the ones live before the last load"
}

confirm() {
  check_staging "$1"
  if [ -f "$STATE/rolled-back" ]; then
    die "the new rules were already rolled back at $(cat "$STATE/rolled-back") (not confirmed within ${CFW_ROLLBACK_SECS}s); apply again"
  fi
  rollback_pending || die "no rollback is armed: run stage first"
  cancel_rollback
  for f in $CFW_FAMILIES; do
    install -d -m 755 "$(dirname "$(rules_path "$f")")"
    install -m 600 "$1/$(file_of "$f")" "$(rules_path "$f")"
  done
  if [ -n "${CFW_SYSCTL:-}" ]; then
    {
      echo "# written by cdktf-iptables"
      for kv in $CFW_SYSCTL; do printf '%s\n' "$kv"; done
    } > /etc/sysctl.d/90-cdktf-iptables.conf
    sysctl -q -p /etc/sysctl.d/90-cdktf-iptables.conf
  fi
  if have_systemd; then
    for svc in $CFW_MASK $(cat "$STATE/taken-over" 2>/dev/null); do
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
      systemctl mask "$svc" >/dev/null
    done
    for f in $CFW_FAMILIES; do
      unit=$(unit_of "$f")
      if [ "${CFW_SHIP_UNITS:-no}" = yes ] || ! systemctl cat "$unit" >/dev/null 2>&1; then
        install -m 644 "$1/$unit" "/etc/systemd/system/$unit"
      fi
    done
    systemctl daemon-reload
    for f in $CFW_FAMILIES; do
      systemctl enable --quiet "$(unit_of "$f")"
      systemctl restart "$(unit_of "$f")"
    done
  else
    say "no systemd here: rules are persisted in the rule files but nothing restores them at boot"
  fi
  rm -rf "$1"
  say "rules confirmed, persisted and enabled"
}

case "${1:-}" in
  stage) stage "$2" ;;
  confirm) confirm "$2" ;;
  rollback) rollback ;;
  *) die "usage: firewall.sh stage|confirm STAGING | rollback" ;;
esac
