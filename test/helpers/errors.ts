// Assertions on the two error dialects the gateway speaks, and on secrets never leaking.
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import type Anthropic from '@anthropic-ai/sdk';
import { UPSTREAM_ANTHROPIC_KEY, UPSTREAM_OPENAI_KEY } from './stack.ts';

export const UPSTREAM_SECRETS = [UPSTREAM_OPENAI_KEY, UPSTREAM_ANTHROPIC_KEY];

export function assertNoSecret(text: string, where: string): void {
  for (const secret of UPSTREAM_SECRETS) assert.ok(!text.includes(secret), `upstream secret ${secret} appears in ${where}: ${text}`);
}

/** OpenAI shape: `{"error":{"message","type","param","code"}}` with code the GW_* code. */
export function assertOpenAIError(err: InstanceType<typeof OpenAI.APIError>, status: number, code: string): void {
  assert.equal(err.status, status, `status for ${code}`);
  assert.equal(err.code, code);
  const body = err.error as Record<string, unknown> | undefined;
  assert.ok(body, 'the response had an error body');
  for (const key of ['message', 'type', 'param', 'code']) assert.ok(key in body, `error.${key} is present`);
  assert.equal(typeof body.message, 'string');
  assert.ok((body.message as string).length > 0);
  assert.equal(typeof body.type, 'string');
  assertNoSecret(JSON.stringify(body), `the ${code} error body`);
}

/** Anthropic shape: `{"type":"error","error":{"type","message"},"request_id"}`. */
export function assertAnthropicError(err: InstanceType<typeof Anthropic.APIError>, status: number, type: string): void {
  assert.equal(err.status, status, `status for ${type}`);
  const body = err.error as Record<string, any> | undefined;
  assert.ok(body, 'the response had an error body');
  assert.equal(body.type, 'error');
  assert.equal(body.error?.type, type);
  assert.equal(typeof body.error?.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.equal(typeof body.request_id, 'string', 'request_id is present');
  assertNoSecret(JSON.stringify(body), `the ${type} error body`);
}
