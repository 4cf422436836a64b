#!/usr/bin/env node
// Minimal upstream HTTP API used as the "customer API" behind every MCP target.
//
//   POST /echo        JSON in -> {"echo": <body>}
//   GET  /items/:id   -> {"id": "<id>", "name": "item-<id>"}
//   GET  /openapi.json  OpenAPI 3.0 document describing the two operations above
//   GET  /stats       {"requests": N, "signed": S} – number of /echo and /items calls served (lets
//                     the load driver check that every tool call really reached the upstream), and
//                     how many of them carried tengine's request signature (X-Tengine-Signature)
//
// Usage: node echo-upstream.mjs [port]     (or PORT=18080; binds 127.0.0.1 only)
// No dependencies: node:http only, keep-alive on.
import http from 'node:http';

const port = Number(process.argv[2] ?? process.env.PORT ?? 18080);
const host = process.env.HOST ?? '127.0.0.1';
const MAX_BODY = 1 << 20;

let served = 0;
let signed = 0;

function openapiDoc() {
  return {
    openapi: '3.0.3',
    info: { title: 'echo upstream', version: '1.0.0' },
    servers: [{ url: `http://${host}:${port}` }],
    paths: {
      '/echo': {
        post: {
          operationId: 'echo',
          summary: 'Echo the JSON body back',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    message: { type: 'string' },
                    n: { type: 'integer' },
                    tags: { type: 'array', items: { type: 'string' } },
                  },
                  required: ['message'],
                },
              },
            },
          },
          responses: {
            200: {
              description: 'The body, wrapped',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { echo: { type: 'object' } } },
                },
              },
            },
          },
        },
      },
      '/items/{id}': {
        get: {
          operationId: 'getItem',
          summary: 'Fetch one item by id',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: {
              description: 'The item',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { id: { type: 'string' }, name: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}

function send(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (req.method === 'POST' && url === '/echo') {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        send(res, 413, { error: 'body too large' });
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.writableEnded) return;
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      } catch {
        send(res, 400, { error: 'invalid JSON body' });
        return;
      }
      served++;
      if (req.headers['x-tengine-signature'] !== undefined) signed++;
      send(res, 200, { echo: body });
    });
    return;
  }
  if (req.method === 'GET' && url.startsWith('/items/')) {
    const id = decodeURIComponent(url.slice('/items/'.length).split('?')[0]);
    served++;
    send(res, 200, { id, name: `item-${id}` });
    req.resume();
    return;
  }
  if (req.method === 'GET' && url === '/openapi.json') {
    send(res, 200, openapiDoc());
    req.resume();
    return;
  }
  if (req.method === 'GET' && url === '/stats') {
    send(res, 200, { requests: served, signed });
    req.resume();
    return;
  }
  send(res, 404, { error: `no route for ${req.method} ${url}` });
  req.resume();
});

// Keep idle keep-alive connections open for the whole benchmark run.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(port, host, () => {
  console.log(`echo-upstream listening on http://${host}:${port}`);
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  });
}
