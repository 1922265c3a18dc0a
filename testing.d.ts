// jest matchers: import 'cdktf-iptables/testing' (the same as 'cdktf-iptables/lib/testing')
export * from './lib/testing';
