// The API routes' request body: read whole (every body but the raw passthrough's is one JSON document), bounded by
// server.body_limit_bytes, parsed once. The bytes are kept beside the object: a request that needs no change
// goes upstream exactly as sent (providers/shared/passthrough-body.ts). Clients (and curl without -H) send
// JSON under many content types, so the content type is not checked.
import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../core/errors.ts';

export interface JsonBody {
  object: Record<string, unknown>;
  bytes: Buffer;
}

/** Calls `done` once: with the body, or with the GatewayError the client gets (413, 400, or 499 if it left). */
export function readJsonBody(req: IncomingMessage, limit: number, done: (error: GatewayError | undefined, body?: JsonBody) => void): void {
  readBody(req, limit, (error, bytes) => {
    if (error) return done(error);
    const parsed = parseObject(bytes!);
    if (parsed instanceof GatewayError) done(parsed);
    else done(undefined, { object: parsed, bytes: bytes! });
  });
}

/** The body's bytes, whatever they are (the raw passthrough's), with the same bound and errors. */
export function readBody(req: IncomingMessage, limit: number, done: (error: GatewayError | undefined, bytes?: Buffer) => void): void {
  if (Number(req.headers['content-length']) > limit) {
    done(tooLarge(limit)); // node:http discards the unread body once the response ends
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  const stop = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) {
      stop();
      done(tooLarge(limit));
    } else chunks.push(chunk);
  };
  const onEnd = () => {
    stop();
    done(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
  };
  const onError = () => {
    stop();
    done(new GatewayError('GW_CLIENT_CLOSED'));
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}

function parseObject(bytes: Buffer): Record<string, unknown> | GatewayError {
  if (bytes.length === 0) return new GatewayError('GW_REQUEST_MALFORMED_JSON', 'empty body');
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    return new GatewayError('GW_REQUEST_MALFORMED_JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return new GatewayError('GW_REQUEST_INVALID', 'body must be a JSON object');
  return body as Record<string, unknown>;
}

const tooLarge = (limit: number) => new GatewayError('GW_REQUEST_BODY_TOO_LARGE', `limit is ${limit} bytes`);
