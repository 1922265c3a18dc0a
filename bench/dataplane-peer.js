// Data-plane benchmark peer (plain node, runs inside a network namespace).
//   node dataplane-peer.js server PORT            accepts; "S" = sink the stream, anything else = close
//   node dataplane-peer.js conns HOST PORT SECS   new connections per second (64 in flight)
//   node dataplane-peer.js stream HOST PORT SECS  MB/s over one established connection
'use strict';
const net = require('net');
const [mode, a, b, c] = process.argv.slice(2);

if (mode === 'server') {
  net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', (d) => { if (d[0] !== 0x53) s.destroy(); else s.on('data', () => {}); });
  }).listen(Number(a), '0.0.0.0', () => console.log('ready'));
} else if (mode === 'conns') {
  const until = Date.now() + Number(c) * 1000;
  let ok = 0;
  let failed = 0;
  let active = 0;
  const one = () => {
    if (Date.now() >= until) { if (--active === 0) done(); return; }
    const s = net.connect({ host: a, port: Number(b) });
    s.setTimeout(2000, () => s.destroy(new Error('timeout')));
    s.once('connect', () => { ok++; s.end('C'); s.destroy(); setImmediate(one); });
    s.once('error', () => { failed++; s.destroy(); setImmediate(one); });
  };
  const done = () => console.log(JSON.stringify({ perSecond: ok / Number(c), failed }));
  for (let i = 0; i < 64; i++) { active++; one(); }
} else if (mode === 'stream') {
  const chunk = Buffer.alloc(1 << 16, 0x53);
  const s = net.connect({ host: a, port: Number(b) }, () => {
    const t0 = Date.now();
    let bytes = 0;
    const pump = () => {
      while (Date.now() - t0 < Number(c) * 1000) {
        bytes += chunk.length;
        if (!s.write(chunk)) { s.once('drain', pump); return; }
      }
      console.log(JSON.stringify({ mbPerSecond: bytes / 1e6 / ((Date.now() - t0) / 1000) }));
      s.destroy();
    };
    pump();
  });
  s.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); });
} else {
  console.error('usage: dataplane-peer.js server PORT | conns HOST PORT SECS | stream HOST PORT SECS');
  process.exit(2);
}
