# cdktf-iptables: says what the kept rules of other tools admit, refuse or forward.
#
#   awk -v mode=foreign -v chains=... -v ifaces=... -f keep-foreign.awk LIVE | awk [-v fam=IPv6] -f kept-rules.awk
#
# Reads the kept chains and rules of one family (keep-foreign.awk's foreign
# mode: every table, declarations and rules as iptables-save prints them) and
# prints one line per decision they make, in reachability terms: the verb
# (admit, forward, refuse, drop, masquerade, return), protocol and port,
# source, destination, interfaces and address translation, composed with the
# conditions of the jumps that lead into the chain. A DNAT is paired with the
# kept filter rule that accepts its translated destination (Docker's
# published ports). It reads text only: matches it does not know are shown as
# written ("also ..."), and a rule reached by more than one path is shown once
# per path (at most 4 jumps deep).

function host(a) { sub(/\/32$/, "", a); sub(/\/128$/, "", a); return a }
function tokens(line,   n, raw, i, t, out) {
  n = split(line, raw, " ")
  out = 0
  for (i = 1; i <= n; i++) {
    t = raw[i]
    if (t ~ /^"/ && t !~ /^".*"$/) {
      while (i < n && t !~ /"$/) t = t " " raw[++i]
    }
    T[++out] = t
  }
  return out
}
function parse(line, r,   n, i, tok, neg, pre, m) {
  n = tokens(line)
  tab[r] = table; ch[r] = T[2]
  neg = 0
  for (i = 3; i <= n; i++) {
    tok = T[i]
    if (tok == "!") { neg = 1; continue }
    pre = neg ? "not " : ""
    if (tok == "-p") P[r] = pre T[++i]
    else if (tok == "-s") S[r] = pre host(T[++i])
    else if (tok == "-d") D[r] = pre host(T[++i])
    else if (tok == "-i") I[r] = pre T[++i]
    else if (tok == "-o") O[r] = pre T[++i]
    else if (tok == "--dport" || tok == "--dports") DP[r] = pre T[++i]
    else if (tok == "--sport" || tok == "--sports") SP[r] = pre T[++i]
    else if (tok == "--ctstate" || tok == "--state") ST[r] = pre T[++i]
    else if (tok == "--dst-type") X[r] = X[r] ", to " pre "a " tolower(T[++i]) " address"
    else if (tok == "--src-type") X[r] = X[r] ", from " pre "a " tolower(T[++i]) " address"
    else if (tok == "-j" || tok == "-g") J[r] = T[++i]
    else if (tok == "--to-destination") TD[r] = T[++i]
    else if (tok == "--to-source") TS[r] = T[++i]
    else if (tok == "--reject-with") RW[r] = T[++i]
    else if (tok == "--comment") i++
    else if (tok == "-m") {
      m = T[++i]
      if (m !~ /^(tcp|udp|sctp|multiport|conntrack|state|addrtype|comment)$/) U[r] = U[r] " " pre "-m " m
    } else U[r] = U[r] " " pre tok
    neg = 0
  }
}
function builtin(c) { return c ~ /^(INPUT|FORWARD|OUTPUT|PREROUTING|POSTROUTING)$/ }
# The paths of jumps from a built-in chain into chain c of table t, each ended
# by "|": rule numbers, root first ("|" alone: c is built-in; "": unreachable).
function paths(t, c, depth,   j, i, n, list, parts, out) {
  if (builtin(c)) return "|"
  if (depth >= 4) return ""
  out = ""
  for (j = 1; j <= nr; j++) {
    if (tab[j] != t || J[j] != c) continue
    list = paths(t, ch[j], depth + 1)
    n = split(list, parts, "|")
    for (i = 1; i < n; i++) out = out (parts[i] == "" ? "" : parts[i] " ") j "|"
  }
  return out
}
function add(value, old) {
  if (value == "") return old
  if (old == "" || old == value) return value
  if (old == "not " value || value == "not " old) never = 1
  return old " and " value
}
# The conditions of a path of rules (jumps, then the rule itself): "what" is
# protocol, port, source and destination (dest: a translated one), "more" the
# interfaces, states and other matches. Sets never when they contradict.
function phrase(rs, dest,   n, k, r, p, dp, sp, s, d, i, iv, o, st, x, u) {
  n = split(rs, k, " ")
  never = 0
  for (i = 1; i <= n; i++) {
    r = k[i]
    p = add(P[r], p); dp = add(DP[r], dp); sp = add(SP[r], sp)
    s = add(S[r], s); d = add(D[r], d); iv = add(I[r], iv); o = add(O[r], o); st = add(ST[r], st)
    x = x X[r]; u = u U[r]
  }
  what = (p == "" ? "any" : p) (dp == "" ? "" : " " dp) (sp == "" ? "" : " from port " sp)
  what = what " from " (s == "" ? "any" : s) " to " (dest != "" ? dest : d == "" ? "any" : d)
  more = ""
  if (dest != "" && d != "") more = more ", sent to " d
  if (iv != "") more = more ", arriving " (iv ~ /^not / ? "not on " substr(iv, 5) : "on " iv)
  if (o != "") more = more ", leaving " (o ~ /^not / ? "not on " substr(o, 5) : "on " o)
  if (st != "") more = more ", state " st
  more = more x
  if (u != "") more = more ", also" u
  if (never) more = more ", never matches: the conditions contradict"
  return what more
}
function via(rs, r,   n, k, i, out) {
  n = split(rs, k, " ")
  out = ""
  for (i = 1; i < n; i++) out = out (out == "" ? "" : " > ") ch[k[i]]
  return out == "" ? "" : ", via " out
}
function root(rs,   k) { split(rs, k, " "); return ch[k[1]] }
function emit(text) {
  shown++
  if (shown <= max) print "kept " text
}
BEGIN { if (max == "") max = 40; fl = (fam == "" ? "" : " (" fam ")") }
/^\*/ { table = substr($0, 2); next }
/^:/ { kept[table, substr($1, 2)] = 1; next }
/^-A / { parse($0, ++nr); last[tab[nr], ch[nr]] = nr; next }
END {
  # DNAT first: Docker's published ports, paired with the filter rule that accepts them
  for (r = 1; r <= nr; r++) {
    if (J[r] != "DNAT") continue
    to = TD[r]; ip = to; port = ""
    if (to ~ /^\[/) { ip = substr(to, 2, index(to, "]") - 2); port = substr(to, index(to, "]") + 2) }
    else if (gsub(/:/, ":", to) == 1) { ip = substr(to, 1, index(to, ":") - 1); port = substr(to, index(to, ":") + 1) }
    if (port == "") port = DP[r]
    acc = ""
    for (q = 1; q <= nr && acc == ""; q++) {
      if (tab[q] == "filter" && J[q] == "ACCEPT" && D[q] == ip && (DP[q] == "" || DP[q] == port) && P[q] == P[r]) { acc = q; paired[q] = 1 }
    }
    list = paths(tab[r], ch[r], 0)
    np = split(list, pp, "|")
    for (k = 1; k < np; k++) {
      rs = (pp[k] == "" ? "" : pp[k] " ") r
      verb = root(rs) == "OUTPUT" ? "redirect this host's own connections" : "forward"
      emit(ch[r] " rules" fl " " verb " " phrase(rs, TD[r]) " (nat " ch[r] " DNAT" via(rs) "; " (acc != "" ? "accepted by filter " ch[acc] : "no kept filter rule accepts it: our FORWARD rules decide") ")")
    }
  }
  for (r = 1; r <= nr; r++) {
    t = J[r]
    if (t == "DNAT" || paired[r] || kept[tab[r], t]) continue
    # an unconditional RETURN at the end of its chain changes nothing
    if (t == "RETURN" && last[tab[r], ch[r]] == r && P[r] S[r] D[r] I[r] O[r] DP[r] SP[r] ST[r] X[r] U[r] == "") continue
    list = paths(tab[r], ch[r], 0)
    np = split(list, pp, "|")
    for (k = 1; k < np; k++) {
      rs = (pp[k] == "" ? "" : pp[k] " ") r
      base = root(rs)
      if (t == "ACCEPT") verb = base == "INPUT" ? "admit" : base == "FORWARD" ? "forward" : base == "OUTPUT" ? "let out" : "accept (" tab[r] " " base ")"
      else if (t == "REJECT") verb = "refuse"
      else if (t == "DROP") verb = "drop"
      else if (t == "RETURN") verb = tab[r] == "nat" ? "do not translate" : "return early (" base ") for"
      else if (t == "MASQUERADE") verb = "masquerade"
      else if (t == "SNAT") verb = "translate the source (to " TS[r] ") of"
      else verb = "send to " t
      if (base == "FORWARD" && (t == "REJECT" || t == "DROP")) verb = verb " forwarding of"
      else if (base != "INPUT" && base != "FORWARD" && (t == "REJECT" || t == "DROP")) verb = verb " (" base ")"
      emit(ch[r] " rules" fl " " verb " " phrase(rs, "") " (" (tab[r] == "filter" ? "" : tab[r] " ") ch[r] " " t (RW[r] == "" ? "" : " " RW[r]) via(rs) ")")
    }
  }
  if (shown > max) print "kept rules" fl ": ... and " (shown - max) " more (iptables-save shows them all)"
}
