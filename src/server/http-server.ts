// One node:http server's life cycle: its timeouts, its connections, listen, and a close that stops
// accepting and lets the requests and streams in flight finish. The gateway's port and the dedicated
// metrics listener are each one of these.
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HttpServerOptions {
  keepAliveTimeoutMs: number;
  /** The longest a client may take to send a whole request; 0 for no limit. */
  requestTimeoutMs: number;
  /** What close does to open connections: `idle` closes idle ones and lets busy ones finish; `all` cuts every one. */
  closeConnections: 'idle' | 'all';
  onConnectionOpened?(): void;
  onConnectionClosed?(): void;
}

/** A whole response that is not a pipeline's: health, metrics, `/`. */
export interface Answer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string | Buffer;
}

export function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body); // node:http sends no body for HEAD
}

export class HttpServer {
  readonly server: Server;
  readonly #closeConnections: 'idle' | 'all';
  #closing = false;
  /**
   * Connections that have not carried a request yet (load balancers and HTTP clients open them ahead).
   * Node's closeIdleConnections counts them as busy until their first request, so a drain would wait its
   * whole timeout for them: close destroys them at once.
   */
  readonly #unused = new Set<Socket>();

  constructor(handle: (req: IncomingMessage, res: ServerResponse) => void, options: HttpServerOptions) {
    this.#closeConnections = options.closeConnections;
    this.server = createServer((req, res) => {
      this.#unused.delete(req.socket);
      // Once closing, each answer ends its connection: the client's next request goes to a live instance.
      if (this.#closing) res.shouldKeepAlive = false;
      handle(req, res);
    });
    this.server.keepAliveTimeout = options.keepAliveTimeoutMs;
    this.server.requestTimeout = options.requestTimeoutMs;
    this.server.on('connection', (socket: Socket) => {
      options.onConnectionOpened?.();
      this.#unused.add(socket);
      socket.once('close', () => {
        this.#unused.delete(socket);
        options.onConnectionClosed?.();
      });
    });
  }

  listen({ host, port }: { host: string; port: number }): Promise<AddressInfo> {
    return new Promise((ok, fail) => {
      this.server.once('error', fail);
      this.server.listen(port, host, () => {
        this.server.off('error', fail);
        ok(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting; resolves once every connection has closed (in-flight requests and streams end first). */
  close(): Promise<void> {
    this.#closing = true;
    for (const socket of this.#unused) socket.destroy();
    if (this.#closeConnections === 'all') this.server.closeAllConnections();
    else this.server.closeIdleConnections();
    return new Promise((ok) => this.server.close(() => ok())); // also when it never listened
  }
}
