import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileConfig } from '../config/compile.ts';
import { configSchema } from '../config/schema.ts';
import type { Send } from './provider.ts';
import { buildProviders, providerChecks } from './registry.ts';

const send: Send = async () => { throw new Error('not called'); };
const build = (providers: unknown, env: NodeJS.ProcessEnv) => buildProviders(compileConfig(configSchema.parse({
  providers, models: [{ name: 'm', provider: Object.keys(providers as object)[0] }],
}), env), () => send);

test('providers take the credentials compile resolved; readiness: routable count, and each unusable provider by name', async () => {
  const providers = build({ mock: { kind: 'mock' }, oa: { kind: 'openai', api_key: 'env:OA_KEY' }, ant: { kind: 'anthropic', api_key: 'env:UNSET' } }, { OA_KEY: 'sk-x' });
  assert.equal(providers.get('oa')!.unavailableReason, undefined);
  assert.equal(providers.get('ant')!.unavailableReason, 'api_key: environment variable UNSET is not set');
  const checks = providerChecks(providers);
  assert.deepEqual(checks.map((c) => [c.name, c.required]), [['providers', true], ['provider:ant', false]]);
  assert.deepEqual(await Promise.all(checks.map((c) => c.check())), [
    { status: 'ok', detail: '2/3 routable' },
    { status: 'fail', detail: 'api_key: environment variable UNSET is not set' },
  ]);
});

test('no routable provider fails the required providers check', async () => {
  const [providers] = providerChecks(build({ ant: { kind: 'anthropic', api_key: 'env:UNSET' } }, {}));
  assert.deepEqual(await providers.check(), { status: 'fail', detail: 'no provider has usable credentials' });
});

test('a deployment with its own base_url and api_key is a provider instance of its provider\'s kind, named by its id', () => {
  const bound: string[] = [];
  const providers = buildProviders(compileConfig(configSchema.parse({
    providers: { ant: { kind: 'anthropic', api_key: 'env:ANT' } },
    models: [{ name: 'm', deployments: [{ provider: 'ant' }, { provider: 'ant', id: 'ant-eu', base_url: 'https://eu.example', api_key: 'env:EU' }] }],
  }), { ANT: 'a', EU: 'b' }), (url) => {
    bound.push(url);
    return send;
  });
  assert.deepEqual([...providers.keys()], ['ant', 'ant-eu']);
  assert.deepEqual([providers.get('ant-eu')!.kind, providers.get('ant-eu')!.id], ['anthropic', 'ant-eu']);
  assert.deepEqual(bound, ['https://api.anthropic.com', 'https://eu.example']);
});
