// Composition root of the CLI: parse the command line and run one command. No logic lives here.
import { Command, InvalidArgumentError } from 'commander';
import { checkConfig } from './cli/config-check.ts';
import { serve } from './cli/serve.ts';
import { printVersion } from './cli/version.ts';
import { ConfigError } from './config/load.ts';

const port = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
};

const program = new Command('vigil').description('Vigil: an observable, fast AI gateway');
program.command('serve', { isDefault: true }).description('run the gateway')
  .option('-c, --config <file>', 'YAML config file (default: $VIGIL_CONFIG, else embedded defaults)')
  .option('-p, --port <port>', 'listen port (overrides config and $VIGIL_PORT)', port)
  .action((options) => serve(options));
program.command('config').description('configuration tools')
  .command('check').description('validate a config and print the effective result, secrets masked')
  .option('-c, --config <file>', 'YAML config file (default: $VIGIL_CONFIG, else embedded defaults)')
  .action((options) => checkConfig(options));
program.command('version').description('print the version').action(printVersion);

try {
  await program.parseAsync();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
