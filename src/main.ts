// Composition root of the CLI: parse the command line and run one command. No logic lives here.
import { Command, InvalidArgumentError } from 'commander';
import { checkConfig } from './cli/config-check.ts';
import { renderRules } from './cli/rules-render.ts';
import { serve } from './cli/serve.ts';
import { StartupError } from './cli/startup-error.ts';
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

// `vigil` and `vigil --config x.yaml` mean serve. Not commander's default command: that would take a
// mistyped command (`vigil srve`) as an argument of serve instead of reporting it as unknown.
const args = process.argv.slice(2);
if (args.length === 0 || (args[0].startsWith('-') && !['-h', '--help', '-v', '--version'].includes(args[0]))) args.unshift('serve');

try {
  await program.parseAsync(args, { from: 'user' });
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof StartupError)) throw err;
  console.error(err.message);
  process.exit(1);
}
