/** One packet as the kernel test driver (verdicts-driver.py) builds and injects it. */
export interface Wire {
  id: number;
  client: number;
  family: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  sport?: number;
  dport?: number;
  flags?: number;
  seq?: number;
  ack?: number;
  icmpType?: number;
  icmpCode?: number;
  icmpId?: number;
  ttl?: number;
  inner?: Wire;
  /** Sent by the firewalled host itself (`client`: the interface it leaves on). */
  out?: boolean;
}
