// Echo server for kernel tests: TCP and UDP echo on the given ports, IPv4 and
// IPv6 (dual-stack '::'). Usage: node echo-server.js tcp=22,80 udp=53
// Prints "ready" once every socket listens. Ends when its parent kills it.
const net = require('net');
const dgram = require('dgram');

const ports = { tcp: [], udp: [] };
for (const arg of process.argv.slice(2)) {
  const [proto, list] = arg.split('=');
  ports[proto] = list.split(',').filter(Boolean).map(Number);
}
let pending = ports.tcp.length + ports.udp.length;
const done = () => { if (--pending === 0) console.log('ready'); };
for (const port of ports.tcp) {
  net.createServer((s) => {
    s.on('error', () => {});
    // "WHO\n" asks who is calling: the server answers with the peer address it sees (to check NAT)
    s.once('data', (first) => {
      if (first.toString() === 'WHO\n') s.end(`${s.remoteAddress.replace(/^::ffff:/, '')}\n`);
      else { s.write(first); s.pipe(s); }
    });
  }).listen({ port, host: '::', ipv6Only: false }, done);
}
for (const port of ports.udp) {
  const sock = dgram.createSocket({ type: 'udp6', ipv6Only: false });
  sock.on('message', (msg, rinfo) => sock.send(msg.length ? msg : Buffer.from('pong'), rinfo.port, rinfo.address));
  sock.bind(port, '::', done);
}
if (pending === 0) console.log('ready');
