// jest matchers: import 'cdktf-iptables/testing' (the same as 'cdktf-iptables/lib/testing')
module.exports = require('./lib/testing');
