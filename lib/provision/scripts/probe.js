// cdktf-iptables: runs where terraform runs, after the new rules were loaded.
// Opens a NEW TCP connection to the host's SSH port through the new rules; if
// that fails, waits out the rollback window and says whether SSH is back.
// Settings from the environment: CFW_HOST, CFW_PORT, CFW_TIMEOUT_S, CFW_ROLLBACK_SECS.
'use strict';
const net = require('net');

const host = process.env.CFW_HOST;
const port = Number(process.env.CFW_PORT);
const timeoutS = Number(process.env.CFW_TIMEOUT_S);
const rollbackS = Number(process.env.CFW_ROLLBACK_SECS);

function tryConnect(deadlineMs) {
  return new Promise((resolve) => {
    const attempt = () => {
      const sock = net.connect({ host, port });
      const done = (ok) => { sock.destroy(); if (ok || Date.now() > deadlineMs) resolve(ok); else setTimeout(attempt, 1000); };
      sock.setTimeout(3000, () => done(false));
      sock.once('connect', () => done(true));
      sock.once('error', () => done(false));
    };
    attempt();
  });
}

(async () => {
  // give up well before the rollback fires, or a connection that only works on the old rules would count
  const firstWindowS = Math.max(1, Math.min(timeoutS, Math.floor(rollbackS / 2)));
  if (await tryConnect(Date.now() + firstWindowS * 1000)) {
    console.log(`cdktf-iptables: a new connection to ${host}:${port} passes the new rules`);
    return;
  }
  console.error(`cdktf-iptables: cannot open a new connection to ${host}:${port} through the new rules.`);
  console.error(`cdktf-iptables: they are not confirmed, so the host rolls back to its previous rules within ${rollbackS}s; waiting to check...`);
  const back = await tryConnect(Date.now() + (rollbackS + 15) * 1000);
  console.error(back
    ? `cdktf-iptables: ROLLED BACK: ${host}:${port} answers again on the previous rules. Fix the firewall (does it admit SSH from here?) and apply again.`
    : `cdktf-iptables: ${host}:${port} still does not answer after the rollback window; check the host from its console.`);
  process.exit(1);
})();
