// Tool input for the mock: a value that fits the tool's JSON schema, so agents tested on the mock get
// arguments their own validation accepts. Deterministic: strings carry the prompt text, everything else
// is fixed by the schema alone.

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: unknown[];
  oneOf?: unknown[];
  properties?: Record<string, unknown>;
  required?: string[];
  additionalProperties?: unknown;
  items?: unknown;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

/**
 * Fills every required property (recursively) and leaves optional ones out. An object schema that names
 * no properties and allows any gets the text as `input`, as the mock always did for schemaless tools.
 */
export function toolInputFor(schema: unknown, text: string): unknown {
  const s: Schema = typeof schema === 'object' && schema !== null ? schema : {};
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  const variants = s.anyOf ?? s.oneOf;
  if (variants?.length) return toolInputFor(variants[0], text);
  switch (typeOf(s)) {
    case 'object': {
      if (!s.properties) return s.additionalProperties === false ? {} : { input: text };
      const value: Record<string, unknown> = {};
      for (const name of s.required ?? []) value[name] = toolInputFor(s.properties[name], text);
      return value;
    }
    case 'array': {
      const count = Math.min(Math.max(s.minItems ?? 1, 1), s.maxItems ?? Infinity);
      return Array.from({ length: count }, () => toolInputFor(s.items, text));
    }
    case 'integer': return numberIn(s, true);
    case 'number': return numberIn(s, false);
    case 'boolean': return true;
    case 'null': return null;
    default: return text.slice(0, s.maxLength).padEnd(s.minLength ?? 0, '.');
  }
}

function typeOf(s: Schema): string {
  if (Array.isArray(s.type)) return s.type.find((t) => t !== 'null') ?? 'null';
  return s.type ?? (s.properties ? 'object' : s.items ? 'array' : 'string');
}

/** 1 when unbounded; else the middle of both bounds, or one step inside the one bound. */
function numberIn(s: Schema, integer: boolean): number {
  const [low, high] = integer ? integerBounds(s) : [s.minimum ?? s.exclusiveMinimum, s.maximum ?? s.exclusiveMaximum];
  if (low !== undefined && high !== undefined) return integer ? Math.floor((low + high) / 2) : (low + high) / 2;
  return low !== undefined ? low + 1 : high !== undefined ? high - 1 : 1;
}

/** Inclusive integer bounds (≥ 2.5 and > 2 both mean ≥ 3), so a floored middle stays inside. */
function integerBounds(s: Schema): [number | undefined, number | undefined] {
  const low = s.minimum !== undefined ? Math.ceil(s.minimum) : s.exclusiveMinimum !== undefined ? Math.floor(s.exclusiveMinimum) + 1 : undefined;
  const high = s.maximum !== undefined ? Math.floor(s.maximum) : s.exclusiveMaximum !== undefined ? Math.ceil(s.exclusiveMaximum) - 1 : undefined;
  return [low, high];
}
