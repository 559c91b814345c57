// Gateway keys are stored and compared as SHA-256 digests, so a plain key is never held longer than the
// code that reads it: config/compile hashes the configured keys, policy/authenticate the presented one.
import { createHash } from 'node:crypto';

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');
