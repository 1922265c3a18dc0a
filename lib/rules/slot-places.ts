/** Where each named slot is in the host's tables (internal). */
import { RuleSlot } from './slot';
import { TableName } from './rule';
import { InputSlot, OutputSlot, RawSlot, ServiceSlot } from './slots';

/** Where a slot is: table, chain, slot number and the order its rules start at. */
export interface SlotPlace {
  readonly table: TableName;
  readonly chain: string;
  readonly slot: number;
  readonly order: number;
}

/** The final refusals' order inside the FINAL slot: UDP, TCP, then everything else. */
export const FinalOrder = { UDP: 10, TCP: 20, OTHER: 30 } as const;

/** The FORWARD chain's slots. */
export const ForwardSlot = { CONNTRACK: 100, INVALID: 150, ANTISPOOF: 200, ACCEPT: 500, DISPATCH: 800, FINAL: 900 } as const;

const place = (table: TableName, chain: string, slot: number, order = 0): SlotPlace => ({ table, chain, slot, order });

/** Every slot's place. */
export const SLOT_PLACES: Record<RuleSlot, SlotPlace> = {
  [RuleSlot.INPUT_BLOCK]: place('filter', 'INPUT', InputSlot.BLOCK),
  [RuleSlot.INPUT_TRUSTED]: place('filter', 'INPUT', InputSlot.TRUSTED),
  [RuleSlot.INPUT_ICMP]: place('filter', 'INPUT', InputSlot.ICMP),
  [RuleSlot.INPUT_GUARD]: place('filter', 'INPUT', InputSlot.GUARD),
  [RuleSlot.INPUT_LOG]: place('filter', 'INPUT', InputSlot.LOG),
  [RuleSlot.INPUT_REFUSE_UDP]: place('filter', 'INPUT', InputSlot.FINAL, FinalOrder.UDP),
  [RuleSlot.INPUT_REFUSE_TCP]: place('filter', 'INPUT', InputSlot.FINAL, FinalOrder.TCP),
  [RuleSlot.INPUT_REFUSE_OTHER]: place('filter', 'INPUT', InputSlot.FINAL, FinalOrder.OTHER),
  [RuleSlot.TCP_TRAP]: place('filter', 'TCP', ServiceSlot.TRAP),
  [RuleSlot.TCP_GUARD]: place('filter', 'TCP', ServiceSlot.GUARD),
  [RuleSlot.TCP_OPEN]: place('filter', 'TCP', ServiceSlot.OPEN),
  [RuleSlot.UDP_TRAP]: place('filter', 'UDP', ServiceSlot.TRAP),
  [RuleSlot.UDP_GUARD]: place('filter', 'UDP', ServiceSlot.GUARD),
  [RuleSlot.UDP_OPEN]: place('filter', 'UDP', ServiceSlot.OPEN),
  [RuleSlot.OUTPUT_OPEN]: place('filter', 'OUTPUT', OutputSlot.OPEN),
  [RuleSlot.FORWARD_CONNTRACK]: place('filter', 'FORWARD', ForwardSlot.CONNTRACK),
  [RuleSlot.FORWARD_INVALID]: place('filter', 'FORWARD', ForwardSlot.INVALID),
  [RuleSlot.FORWARD_ANTISPOOF]: place('filter', 'FORWARD', ForwardSlot.ANTISPOOF),
  [RuleSlot.FORWARD_ACCEPT]: place('filter', 'FORWARD', ForwardSlot.ACCEPT),
  [RuleSlot.FORWARD_REFUSE]: place('filter', 'FORWARD', ForwardSlot.FINAL),
  [RuleSlot.MANGLE_INPUT]: place('mangle', 'INPUT', 100),
  [RuleSlot.RAW_PREROUTING]: place('raw', 'PREROUTING', RawSlot.BOGONS),
  [RuleSlot.NAT_PREROUTING]: place('nat', 'PREROUTING', 500),
  [RuleSlot.NAT_POSTROUTING]: place('nat', 'POSTROUTING', 500),
};
