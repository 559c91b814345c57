// Spend, end to end with the official clients: calls through `openai` and `@anthropic-ai/sdk`, JSON and
// streams (one whose client never asked for usage), on models priced in config and one without a price.
// The admin analytics (by_key, by_user, by_model, cost), `vigil usage report --json`, the ledger and the
// cost metrics all equal what the fake upstream reported times the configured prices, exactly in
// micro-dollars; the unpriced model's call is counted as such. Once on embedded SQLite, once on PostgreSQL.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { stringify } from 'yaml';
import { accessSettings, admin, issueKey, micros, pgSchema, until, type PgSchema } from '../helpers/access-e2e.ts';
import { FAKE_USAGE, startFakeUpstream } from '../helpers/fake-upstream.ts';
import { NODE_BIN, REPO_ROOT, startGateway } from '../helpers/gateway.ts';
import { ledgerRows } from '../helpers/ledger.ts';
import { call, total } from '../helpers/scrape.ts';

const GPT = { name: 'gpt-priced', provider: 'fake-openai', pricing: { input_per_mtok: 2500, output_per_mtok: 10_000 } };
const CLAUDE = { name: 'claude-priced', provider: 'fake-anthropic', pricing: { input_per_mtok: 3000, output_per_mtok: 15_000 } };
/** No price in config and none in the built-in catalog. */
const UNPRICED = { name: 'house-model', provider: 'fake-openai' };
const priceOf = (m: { pricing?: { input_per_mtok: number; output_per_mtok: number } }) =>
  m.pricing ? (FAKE_USAGE.input * m.pricing.input_per_mtok + FAKE_USAGE.output * m.pricing.output_per_mtok) / 1e6 : 0;

/** A row of figures, as every source is compared: tokens and requests exact, cost in micro-dollars. */
interface Figures { requests: number; input_tokens: number; output_tokens: number; cost_micros: number }
/** `calls` calls, each reporting FAKE_USAGE, costing `usd` in all. */
const figures = (calls: number, usd: number): Figures =>
  ({ requests: calls, input_tokens: calls * FAKE_USAGE.input, output_tokens: calls * FAKE_USAGE.output, cost_micros: micros(usd) });
const rowFigures = (r: Record<string, any>): Figures =>
  ({ requests: Number(r.requests), input_tokens: Number(r.input_tokens), output_tokens: Number(r.output_tokens), cost_micros: micros(Number(r.cost_usd)) });
/** Analytics rows keyed by their group (`key`, `user`, `model`), or the one total row under `total`. */
const byGroup = (rows: Record<string, any>[], group?: string) =>
  Object.fromEntries(rows.map((r) => [group ? String(r[group]) : 'total', rowFigures(r)]));

const run = promisify(execFile);

