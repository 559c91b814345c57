import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digest } from '../config/metrics-credentials.ts';
import { authorized, negotiate } from './metrics-http.ts';

test('negotiate: OpenMetrics only when the Accept header ranks it at least as high as text', () => {
  assert.equal(negotiate(undefined), 'prometheus');
  assert.equal(negotiate(''), 'prometheus');
  assert.equal(negotiate('*/*'), 'prometheus');
  assert.equal(negotiate('text/plain;version=0.0.4'), 'prometheus');
  assert.equal(negotiate('application/openmetrics-text'), 'openmetrics');
  assert.equal(negotiate('Application/OpenMetrics-Text; version=1.0.0'), 'openmetrics');
  assert.equal(negotiate('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'), 'openmetrics');
  assert.equal(negotiate('application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2'), 'prometheus');
  assert.equal(negotiate('text/plain;q=0.9,application/openmetrics-text;q=0.5'), 'prometheus');
  assert.equal(negotiate('application/openmetrics-text;q=0'), 'prometheus');
});

test('authorized: open without credentials; bearer or basic when configured; nothing else', () => {
  assert.equal(authorized(undefined, {}), true);
  assert.equal(authorized('Bearer anything', {}), true);
  const credentials = { bearer: digest('tok'), basic: digest('prom:pw') };
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.equal(authorized('Bearer tok', credentials), true);
  assert.equal(authorized('bearer tok', credentials), true, 'schemes are case-insensitive');
  assert.equal(authorized(basic('prom:pw'), credentials), true);
  for (const header of [undefined, '', 'Bearer', 'Bearer ', 'Bearer to', 'Bearer tok2', basic('prom:pw2'), basic('prom'), 'Basic !!', 'Token tok', 'tok']) {
    assert.equal(authorized(header, credentials), false, String(header));
  }
  assert.equal(authorized('Bearer tok', { basic: digest('prom:pw') }), false, 'bearer is refused when only basic is set');
});
