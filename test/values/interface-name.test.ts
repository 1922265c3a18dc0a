import { interfaceNameProblem } from '../../lib/values/interface-name';

describe('interface names', () => {
  test.each(['eth0', 'ens3', 'wg0', 'br-lan', 'veth1.100', 'eth+', 'a', 'abcdefghijklmno'])('%s is accepted', (n) => {
    expect(interfaceNameProblem(n)).toBeUndefined();
  });
  test.each([
    ['', /empty/],
    ['abcdefghijklmnop', /16 characters long; Linux allows at most 15/],
    ['eth/0', /not a valid Linux interface name/],
    ['eth 0', /not a valid/],
    ['eth0"', /not a valid/],
    ["eth0'", /not a valid/],
    ['eth0;reboot', /not a valid/],
    ['+', /not a valid/],
    ['et+h', /not a valid/],
    ['..', /not a valid/],
    ['${TfToken[X]}', /unresolved token/],
  ])('%j is refused', (n, msg) => {
    expect(interfaceNameProblem(n)?.message).toMatch(msg);
  });
});
