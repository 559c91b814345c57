// `promtool check metrics` (Prometheus' own linter) on a live scrape after real traffic: successes,
// upstream and gateway errors, streams and embeddings, so every family that traffic fills is checked.
// promtool is required: test/run.sh installs it from Debian's prometheus package when it is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { startGateway } from '../helpers/gateway.ts';
import { call } from '../helpers/scrape.ts';
import { claude, oai, startStack, userMessage, type Stack } from '../helpers/stack.ts';

function promtool(input: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input, encoding: 'utf8' });
  if (run.error) {
    assert.fail(`promtool is not installed (${(run.error as NodeJS.ErrnoException).code}): run the suite with test/run.sh, `
      + 'which installs it from the Debian package prometheus, or `apt-get install prometheus`');
  }
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

let stack: Stack;
before(async () => {
  stack = await startStack();
  const ignore = (p: Promise<unknown>) => p.then(() => undefined, () => undefined);
  const { openai, anthropic } = stack;
  await openai.chat.completions.create({ model: oai('ok'), messages: userMessage('hi') });
  await anthropic.messages.create({ model: claude('ok'), max_tokens: 16, messages: userMessage('hi') });
  await openai.chat.completions.create({ model: 'mock-chat', messages: userMessage('hi') });
  for await (const _ of await openai.chat.completions.create({ model: oai('ok'), messages: userMessage('hi'), stream: true })) { /* drain */ }
  for await (const _ of await openai.chat.completions.create({ model: claude('ok'), messages: userMessage('hi'), stream: true })) { /* drain */ }
  for await (const _ of await anthropic.messages.create({ model: 'mock-chat', max_tokens: 16, messages: userMessage('hi'), stream: true })) { /* drain */ }
  await openai.embeddings.create({ model: 'mock-embedding', input: ['a', 'b'] });
  await openai.embeddings.create({ model: 'oai-embed', input: 'a' });
  await openai.models.list();
  for (const behaviour of ['fail-500', 'fail-429', 'fail-401', 'fail-400', 'reset']) {
    await ignore(openai.chat.completions.create({ model: oai(behaviour), messages: userMessage('hi') }));
    await ignore(anthropic.messages.create({ model: claude(behaviour), max_tokens: 16, messages: userMessage('hi') }));
  }
  await ignore(openai.chat.completions.create({ model: 'no-such-model', messages: userMessage('hi') }));
  await call(`${stack.gateway.url}/v1/chat/completions`, { headers: { 'content-type': 'application/json' }, body: undefined, method: 'POST' });
  await call(`${stack.gateway.url}/nowhere`);
  await call(`${stack.gateway.url}/readyz`);
});
after(() => stack?.stop());

test('Prometheus text: promtool check metrics prints nothing and exits 0', async () => {
  const scrape = await call(`${stack.gateway.url}/metrics`);
  assert.match(String(scrape.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.match(scrape.body, /vigil_llm_calls_total\{[^}]*outcome="provider_error"/, 'the traffic reached the metrics');
  assert.match(scrape.body, /vigil_http_requests_total\{route="\/v1\/embeddings"/);
  const { status, output } = promtool(scrape.body);
  assert.equal(output, '', `promtool check metrics:\n${output}`);
  assert.equal(status, 0);
});

test('OpenMetrics: promtool finds nothing beyond reading OpenMetrics counters as text format', async () => {
  const scrape = await call(`${stack.gateway.url}/metrics`, { headers: { accept: 'application/openmetrics-text' } });
  assert.match(String(scrape.headers['content-type']), /^application\/openmetrics-text; version=1\.0\.0/);
  assert.ok(scrape.body.endsWith('# EOF\n'));
  // promtool check metrics only parses the Prometheus text format. OpenMetrics requires a counter's
  // family to be named without `_total` and its samples with it, which that parser reads as a second,
  // help-less family: exactly one "<family>_total no help text" line per counter family, nothing else.
  const counters = new Set([...scrape.body.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]));
  assert.ok(counters.size > 3);
  const { output } = promtool(scrape.body);
  const unexpected = output.split('\n').filter(Boolean).filter((line) => {
    const artefact = /^(\S+)_total no help text$/.exec(line);
    return !artefact || !counters.has(artefact[1]);
  });
  assert.deepEqual(unexpected, [], `promtool check metrics:\n${output}`);
  // The same exposition as Prometheus text (counter families renamed back) must be clean.
  const { status, output: text } = promtool(scrape.body.replace(/^# EOF\n/m, '')
    .replace(/^# (HELP|TYPE) (\S+)( .*)?$/gm, (line, kind, name, rest) => (counters.has(name) ? `# ${kind} ${name}_total${rest ?? ''}` : line)));
  assert.equal(text, '', `promtool check metrics on the OpenMetrics samples:\n${text}`);
  assert.equal(status, 0);
});

test('cluster mode (workers: 2): the combined scrape is as clean', async (t) => {
  const gateway = await startGateway({
    server: { workers: 2 },
    providers: { mock: { kind: 'mock' }, flaky: { kind: 'mock', error_rates: { server_error: 0.5 } } },
    models: [{ name: 'mock-chat', provider: 'mock' }, { name: 'flaky-chat', provider: 'flaky' }, { name: 'mock-embedding', provider: 'mock', type: 'embedding' }],
  });
  t.after(() => gateway.stop());
  await gateway.waitForLog((r) => r.msg === 'all workers listening', 15_000);
  for (let i = 0; i < 8; i++) {
    await call(`${gateway.url}/v1/chat/completions`, { body: { model: i % 2 ? 'flaky-chat' : 'mock-chat', stream: i % 4 === 0, messages: userMessage('hi') } });
    await call(`${gateway.url}/v1/embeddings`, { body: { model: 'mock-embedding', input: 'hi' } });
  }
  const scrape = await call(`${gateway.url}/metrics`);
  assert.match(scrape.body, /vigil_llm_calls_total\{provider="mock"/);
  const { status, output } = promtool(scrape.body);
  assert.equal(output, '', `promtool check metrics:\n${output}`);
  assert.equal(status, 0);
});
