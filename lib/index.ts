export { IpFamily } from './model/family';
export { Port, Protocol } from './model/port';
export { Peer } from './model/peer';
export { ClosedPortResponse, OutboundPolicy, OutboundOptions } from './model/options';
export { StatefulHost, StatefulHostProps, RuleFile } from './constructs/stateful-host';
