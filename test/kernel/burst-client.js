// Opens N TCP connections at once and counts how many complete within a deadline.
// Usage: node burst-client.js ADDR PORT N DEADLINE_MS. Prints "connected=<k>".
const net = require('net');
const [addr, port, n, deadline] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
let ok = 0;
const socks = [];
for (let i = 0; i < n; i++) {
  const s = net.connect({ host: addr, port }, () => { ok += 1; });
  s.on('error', () => {});
  socks.push(s);
}
setTimeout(() => { console.log(`connected=${ok}`); socks.forEach((s) => s.destroy()); process.exit(0); }, deadline);
