import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exposureWarning, httpUrl } from './bind-address.ts';

test('exposureWarning: an open gateway on a non-loopback address, only', () => {
  for (const address of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.20']) {
    assert.equal(exposureWarning(address, 0), `open gateway on ${address}: no auth.keys, so anyone who can reach this address can use every configured provider; set auth.keys, or server.host (VIGIL_HOST) to 127.0.0.1`);
    assert.equal(exposureWarning(address, 1), undefined, `${address} with a gateway key`);
  }
  for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(exposureWarning(address, 0), undefined, address);
});

test('httpUrl: the bound address as a URL, IPv6 in brackets', () => {
  assert.equal(httpUrl({ address: '0.0.0.0', family: 'IPv4', port: 8080 }), 'http://0.0.0.0:8080');
  assert.equal(httpUrl({ address: '::', family: 'IPv6', port: 8080 }), 'http://[::]:8080');
});
