import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openGatewayWarning, httpUrl } from './bind-address.ts';

test('openGatewayWarning: open to other machines is a danger; open on loopback says how to close it', () => {
  for (const address of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.20']) {
    assert.match(openGatewayWarning(address, true, undefined)!, new RegExp(`^open gateway on ${address.replace(/\./g, '\\.')}: requests need no key`));
    assert.match(openGatewayWarning(address, true, false)!, /^open gateway on/, 'auth.required: false is no excuse off loopback');
    assert.equal(openGatewayWarning(address, false, undefined), undefined, `${address} with a gateway key`);
  }
  for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
    assert.match(openGatewayWarning(address, true, undefined)!, /^auth open: no gateway key exists yet/, address);
    assert.equal(openGatewayWarning(address, true, false), undefined, 'auth.required: false on loopback is the operator\'s choice');
  }
});

test('httpUrl: the bound address as a URL, IPv6 in brackets', () => {
  assert.equal(httpUrl({ address: '0.0.0.0', family: 'IPv4', port: 8080 }), 'http://0.0.0.0:8080');
  assert.equal(httpUrl({ address: '::', family: 'IPv6', port: 8080 }), 'http://[::]:8080');
});
