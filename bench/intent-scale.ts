import { App, TerraformStack } from 'cdktf';
import { Blocklist, IpFamily, Peer, Port, StatefulHost } from '../lib';
for (const [n, scattered] of [[2000, false], [2000, true], [20000, true]] as const) {
  const h = new StatefulHost(new TerraformStack(new App(), 's'), 'web', { allow: [Port.SSH] });
  const peers = Array.from({ length: n }, (_, i) => scattered ? Peer.ipv4(`${10 + (i % 50)}.${Math.floor(i / 50) % 256}.${(i * 7) % 256}.0/24`) : Peer.ipv4(`10.${Math.floor(i / 256) % 256}.${i % 256}.0/24`));
  new Blocklist(h, 'feed', { peers: [...new Map(peers.map((p) => [p.cidr, p])).values()] });
  const t0 = Date.now();
  h.reachability(IpFamily.V4);
  const errs = (h.node as any).validate();
  console.log(n, scattered ? 'scattered' : 'contiguous', (Date.now() - t0) / 1000, 's', errs.length);
}
