// Built-in prices of the common OpenAI and Anthropic models, so every call is priced without config; a
// model's `pricing` in config overrides its entry (config/compile.ts). USD per million tokens.
//
// Taken from the providers' public price pages (openai.com/api/pricing, docs.anthropic.com/en/docs/
// about-claude/pricing) as they stood on 2025-10-20: standard tier, ≤200K-token prompts, 5-minute cache
// writes. OpenAI bills no cache write (cached prefixes are made implicitly), so its write price is the input price.
import type { ModelPricing } from '../core/context.ts';

const openai = (input: number, cachedInput: number, output: number): ModelPricing => Object.freeze({ input, output, cachedInput, cacheWrite: input });
/** Anthropic: cache writes cost 1.25× input, cache reads 0.1× input. */
const anthropic = (input: number, output: number): ModelPricing => Object.freeze({ input, output, cachedInput: round(input * 0.1), cacheWrite: round(input * 1.25) });
const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

export const PRICING_CATALOG: ReadonlyMap<string, ModelPricing> = new Map([
  ['gpt-4o', openai(2.5, 1.25, 10)],
  ['gpt-4o-mini', openai(0.15, 0.075, 0.6)],
  ['gpt-4.1', openai(2, 0.5, 8)],
  ['gpt-4.1-mini', openai(0.4, 0.1, 1.6)],
  ['gpt-4.1-nano', openai(0.1, 0.025, 0.4)],
  ['o3', openai(2, 0.5, 8)],
  ['o4-mini', openai(1.1, 0.275, 4.4)],
  ['o1', openai(15, 7.5, 60)],
  ['gpt-5', openai(1.25, 0.125, 10)],
  ['gpt-5-mini', openai(0.25, 0.025, 2)],
  ['gpt-5-nano', openai(0.05, 0.005, 0.4)],
  ['text-embedding-3-small', openai(0.02, 0.02, 0)],
  ['text-embedding-3-large', openai(0.13, 0.13, 0)],
  ['claude-opus-4-1', anthropic(15, 75)],
  ['claude-opus-4', anthropic(15, 75)],
  ['claude-sonnet-4-5', anthropic(3, 15)],
  ['claude-sonnet-4', anthropic(3, 15)],
  ['claude-3-7-sonnet', anthropic(3, 15)],
  ['claude-3-5-haiku', anthropic(0.8, 4)],
  ['claude-haiku-4-5', anthropic(1, 5)],
]);

/** A snapshot or alias suffix the providers add to a model's name: `-20250514`, `-2024-08-06`, `-latest`, `-0`. */
const VARIANT = /-(\d{8}|\d{4}-\d{2}-\d{2}|latest|0)$/;

/** The catalog's prices for an upstream model name, dated snapshots and aliases included; undefined when unknown. */
export function catalogPricing(upstreamModel: string): ModelPricing | undefined {
  return PRICING_CATALOG.get(upstreamModel) ?? PRICING_CATALOG.get(upstreamModel.replace(VARIANT, ''));
}
