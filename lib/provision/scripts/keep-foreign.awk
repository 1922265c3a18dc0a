# cdktf-iptables: keeps the rules of other tools (Docker, fail2ban, ...) across a load.
#
#   awk -v chains="DOCKER* f2b-*" -v ifaces="docker0 br-*" -f keep-foreign.awk LIVE NEW > MERGED
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
BEGIN {
  nc = split(chains, cg, " "); for (i = 1; i <= nc; i++) cre[i] = globre(cg[i])
  ni = split(ifaces, ig, " "); for (i = 1; i <= ni; i++) ire[i] = globre(ig[i])
}
FNR == 1 { file++ }
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