for (const store of ['sqlite', 'postgres'] as const) {
  test(`spend on ${store}: analytics, usage report, ledger and metrics equal the upstream's usage times the prices, streams included`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'vigil-spend-'));
    let schema: PgSchema | undefined;
    t.after(async () => {
      await schema?.drop();
      await rm(dataDir, { recursive: true, force: true });
    });
    if (store === 'postgres') schema = await pgSchema();
    const fake = await startFakeUpstream();
    t.after(() => fake.close());
    const config = {
      ...accessSettings(schema?.url),
      providers: {
        'fake-openai': { kind: 'openai-compatible', base_url: `${fake.url}/v1`, api_key: 'sk-upstream-test' },
        'fake-anthropic': { kind: 'anthropic', base_url: fake.url, api_key: 'sk-ant-upstream-test' },
      },
      models: [GPT, CLAUDE, UNPRICED].map((m) => ({ ...m, upstream_model: 'ok' })),
    };
    const env = { VIGIL_DATA_DIR: dataDir };
    const gateway = await startGateway(config, env);
    t.after(() => gateway.stop());

    const alice = await issueKey(gateway.url, { name: 'alice-key', user: 'alice', team: 'research' });
    const bob = await issueKey(gateway.url, { name: 'bob-key', user: 'bob' });
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: alice.key, maxRetries: 0, timeout: 15_000 });
    const claudeAs = (key: string) => new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 0, timeout: 15_000 });
    const messages = [{ role: 'user' as const, content: 'What does this cost?' }];

    // alice: three gpt calls (JSON, stream with usage, stream that never asked for usage), two claude, one unpriced.
    const json = await openai.chat.completions.create({ model: GPT.name, messages });
    assert.deepEqual([json.usage?.prompt_tokens, json.usage?.completion_tokens], [FAKE_USAGE.input, FAKE_USAGE.output]);
    let streamedUsage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of await openai.chat.completions.create({ model: GPT.name, messages, stream: true, stream_options: { include_usage: true } })) {
      streamedUsage ??= chunk.usage;
    }
    assert.equal(streamedUsage?.completion_tokens, FAKE_USAGE.output);
    let chunks = 0;
    for await (const chunk of await openai.chat.completions.create({ model: GPT.name, messages, stream: true })) {
      chunks++;
      assert.ok(!chunk.usage, 'usage the client did not ask for is not sent to it');
    }
    assert.ok(chunks > 0);
    const message = await claudeAs(alice.key).messages.create({ model: CLAUDE.name, max_tokens: 64, messages });
    assert.equal(message.usage.output_tokens, FAKE_USAGE.output);
    const streamed = await claudeAs(alice.key).messages.stream({ model: CLAUDE.name, max_tokens: 64, messages }).finalMessage();
    assert.equal(streamed.usage.output_tokens, FAKE_USAGE.output);
    await openai.chat.completions.create({ model: UNPRICED.name, messages });
    // bob: one claude stream.
    await claudeAs(bob.key).messages.stream({ model: CLAUDE.name, max_tokens: 64, messages }).finalMessage();

    const byKey = { [alice.id]: figures(6, 3 * priceOf(GPT) + 2 * priceOf(CLAUDE)), [bob.id]: figures(1, priceOf(CLAUDE)) };
    const byModel = { [GPT.name]: figures(3, 3 * priceOf(GPT)), [CLAUDE.name]: figures(3, 3 * priceOf(CLAUDE)), [UNPRICED.name]: figures(1, 0) };
    const byUser = { alice: byKey[alice.id], bob: byKey[bob.id] };
    const totalFigures = figures(7, 3 * priceOf(GPT) + 3 * priceOf(CLAUDE));

    // The ledger: one row per call, identity, user and team filled in, streams priced like the rest.
    const rows = await until('all 7 usage rows written', async () => {
      const found = store === 'sqlite' ? ledgerRows(dataDir) : await schema!.query('SELECT * FROM usage_records ORDER BY id');
      return found.length === 7 ? found : undefined;
    }, 5000);
    const ledgerBy = (field: string) => {
      const sums: Record<string, Figures> = {};
      for (const r of rows) {
        sums[r[field]] ??= { requests: 0, input_tokens: 0, output_tokens: 0, cost_micros: 0 };
        const s = sums[r[field]];
        s.requests++;
        s.input_tokens += Number(r.input_tokens);
        s.output_tokens += Number(r.output_tokens);
        s.cost_micros += micros(Number(r.cost_usd));
      }
      return sums;
    };
    assert.deepEqual(ledgerBy('identity_id'), byKey);
    assert.deepEqual(ledgerBy('model'), byModel);
    assert.deepEqual(ledgerBy('user_id'), byUser);
    assert.ok(rows.filter((r) => r.identity_id === alice.id).every((r) => r.team_id === 'research'));
    assert.equal(rows.filter((r) => Number(r.stream) === 1 && Number(r.cost_usd) > 0).length, 4, 'the four streams are priced');

    // The admin analytics and the CLI report say the same.
    const analytics = async (kind: string) => {
      const res = await admin(gateway.url, 'GET', `/admin/analytics/${kind}?granularity=total`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data as Record<string, any>[];
    };
    assert.deepEqual(byGroup(await analytics('by_key'), 'key'), byKey);
    assert.deepEqual(byGroup(await analytics('by_user'), 'user'), byUser);
    assert.deepEqual(byGroup(await analytics('by_model'), 'model'), byModel);
    assert.deepEqual(byGroup(await analytics('cost')), { total: totalFigures });

    const configPath = join(dataDir, 'vigil.yaml');
    await writeFile(configPath, stringify(config));
    const report = async (by: string) => {
      const { stdout } = await run(NODE_BIN, ['--disable-warning=ExperimentalWarning', 'src/main.ts', 'usage', 'report', '-c', configPath,
        '--by', by, '--granularity', 'total', '--json'], { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 20_000 });
      const parsed = JSON.parse(stdout);
      return (Array.isArray(parsed) ? parsed : parsed.data) as Record<string, any>[];
    };
    assert.deepEqual(byGroup(await report('key'), 'key'), byKey, 'vigil usage report --by key');
    assert.deepEqual(byGroup(await report('model'), 'model'), byModel, 'vigil usage report --by model');

    // The cost metrics agree with the ledger; the unpriced call is counted apart.
    const metrics = (await call(`${gateway.url}/metrics`)).body;
    for (const [id, expected] of Object.entries(byKey)) {
      assert.equal(micros(total(metrics, 'vigil_identity_cost_usd_total', { identity: id })), expected.cost_micros, `identity ${id}`);
    }
    for (const [model, expected] of Object.entries(byModel)) {
      assert.equal(micros(total(metrics, 'vigil_llm_cost_usd_total', { model })), expected.cost_micros, `model ${model}`);
    }
    assert.equal(total(metrics, 'vigil_llm_unpriced_calls_total', { model: UNPRICED.name }), 1);
    assert.equal(total(metrics, 'vigil_llm_unpriced_calls_total'), 1, 'priced models never count as unpriced');
  });
}
