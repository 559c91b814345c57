// What the start-up lines say about the address the gateway bound: the address itself (from the socket,
// not the configured host's spelling), and whether that opens it to others.
import type { AddressInfo } from 'node:net';

export const httpUrl = ({ address, family, port }: AddressInfo): string => `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;

const isLoopback = (address: string): boolean => address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');

/** The warning for an open gateway (no auth.keys) that other machines can reach, else undefined. */
export function exposureWarning(address: string, keyCount: number): string | undefined {
  if (keyCount > 0 || isLoopback(address)) return undefined;
  return `open gateway on ${address}: no auth.keys, so anyone who can reach this address can use every configured provider; set auth.keys, or server.host (VIGIL_HOST) to 127.0.0.1`;
}
