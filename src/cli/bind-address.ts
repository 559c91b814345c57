// What the start-up lines say about the address the gateway bound: the address itself (from the socket,
// not the configured host's spelling), and whether that opens it to others.
import type { AddressInfo } from 'node:net';

export const httpUrl = ({ address, family, port }: AddressInfo): string => `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;

const isLoopback = (address: string): boolean => address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');

/**
 * What start-up says about a gateway that serves requests without a key (policy/authenticate.ts authIsOpen),
 * else undefined: open to other machines is a danger; open on loopback because no key exists yet says how to
 * close it; `auth.required: false` on loopback is the operator's explicit choice and says nothing.
 */
export function openGatewayWarning(address: string, open: boolean, required: boolean | undefined): string | undefined {
  if (!open) return undefined;
  if (!isLoopback(address)) {
    return `open gateway on ${address}: requests need no key, so anyone who can reach this address can use every configured provider; issue a key (vigil keys issue --name NAME), or set server.host (VIGIL_HOST) to 127.0.0.1`;
  }
  if (required === false) return undefined;
  return 'auth open: no gateway key exists yet, so every request is served without one; the first key issued (vigil keys issue --name NAME, docs/access.md) closes it';
}
