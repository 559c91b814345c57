// `vigil keys issue|list|show|revoke|rotate`: gateway keys in the configured store. A new key is printed
// once, alone on the last line of stdout (scripts take `| tail -1`); listings never show a secret or hash.
import { keyActions, type KeyActions, type KeyAttributes } from '../admin/key-actions.ts';
import { keyView, type KeyView } from '../admin/key-view.ts';
import { CommandError, withAdminStores, type AdminStores } from './admin-stores.ts';
import { validatedConfig } from './validated-config.ts';

interface ConfigOption { config?: string }

export interface IssueOptions extends ConfigOption {
  name: string;
  user?: string;
  team?: string;
  models?: string;
  rpm?: number;
  tpm?: number;
  maxParallel?: number;
  dailyBudgetUsd?: number;
  monthlyBudgetUsd?: number;
  /** ms from now. */
  expires?: number;
  metadata?: Record<string, string>;
}

/** The stores and the CLI's key actions (actor `cli`), published after a successful write. */
async function withKeys<T>(options: ConfigOption, run: (actions: KeyActions, stores: AdminStores) => Promise<T>): Promise<T> {
  const { compiled } = validatedConfig({ path: options.config });
  return withAdminStores(compiled, (stores) => run(keyActions({ ...stores, actor: 'cli', now: Date.now }), stores));
}

export async function issueKey(options: IssueOptions): Promise<void> {
  const attributes: KeyAttributes = {
    name: options.name, user: options.user, team: options.team,
    models: options.models?.split(',').map((m) => m.trim()).filter(Boolean),
    rpm: options.rpm, tpm: options.tpm, maxParallel: options.maxParallel,
    dailyBudgetUsd: options.dailyBudgetUsd, monthlyBudgetUsd: options.monthlyBudgetUsd,
    expiresAt: options.expires === undefined ? undefined : Date.now() + options.expires,
    metadata: options.metadata,
  };
  await withKeys(options, async (actions, stores) => {
    const { key, record } = await actions.issue(attributes);
    await stores.publish('keys');
    const view = keyView(record, Date.now());
    console.log(`issued key ${view.id} (${describe(view)})`);
    console.log('the key is shown this once; store it now:');
    console.log(key);
  });
}

export async function listKeys(options: ConfigOption): Promise<void> {
  await withKeys(options, async (_, { keys, configKeys }) => {
    const now = Date.now();
    for (const record of [...configKeys, ...await keys.list()]) console.log(listLine(keyView(record, now)));
  });
}

/** `<id> <state> <name> <user> <team>`, `-` for what a key does not have; config keys marked read-only. */
export function listLine(view: KeyView): string {
  const line = [view.id, view.state, view.name ?? '-', view.user ?? '-', view.team ?? '-'].join('\t');
  return view.read_only ? `${line}\tread-only` : line;
}

export async function showKey(id: string, options: ConfigOption): Promise<void> {
  await withKeys(options, async (_, { keys, configKeys }) => {
    const record = configKeys.find((r) => r.id === id) ?? await keys.get(id);
    if (!record) throw new CommandError(`no key has id ${id} (vigil keys list shows them)`);
    console.log(JSON.stringify(keyView(record, Date.now()), null, 2));
  });
}

export async function revokeKey(id: string, options: ConfigOption & { grace?: number }): Promise<void> {
  await withKeys(options, async (actions, stores) => {
    const record = await actions.revoke(id, options.grace ?? 0);
    if (!record) throw new CommandError(`no key has id ${id} (vigil keys list shows them)`);
    await stores.publish('keys');
    console.log(`key ${id} ${options.grace ? 'stops working at' : 'revoked at'} ${new Date(record.revokedAt!).toISOString()}`);
  });
}

export async function rotateKey(id: string, options: ConfigOption & { grace?: number }): Promise<void> {
  await withKeys(options, async (actions, stores) => {
    const rotated = await actions.rotate(id, options.grace ?? 0);
    if (!rotated) throw new CommandError(`no key has id ${id} (vigil keys list shows them)`);
    await stores.publish('keys');
    console.log(`key ${id} replaced by ${rotated.next.id}; the old key ${options.grace ? 'stops working at' : 'stopped working at'} ${new Date(rotated.old.revokedAt!).toISOString()}`);
    console.log('the new key is shown this once; store it now:');
    console.log(rotated.key);
  });
}

function describe(view: KeyView): string {
  const parts = [`name ${view.name}`];
  if (view.user) parts.push(`user ${view.user}`);
  if (view.team) parts.push(`team ${view.team}`);
  if (view.models) parts.push(`models ${view.models.join(',')}`);
  if (view.expires_at) parts.push(`expires ${view.expires_at}`);
  return parts.join(', ');
}
