export { IpFamily } from './model/family';
export { Port, Protocol } from './model/port';
export { Peer } from './model/peer';
export * from './model/options';
export * from './constructs/stateful-host';
