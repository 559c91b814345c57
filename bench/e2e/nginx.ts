// nginx configurations for the fake upstream and for nginx as a plain reverse proxy (the practical floor).
import { completionJson, responsesJson, responsesSse, streamSse } from './fixtures.ts';

export const ports = { upstream: 18081, upstreamSse: 18082, proxy: 18083, proxySse: 18084 } as const;

// nginx's `return` text is a quoted config string in which `$` starts a variable.
function quoted(body: string): string {
  if (/[$'\\]/.test(body)) throw new Error('fixture body needs escaping for nginx');
  return `'${body}'`;
}

// One worker, pinned: the upstream shares the load generator's core, the proxy gets the measured core alone.
function common(dir: string, cpuMask: string): string {
  return `
worker_processes 1;
worker_cpu_affinity ${cpuMask};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_body_buffer_size 64k;
  keepalive_timeout 120s;
  keepalive_requests 10000000;
  server_tokens off;
`;
}

/**
 * Fake upstream: any POST gets the static JSON (port upstream) or the static SSE stream (port upstreamSse);
 * POST /v1/responses gets a Responses object or typed-event stream instead.
 */
export function upstreamConf(dir: string, cpuMask: string): string {
  return `${common(dir, cpuMask)}
  server {
    listen 127.0.0.1:${ports.upstream} reuseport backlog=4096;
    location / { default_type application/json; return 200 ${quoted(completionJson)}; }
    location = /v1/responses { default_type application/json; return 200 ${quoted(responsesJson)}; }
  }
  server {
    listen 127.0.0.1:${ports.upstreamSse} reuseport backlog=4096;
    location / {
      default_type text/event-stream;
      add_header Cache-Control no-cache;
      return 200 ${quoted(streamSse)};
    }
    location = /v1/responses {
      default_type text/event-stream;
      add_header Cache-Control no-cache;
      return 200 ${quoted(responsesSse)};
    }
  }
}
`;
}

/** Reverse proxy with pooled keep-alive upstream connections; unbuffered for the stream port. */
export function proxyConf(dir: string, cpuMask: string): string {
  return `${common(dir, cpuMask)}
  upstream json { server 127.0.0.1:${ports.upstream}; keepalive 128; keepalive_requests 10000000; }
  upstream sse { server 127.0.0.1:${ports.upstreamSse}; keepalive 128; keepalive_requests 10000000; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  server {
    listen 127.0.0.1:${ports.proxy} reuseport backlog=4096;
    location / { proxy_pass http://json; }
  }
  server {
    listen 127.0.0.1:${ports.proxySse} reuseport backlog=4096;
    location / { proxy_pass http://sse; proxy_buffering off; }
  }
}
`;
}
