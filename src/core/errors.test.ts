import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CLASSES, ERRORS, GatewayError, outcomeOf, toGatewayError, type ErrorClass, type ErrorCode } from './errors.ts';

const codes = Object.keys(ERRORS) as ErrorCode[];

test('every catalog code uses a known class, a GW_<AREA>_<WHAT> name and an HTTP error status', () => {
  for (const code of codes) {
    const entry = ERRORS[code];
    assert.ok(Object.hasOwn(ERROR_CLASSES, entry.class), `${code}: class ${entry.class}`);
    assert.match(code, /^GW_[A-Z]+(_[A-Z]+)*$/);
    assert.ok(entry.status >= 400 && entry.status <= 599, `${code}: status ${entry.status}`);
    assert.ok(entry.message.length > 0);
  }
});

test('every error class is used by some code, and every side is caller, provider or gateway', () => {
  const used = new Set(codes.map((c) => ERRORS[c].class));
  assert.deepEqual([...used].sort(), Object.keys(ERROR_CLASSES).sort());
  assert.deepEqual(new Set(Object.values(ERROR_CLASSES)), new Set(['caller', 'provider', 'gateway']));
});

test('caller-side classes are 4xx, gateway-side 5xx', () => {
  for (const code of codes) {
    const side = ERROR_CLASSES[ERRORS[code].class];
    if (side === 'caller') assert.ok(ERRORS[code].status < 500, code);
    if (side === 'gateway') assert.ok(ERRORS[code].status >= 500, code);
  }
});

test('GatewayError carries the catalog fields, detail, param, retry hints and retryable', () => {
  const err = new GatewayError('GW_REQUEST_INVALID', 'model must be a non-empty string', { param: 'model' });
  assert.equal(err.name, 'GatewayError');
  assert.equal(err.status, 400);
  assert.equal(err.errorClass, 'invalid_request');
  assert.equal(err.message, 'Invalid request: model must be a non-empty string');
  assert.equal(err.publicMessage, err.message);
  assert.equal(err.param, 'model');
  const limited = new GatewayError('GW_UPSTREAM_RATE_LIMITED', undefined, { retryAfter: 3, headers: { 'retry-after-ms': '2500' } });
  assert.equal(limited.retryAfter, 3);
  assert.deepEqual(limited.headers, { 'retry-after-ms': '2500' });
  assert.equal(limited.retryable, true);
  assert.equal(new GatewayError('GW_UPSTREAM_TIMEOUT').message, 'Upstream provider timed out');
});

test('toGatewayError: GatewayErrors pass through; anything else is GW_INTERNAL with a generic public message', () => {
  const own = new GatewayError('GW_MODEL_NOT_FOUND', 'gpt-9');
  assert.equal(toGatewayError(own), own);
  for (const thrown of [new TypeError("Cannot read properties of undefined (reading 'secret_field')"), 'a string', null, { weird: true }]) {
    const err = toGatewayError(thrown);
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, 'GW_INTERNAL');
    assert.equal(err.status, 500);
    assert.equal(err.errorClass, 'internal');
    assert.equal(err.cause, thrown);
    assert.equal(err.publicMessage, 'Internal gateway error');
    assert.doesNotMatch(err.publicMessage, /secret_field/);
  }
});

test('a non-exposed code hides its detail from the client but keeps it in message', () => {
  const err = new GatewayError('GW_INTERNAL', 'db password wrong at /etc/x');
  assert.equal(err.publicMessage, 'Internal gateway error');
  assert.match(err.message, /db password wrong/);
  assert.deepEqual(codes.filter((c) => !ERRORS[c].expose), ['GW_INTERNAL']);
});

test('retryable (x-should-retry): never for caller mistakes or permanent configuration errors; for transient failures', () => {
  // The one caller-side code worth retrying: the gateway's own rate limit clears when its window resets.
  for (const code of codes) if (ERROR_CLASSES[ERRORS[code].class] === 'caller' && code !== 'GW_RATE_LIMITED') assert.equal(ERRORS[code].retryable, false, code);
  assert.deepEqual(codes.filter((c) => ERRORS[c].retryable), [
    'GW_RATE_LIMITED', 'GW_LIMITS_UNAVAILABLE', 'GW_UPSTREAM_RATE_LIMITED', 'GW_UPSTREAM_SERVER_ERROR', 'GW_UPSTREAM_TIMEOUT', 'GW_UPSTREAM_NETWORK', 'GW_UPSTREAM_PROTOCOL',
    'GW_NO_DEPLOYMENT_AVAILABLE', 'GW_UPSTREAM_QUEUE_FULL', 'GW_UNAVAILABLE_DRAINING',
  ]);
  // A provider without usable credentials stays so until the operator acts: not a 503, not retryable.
  assert.equal(ERRORS.GW_PROVIDER_UNAVAILABLE.status, 500);
  assert.equal(ERRORS.GW_UPSTREAM_AUTH.retryable, false);
});

test('outcome: an error\'s side, else its status; the closed vocabulary of the outcome label', () => {
  for (const [errorClass, side] of Object.entries(ERROR_CLASSES)) assert.equal(outcomeOf({ errorClass: errorClass as ErrorClass }, 500), `${side}_error`);
  assert.equal(outcomeOf(undefined), 'success');
  assert.equal(outcomeOf(undefined, 404), 'caller_error');
  assert.equal(outcomeOf(undefined, 503), 'gateway_error');
});
