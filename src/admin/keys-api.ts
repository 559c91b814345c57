// /admin/keys: list, issue, show, revoke, rotate. Config file keys are listed (read-only) beside the
// store's; the plain key appears only in the answers of issue and rotate.
import type { KeyRecord } from '../store/ports.ts';
import { keyActions } from './key-actions.ts';
import { graceMs, keyAttributes } from './key-body.ts';
import { keyView } from './key-view.ts';
import { answer, notFound } from './reply.ts';
import type { AdminDeps, AdminRoute } from './routes.ts';

export function keyRoutes(deps: Pick<AdminDeps, 'keys' | 'configKeys' | 'audit'>, now: () => number): AdminRoute[] {
  const { keys, configKeys } = deps;
  const actions = keyActions({ ...deps, actor: 'admin', now });
  const find = async (id: string): Promise<KeyRecord> => {
    const record = configKeys.find((r) => r.id === id) ?? await keys.get(id);
    if (!record) throw notFound(`no key has id ${id}`);
    return record;
  };
  const missing = (id: string) => notFound(`no key has id ${id}`);
  return [
    {
      method: 'GET', path: '/admin/keys',
      stage: async (ctx) => {
        const records = [...configKeys, ...await keys.list()];
        answer(ctx, 200, { data: records.map((r) => keyView(r, now())) });
      },
    },
    {
      method: 'POST', path: '/admin/keys', writes: 'keys',
      stage: async (ctx) => {
        const { key, record } = await actions.issue(keyAttributes(ctx.body, now()));
        answer(ctx, 201, { key, ...keyView(record, now()) });
      },
    },
    {
      method: 'GET', path: '/admin/keys/{id}',
      stage: async (ctx) => answer(ctx, 200, keyView(await find(ctx.params.id), now())),
    },
    {
      method: 'POST', path: '/admin/keys/{id}/revoke', writes: 'keys',
      stage: async (ctx) => {
        const grace = graceMs(ctx.body);
        const record = await actions.revoke(ctx.params.id, grace);
        if (!record) throw missing(ctx.params.id);
        answer(ctx, 200, keyView(record, now()));
      },
    },
    {
      method: 'POST', path: '/admin/keys/{id}/rotate', writes: 'keys',
      stage: async (ctx) => {
        const grace = graceMs(ctx.body);
        const rotated = await actions.rotate(ctx.params.id, grace);
        if (!rotated) throw missing(ctx.params.id);
        answer(ctx, 201, { key: rotated.key, ...keyView(rotated.next, now()), replaces: rotated.old.id });
      },
    },
  ];
}
