# cdktf-iptables: keeps the rules of other tools (Docker, fail2ban, ...) across a load,
# and tells them apart from ours when the live rules are compared with the files.
#
#   awk -v chains="DOCKER* f2b-*" -v ifaces="docker0 br-*" -f keep-foreign.awk LIVE NEW > MERGED
#   awk -v mode=drift -v chains=... -v ifaces=... [-v fam=IPv4 -v file=PATH -v max=N] -f keep-foreign.awk LIVE FILE
#   awk -v mode=foreign -v chains=... -v ifaces=... -f keep-foreign.awk LIVE
#
# LIVE is the host's iptables-save output, NEW our rule file. MERGED is NEW with,
# in every table NEW writes:
#   - the declarations and all rules of the live chains whose names match
#     `chains` (globs: * or + match any tail);
#   - the live rules of built-in chains that jump (-j/-g) to such a chain or
#     name a matching interface (-i/-o), in their live order, at the top of
#     their chain: where Docker and fail2ban insert them.
# Tables NEW does not write are not restored, so their rules stay as they are.
# Our own chains never match (checked at synth); a kept chain that NEW
# declares anyway is not declared twice.
#
# mode=drift compares LIVE with FILE (the persisted rules), table by table for
# the tables FILE writes, in canonical iptables-save text: comments and blank
# lines, counters and the kept (foreign) chains and rules above are left out
# of both. It prints one line per difference (at most `max`, default 40),
# "drift: ..." lines naming the table, chain and position and the whole rule
# (with the owner comment it carries), and exits 3 when there is drift.
# mode=foreign prints only the kept chains and rules of LIVE, per table.
function globre(g,   r) {
  r = g
  gsub(/\./, "\\.", r)
  gsub(/[*+]/, ".*", r)
  return "^" r "$"
}
function chain_kept(name,   i) {
  for (i = 1; i <= nc; i++) if (name ~ cre[i]) return 1
  return 0
}
function iface_kept(name,   i) {
  for (i = 1; i <= ni; i++) if (name ~ ire[i]) return 1
  return 0
}
function rule_kept(line,   n, f, i) {
  n = split(line, f, " ")
  if (chain_kept(f[2])) return 1
  for (i = 3; i < n; i++) {
    if ((f[i] == "-j" || f[i] == "-g") && chain_kept(f[i + 1])) return 1
    if ((f[i] == "-i" || f[i] == "-o") && iface_kept(f[i + 1])) return 1
  }
  return 0
}
# --- mode=drift: canonical lines, then the differences -----------------------
function canon(line,   f) {
  sub(/[ \t\r]+$/, "", line)
  sub(/^\[[0-9]+:[0-9]+\] /, "", line)
  if (line == "" || line ~ /^#/ || line == "COMMIT") return ""
  if (line ~ /^:/) {
    split(line, f, " ")
    if (chain_kept(substr(f[1], 2))) return ""
    return f[1] " " f[2]
  }
  if (line ~ /^-A / && rule_kept(line)) return ""
  return line
}
function drift_line(   c) {
  if ($0 ~ /^\*/) {
    table = substr($0, 2)
    if (file == 1) ltab[table] = 1
    else if (!(table in ftab)) { ftab[table] = 1; tabs[++ntabs] = table }
    return
  }
  c = canon($0)
  if (c == "") return
  if (file == 1) L[table, ++nl[table]] = c
  else F[table, ++nf[table]] = c
}
function chain_of(line,   f) {
  split(line, f, " ")
  return line ~ /^:/ ? substr(f[1], 2) : f[2]
}
function owner(line,   s) {
  if (match(line, /--comment "[^"]*"/)) return substr(line, RSTART + 11, RLENGTH - 12)
  if (match(line, /--comment [^ "]+/)) return substr(line, RSTART + 10, RLENGTH - 10)
  return ""
}
function say(text) {
  shown++
  if (shown <= max) body = body "drift: " fam " " text "\n"
}
function drift_end(   k, t, i, line, ch, same, o, nadd, nrem, nchg) {
  if (max == "") max = 40
  if (fam == "") fam = "IPv4"
  for (k = 1; k <= ntabs; k++) {
    t = tabs[k]
    same = nl[t] == nf[t]
    for (i = 1; same && i <= nf[t]; i++) if (L[t, i] != F[t, i]) same = 0
    if (same) continue
    drifted = 1
    if (!(t in ltab)) {
      say(t ": the whole table is missing from the live rules (" nf[t] " lines persisted)")
      nrem += nf[t]
      continue
    }
    split("", cnt); split("", pos); split("", adecl)
    for (i = 1; i <= nf[t]; i++) cnt[F[t, i]]++
    for (i = 1; i <= nl[t]; i++) cnt[L[t, i]]--
    moved = 1
    for (i = 1; i <= nl[t]; i++) {
      line = L[t, i]; ch = chain_of(line)
      if (line ~ /^-A /) pos[ch]++
      if (cnt[line] >= 0) continue
      cnt[line]++; moved = 0
      if (line ~ /^:/) { adecl[ch] = line; continue }
      nadd++
      o = owner(line)
      say(t " " ch " rule " pos[ch] " added (" (o == "" ? "no owner comment: not from the cdktf program" : "comment " o) "): " line)
    }
    split("", pos)
    for (i = 1; i <= nf[t]; i++) {
      line = F[t, i]; ch = chain_of(line)
      if (line ~ /^-A /) pos[ch]++
      if (cnt[line] <= 0) continue
      cnt[line]--; moved = 0
      if (line ~ /^:/) {
        if (ch in adecl) {
          nchg++
          say(t " chain " ch ": policy " substr(adecl[ch], length(ch) + 3) " live, " substr(line, length(ch) + 3) " persisted")
          delete adecl[ch]
        } else {
          nrem++
          say(t " chain " ch " removed (declared in the persisted rules): " line)
        }
        continue
      }
      nrem++
      o = owner(line)
      say(t " " ch " rule " pos[ch] " removed (" (o == "" ? "no owner comment" : "owner " o) "): " line)
    }
    for (ch in adecl) { nadd++; say(t " chain " ch " added (not in the persisted rules): " adecl[ch]) }
    if (moved) {
      for (i = 1; i <= nf[t] && L[t, i] == F[t, i]; i++) ;
      say(t ": the same rules in another order; first difference at line " i ": live " L[t, i] ", persisted " F[t, i])
    }
  }
  if (!drifted) exit 0
  printf "drift: %s rules differ from %s: %d added, %d removed, %d changed (live iptables-save; counters%s aside)\n", fam, rulesfile, nadd, nrem, nchg, (nc + ni > 0 ? " and the kept rules of other tools" : "")
  printf "%s", body
  if (shown > max) printf "drift: %s ... and %d more differences (compare iptables-save with %s)\n", fam, shown - max, rulesfile
  exit 3
}

# --- mode=foreign: only the kept chains and rules ----------------------------
function foreign_line() {
  if ($0 ~ /^\*/ || $0 == "COMMIT") print
  else if ($0 ~ /^:/) { if (chain_kept(substr($1, 2))) print }
  else if ($0 ~ /^-A / && rule_kept($0)) print
}
BEGIN {
  nc = split(chains, cg, " "); for (i = 1; i <= nc; i++) cre[i] = globre(cg[i])
  ni = split(ifaces, ig, " "); for (i = 1; i <= ni; i++) ire[i] = globre(ig[i])
}
FNR == 1 { file++ }
mode == "drift" { drift_line(); next }
mode == "foreign" { foreign_line(); next }
file == 1 {
  if ($0 ~ /^\*/) { table = substr($0, 2); next }
  if ($0 ~ /^:/) {
    name = substr($1, 2)
    if (chain_kept(name)) { decl[table] = decl[table] ":" name " - [0:0]\n"; kept[table, name] = 1 }
    next
  }
  if ($0 ~ /^-A /) { if (rule_kept($0)) rules[table] = rules[table] $0 "\n" }
  next
}
{
  if ($0 ~ /^\*/) { table = substr($0, 2); pending = 1; print; next }
  if ($0 ~ /^:/ && kept[table, substr($1, 2)]) next
  if (pending && ($0 ~ /^-A / || $0 == "COMMIT")) {
    printf "%s%s", decl[table], rules[table]
    pending = 0
  }
  print
}
END { if (mode == "drift") drift_end() }
