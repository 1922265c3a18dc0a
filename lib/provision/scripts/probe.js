// cdktf-iptables: runs where terraform runs, after the new rules were loaded.
// Opens a NEW TCP connection to the host's SSH port through the new rules; if
// that fails, waits out the rollback window and says whether SSH is back.
// Settings from the environment: CFW_HOST, CFW_PORT, CFW_TIMEOUT (a Terraform
// duration such as "30s" or "2m"), CFW_ROLLBACK_SECS. Every wait is bounded,
// whatever the values: a value that is not a number falls back to a default.
'use strict';
const net = require('net');

/** A whole number within [min, max], or the fallback. */
function bounded(value, min, max, fallback) {
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, Math.round(n))) : fallback;
}

/** Seconds of a Terraform duration ("30s", "2m", "1h", "1m30s"). */
function durationSeconds(text) {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(String(text || '').trim());
  if (!m || m[0] === '') return NaN;
  return Number(m[1] || 0) * 3600 + Number(m[2] || 0) * 60 + Number(m[3] || 0);
}

const host = process.env.CFW_HOST;
const port = bounded(process.env.CFW_PORT, 1, 65535, 22);
const timeoutS = bounded(durationSeconds(process.env.CFW_TIMEOUT), 1, 600, 30);
const rollbackS = bounded(process.env.CFW_ROLLBACK_SECS, 5, 3600, 30);

function tryConnect(deadlineMs) {
  return new Promise((resolve) => {
    let tries = 0;
    const attempt = () => {
      tries += 1;
      const sock = net.connect({ host, port });
      const done = (ok) => { sock.destroy(); if (ok || Date.now() > deadlineMs || tries >= 4000) resolve(ok); else setTimeout(attempt, 1000); };
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
