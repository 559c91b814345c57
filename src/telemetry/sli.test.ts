import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../core/errors.ts';
import { SliWindow } from './sli.ts';

function windowAt(start: number) {
  const clock = { now: start };
  const sli = new SliWindow({ windowSeconds: 60, latencyBudgetSeconds: 0.01, now: () => clock.now });
  return { sli, clock };
}

test('no traffic: every ratio is 1', () => {
  assert.deepEqual(windowAt(1000).sli.ratios(), { availability: 1, latency: 1, security: 1, requests: 0, proxied: 0 });
});

test('availability counts only gateway-side 5xx faults; caller and provider failures do not count against it', () => {
  const { sli } = windowAt(1000);
  sli.record(200, undefined, 0.001);
  sli.record(500, new GatewayError('GW_INTERNAL'), undefined);
  sli.record(503, new GatewayError('GW_PROVIDER_UNAVAILABLE'), undefined);
  sli.record(404, new GatewayError('GW_MODEL_NOT_FOUND'), undefined);
  sli.record(502, new GatewayError('GW_UPSTREAM_SERVER_ERROR'), 0.002);
  assert.equal(sli.ratios().availability, 1 - 2 / 5);
});

test('latency is the share of proxied requests within the overhead budget', () => {
  const { sli } = windowAt(1000);
  sli.record(200, undefined, 0.001);
  sli.record(200, undefined, 0.01); // at the budget: good
  sli.record(200, undefined, 0.05);
  sli.record(401, new GatewayError('GW_AUTH_MISSING_KEY'), undefined); // not proxied: not counted
  assert.equal(sli.ratios().latency, 2 / 3);
});

test('security counts invalid presented keys as violations; a missing key is not one', () => {
  const { sli } = windowAt(1000);
  sli.record(401, new GatewayError('GW_AUTH_INVALID_KEY'), undefined);
  sli.record(401, new GatewayError('GW_AUTH_MISSING_KEY'), undefined);
  sli.record(200, undefined, 0.001);
  sli.record(200, undefined, 0.001);
  assert.equal(sli.ratios().security, 0.75);
});

test('old seconds leave the window; reused ring slots start from zero', () => {
  const { sli, clock } = windowAt(1000);
  sli.record(500, new GatewayError('GW_INTERNAL'), undefined);
  clock.now = 1059.5; // still inside the 60 s window
  assert.equal(sli.ratios().availability, 0);
  clock.now = 1060; // that second has left the window
  assert.equal(sli.ratios().availability, 1);
  sli.record(200, undefined, 0.001); // lands in the same ring slot as second 1000
  assert.equal(sli.ratios().availability, 1);
});
