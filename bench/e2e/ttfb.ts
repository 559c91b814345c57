// Streaming time to first byte: sequential stream:true requests (one at a time, on one keep-alive
// connection), each timed from send to the first body byte; the body must end as the API's streams do
// (`data: [DONE]`, or the fixture's response.completed for `--api responses`).
//
//   node ttfb.ts --url http://127.0.0.1:18082/v1/chat/completions --count 300 --warmup 50 \
//     --model bench-stream [--api chat|responses] [--header 'name: value']...
// Prints one JSON object on stdout.
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import http from 'node:http';
import { apis } from './fixtures.ts';
import { parseHeaders, post } from './client.ts';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '50' },
    model: { type: 'string', default: 'bench-stream' },
    api: { type: 'string', default: 'chat' },
    header: { type: 'string', multiple: true, default: [] },
    timeout: { type: 'string', default: '15' },
    'max-seconds': { type: 'string', default: '30' },
  },
});
const target = { url: new URL(values.url!), headers: parseHeaders(values.header) };
const api = apis[values.api as keyof typeof apis];
const body = api.request(values.model!, true);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const ttfb = createHistogram({ lowest: 1, highest: 120e9, figures: 3 });
const total = createHistogram({ lowest: 1, highest: 120e9, figures: 3 });
const warmup = Number(values.warmup), count = Number(values.count);
const stopAt = Date.now() + Number(values['max-seconds']) * 1000; // bounded even if the target is slow
let ok = 0, errors = 0, lastError = '';

for (let i = 0; i < warmup + count && Date.now() < stopAt; i++) {
  const start = Number(process.hrtime.bigint());
  try {
    const reply = await post(agent, target, body, Number(values.timeout) * 1000);
    const end = Number(process.hrtime.bigint());
    if (reply.status !== 200 || !reply.tail.includes(api.streamEnd)) {
      errors++; lastError = `status ${reply.status}, tail ${JSON.stringify(reply.tail)}`;
    } else if (i >= warmup) {
      ok++;
      ttfb.record(Math.max(1, reply.firstByteNs - start));
      total.record(Math.max(1, end - start));
    }
  } catch (err) {
    errors++; lastError = (err as Error).message;
  }
}
agent.destroy();

const ms = (h: RecordableHistogram, p: number) => (h.count > 0 ? h.percentile(p) / 1e6 : null);
process.stdout.write(`${JSON.stringify({
  ok, errors, lastError,
  p50: ms(ttfb, 50), p90: ms(ttfb, 90), p99: ms(ttfb, 99), totalP50: ms(total, 50), totalP99: ms(total, 99),
})}\n`);
