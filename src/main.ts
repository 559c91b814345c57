// Composition root of the CLI: parse the command line and run one command. No logic lives here.
import { Command, InvalidArgumentError } from 'commander';
import { CommandError } from './cli/admin-stores.ts';
import { auditExport } from './cli/audit-export.ts';
import { listBudgets, setBudget } from './cli/budgets.ts';
import { checkConfig } from './cli/config-check.ts';
import { count, duration, label, usd } from './cli/durations.ts';
import { issueKey, listKeys, revokeKey, rotateKey, showKey } from './cli/keys.ts';
import { renderRules } from './cli/rules-render.ts';
import { serve } from './cli/serve.ts';
import { StartupError } from './cli/startup-error.ts';
import { usageReport } from './cli/usage-report.ts';
import { printVersion, versionLine } from './cli/version.ts';
import { ConfigError } from './config/load.ts';

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
};

const program = new Command('vigil').description('Vigil: an observable, fast AI gateway')
  .version(versionLine(), '-v, --version', 'print the version');
program.command('serve').description('run the gateway (the command when none is given)')
  .option('-c, --config <file>', 'YAML config file (default: $VIGIL_CONFIG, else embedded defaults)')
  .option('-p, --port <port>', 'listen port (overrides config and $VIGIL_PORT)', port)
  .action((options) => serve(options));
program.command('config').description('configuration tools')
  .command('check').description('validate a config and print the effective result, secrets masked')
  .option('-c, --config <file>', 'YAML config file (default: $VIGIL_CONFIG, else embedded defaults)')
  .action((options) => checkConfig(options));
program.command('rules').description('Prometheus rules')
  .command('render').description('write the recording and alerting rule files for a config\'s SLO targets')
  .option('-c, --config <file>', 'YAML config file (default: $VIGIL_CONFIG, else embedded defaults)')
  .option('-o, --out <dir>', 'directory for the rule files', 'rules')
  .action((options) => renderRules(options));
program.command('version').description('print the version').action(printVersion);

const CONFIG_HELP = 'YAML config file (default: $VIGIL_CONFIG, else embedded defaults)';
const keys = program.command('keys').description('gateway keys in the configured store');
keys.command('issue').description('issue a key; prints it once, alone on the last line')
  .requiredOption('--name <name>', 'what the key is for').option('--user <user>').option('--team <team>')
  .option('--models <a,b>', 'models the key may call (default: every model)')
  .option('--rpm <n>', 'requests per minute', count).option('--tpm <n>', 'tokens per minute', count)
  .option('--max-parallel <n>', 'requests in flight at once', count)
  .option('--daily-budget-usd <usd>', 'spend cap per UTC day', usd).option('--monthly-budget-usd <usd>', 'spend cap per UTC month', usd)
  .option('--expires <duration>', 'lifetime, e.g. 30d', duration).option('--metadata <key=value>', 'a label (repeatable)', label)
  .option('-c, --config <file>', CONFIG_HELP)
  .action((options) => issueKey(options));
keys.command('list').description('one line per key: id, state, name, user, team').option('-c, --config <file>', CONFIG_HELP)
  .action((options) => listKeys(options));
keys.command('show').description('a key\'s attributes as JSON').argument('<id>').option('-c, --config <file>', CONFIG_HELP)
  .action((id, options) => showKey(id, options));
keys.command('revoke').description('revoke a key, at once or after a grace period').argument('<id>')
  .option('--grace <duration>', 'keep it working this long, e.g. 10m', duration).option('-c, --config <file>', CONFIG_HELP)
  .action((id, options) => revokeKey(id, options));
keys.command('rotate').description('replace a key; prints the new one alone on the last line').argument('<id>')
  .option('--grace <duration>', 'keep the old key working this long, e.g. 1h', duration).option('-c, --config <file>', CONFIG_HELP)
  .action((id, options) => rotateKey(id, options));
const budgets = program.command('budgets').description('spend caps of users and teams');
budgets.command('set').description('set a user\'s or team\'s daily and monthly caps').argument('<scope>', 'user or team').argument('<id>')
  .option('--daily-usd <usd>', 'cap per UTC day', usd).option('--monthly-usd <usd>', 'cap per UTC month', usd).option('-c, --config <file>', CONFIG_HELP)
  .action((scope, id, options) => setBudget(scope, id, options));
budgets.command('list').description('one line per budget').option('-c, --config <file>', CONFIG_HELP).action((options) => listBudgets(options));
program.command('usage').description('usage and spend')
  .command('report').description('requests, tokens and cost from the usage ledger (default: the last 30 days, by day)')
  .option('--from <date>', 'YYYY-MM-DD or ISO-8601 (inclusive)').option('--to <date>', 'YYYY-MM-DD (inclusive) or ISO-8601 (exclusive)')
  .option('--by <group>', 'key, user, team or model').option('--granularity <g>', 'hour, day or total').option('--json', 'the admin API\'s JSON')
  .option('-c, --config <file>', CONFIG_HELP)
  .action((options) => usageReport(options));
program.command('audit').description('audit events')
  .command('export').description('write audit events, oldest first, as JSON lines').argument('<file>')
  .option('--event-type <type>').option('--since <date>').option('--until <date>').option('-c, --config <file>', CONFIG_HELP)
  .action((file, options) => auditExport(file, options));

// `vigil` and `vigil --config x.yaml` mean serve. Not commander's default command: that would take a
// mistyped command (`vigil srve`) as an argument of serve instead of reporting it as unknown.
const args = process.argv.slice(2);
if (args.length === 0 || (args[0].startsWith('-') && !['-h', '--help', '-v', '--version'].includes(args[0]))) args.unshift('serve');

try {
  await program.parseAsync(args, { from: 'user' });
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof StartupError || err instanceof CommandError)) throw err;
  console.error(err.message);
  process.exit(1);
}
