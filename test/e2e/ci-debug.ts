import * as fs from 'fs';
import * as path from 'path';
import { CACHE_DIR, Fleet } from './target';
import { sh } from '../kernel/lab';
import { NatGateway, Port, StatefulHost } from '../../lib';
import { TerraformStack, Testing } from 'cdktf';
async function main() {
  process.env.SYSTEMD_NSPAWN_API_VFS_WRITABLE = 'network';
  const fleet = new Fleet();
  (fleet as any).image = sh('bash', [path.join(__dirname, 'image-cloudinit.sh'), CACHE_DIR, fleet.image]).stdout.trim().split('\n').pop();
  const t = fleet.target();
  try {
    const h = new StatefulHost(new TerraformStack(Testing.app(), 's'), 'gw', { allow: [Port.SSH] });
    new NatGateway(h, 'nat', { wan: 'eth0', lans: [{ iface: 'eth1', cidr: '192.168.7.0/24' }] });
    const dir = path.join(t.work, 'root/var/lib/cloud/seed/nocloud');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'meta-data'), 'instance-id: dbg\n');
    fs.writeFileSync(path.join(dir, 'user-data'), h.cloudInitText());
    await t.boot();
    console.log(t.exec('cloud-init status --wait --long; grep -n cdktf /var/log/cloud-init-output.log; mount | grep /proc/sys; systemctl is-system-running --wait', { check: false, timeoutMs: 120000 }).stdout);
    const pid = (t as any).nspawn.pid;
    const p = t.reboot();
    const tm = setTimeout(() => { console.log(sh('pstree', ['-pa', String(pid)], { check: false }).stdout); console.log(sh('sh', ['-c', `for p in $(pgrep -P ${pid}); do cat /proc/$p/stack 2>/dev/null | head; for c in $(pgrep -P $p); do echo child $c; cat /proc/$c/comm; cat /proc/$c/wchan; echo; done; done`], { check: false }).stdout); console.log(fs.readFileSync(path.join(t.work, 'boot1.log'), 'utf8').slice(-2500)); }, 20000);
    try { console.log('reboot s', await p); } catch (e) { console.log(String(e)); }
    clearTimeout(tm);
    const r = { stdout: '', stderr: '', status: 0 }; void ('systemctl list-jobs --no-pager 2>&1; journalctl -b --no-pager 2>&1 | tail -40', { check: false }); console.log(r.stdout, r.stderr, r.status);
  } finally { fleet.destroy(); }
}
main().catch((e) => { console.error(e); process.exit(1); });
