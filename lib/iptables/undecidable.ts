/**
 * Extensions whose outcome depends on what an offline reading of a ruleset
 * cannot know: the time of day, the process that owns a socket, a random
 * choice, the bridge port a frame came in on, a program in userspace. Their
 * rules are read, and a verdict that turns on them says "depends on" with
 * the reason given here.
 */

/** Match modules whose result cannot be decided offline, with the reason in words. */
export const UNDECIDABLE_MATCHES: Readonly<Record<string, string>> = {
  time: 'the time of day or date (-m time)',
  owner: 'the user or group that owns the sending socket (-m owner)',
  physdev: 'the bridge port the frame uses (-m physdev)',
  statistic: 'a random or every-nth choice (-m statistic)',
  connlimit: 'how many connections the source has open (-m connlimit)',
  connbytes: 'how many bytes the connection has carried (-m connbytes)',
  connrate: 'the connection\'s rate (-m connrate)',
  quota: 'how much of a byte quota is used (-m quota)',
  socket: 'whether a local socket is bound to the packet (-m socket)',
  cgroup: 'the control group of the sending process (-m cgroup)',
  mac: 'the sender\'s MAC address (-m mac)',
  helper: 'the conntrack helper of the connection (-m helper)',
  string: 'the packet\'s payload (-m string)',
  u32: 'the packet\'s bytes (-m u32)',
  bpf: 'a BPF program (-m bpf)',
  tcpmss: 'the TCP MSS option (-m tcpmss)',
  ecn: 'the ECN bits (-m ecn)',
  realm: 'the routing realm (-m realm)',
  devgroup: 'the interface group (-m devgroup)',
  cpu: 'the CPU handling the packet (-m cpu)',
  policy: 'the IPsec policy of the packet (-m policy)',
  ipvs: 'the IPVS connection (-m ipvs)',
  rateest: 'a rate estimator (-m rateest)',
  osf: 'the sender\'s operating system (-m osf)',
  cluster: 'the cluster node hash (-m cluster)',
  esp: 'the ESP SPI (-m esp)',
  ah: 'the AH SPI (-m ah)',
  ipv6header: 'the packet\'s IPv6 extension headers (-m ipv6header)',
  mh: 'the Mobility Header type (-m mh)',
  condition: 'a condition flag set from userspace (-m condition)',
  geoip: 'the source country (-m geoip)',
  l2tp: 'the L2TP header (-m l2tp)',
};

/** Targets that hand the packet to something the ruleset does not show, with the reason in words. */
export const UNDECIDABLE_TARGETS: Readonly<Record<string, string>> = {
  NFQUEUE: 'a userspace program reading the queue (-j NFQUEUE)',
  QUEUE: 'a userspace program reading the queue (-j QUEUE)',
  TPROXY: 'a transparent proxy\'s socket (-j TPROXY)',
  SYNPROXY: 'the SYN proxy\'s handshake (-j SYNPROXY)',
  NETMAP: 'a prefix-to-prefix address mapping (-j NETMAP)',
  HMARK: 'a hash-based mark (-j HMARK)',
};

/** Targets that change nothing the verdict reads and let the packet go on. */
export const CONTINUING_TARGETS: readonly string[] = [
  'LOG', 'NFLOG', 'ULOG', 'CHECKSUM', 'TCPMSS', 'DSCP', 'TOS', 'TTL', 'HL', 'CLASSIFY', 'AUDIT', 'SET', 'TRACE', 'TEE',
  'SECMARK', 'CONNSECMARK', 'LED', 'IDLETIMER', 'RATEEST', 'TCPOPTSTRIP', 'ECN', 'NFACCT', 'CONNTRACK',
];

/** Match modules that test IPv6 extension headers the evaluator's packets do not carry: they never match. */
export const EXTENSION_HEADER_MATCHES: readonly string[] = ['rt', 'frag', 'hbh', 'dst'];
