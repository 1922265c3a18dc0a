// A long-lived TCP session for kernel tests: connects, checks an echo, then on
// each SIGUSR1 sends one more line and reports whether it came back.
// Usage: node session-client.js ADDR PORT. Prints "connected", "echo:<n>:ok" or "echo:<n>:fail".
const net = require('net');
const [addr, port] = [process.argv[2], Number(process.argv[3])];
let n = 0;
let pending;
const sock = net.connect({ host: addr, port }, () => send());
sock.setTimeout(60_000, () => process.exit(2));
sock.on('data', (d) => {
  if (pending && d.toString().includes(pending)) {
    console.log(`echo:${n}:ok`);
    pending = undefined;
  }
});
sock.on('error', (e) => { console.log(`error:${e.code}`); process.exit(1); });
function send() {
  n += 1;
  pending = `line-${n}`;
  sock.write(`${pending}\n`);
  const mine = n;
  setTimeout(() => { if (pending && n === mine) { console.log(`echo:${mine}:fail`); pending = undefined; } }, 3000);
}
process.on('SIGUSR1', send);
setTimeout(() => process.exit(0), 60_000);
