// A stage-prefix reverse proxy for local checks, as API Gateway serves a stage: requests to
// <prefix>/... are forwarded to the target with the prefix stripped and `X-Forwarded-Prefix: <prefix>`
// added; anything outside the prefix is a 404 from the proxy itself. Node's standard library only.
//
//   node prefix-proxy.mjs --target http://127.0.0.1:8080 [--prefix /prod] [--port 8081] [--host 127.0.0.1]
//
// Prints `prefix-proxy: listening on http://HOST:PORT<prefix> -> TARGET` once listening (with
// --port 0, the port the system chose), and stops on SIGINT/SIGTERM.

import http from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    target: { type: "string" },
    prefix: { type: "string", default: "/prod" },
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
  },
});

if (!values.target) {
  console.error("usage: node prefix-proxy.mjs --target http://127.0.0.1:PORT [--prefix /prod] [--port N]");
  process.exit(2);
}
const target = new URL(values.target);
if (target.protocol !== "http:") {
  console.error(`prefix-proxy: only http targets, got ${values.target}`);
  process.exit(2);
}
const prefix = `/${values.prefix.replace(/^\/+|\/+$/g, "")}`;
if (prefix === "/") {
  console.error("prefix-proxy: the prefix must not be empty");
  process.exit(2);
}

// Hop-by-hop headers (RFC 9110 section 7.6.1) are not forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function forwardable(headers) {
  const out = {};
  const named = new Set(
    String(headers.connection ?? "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The path under the prefix (`/prod/books?x` -> `/books?x`, `/prod` -> `/`), or null if outside it. */
function strip(url) {
  if (url === prefix) return "/";
  if (url.startsWith(`${prefix}/`)) return url.slice(prefix.length);
  if (url.startsWith(`${prefix}?`)) return `/${url.slice(prefix.length)}`;
  return null;
}

const agent = new http.Agent({ keepAlive: true });

const server = http.createServer((req, res) => {
  const path = strip(req.url ?? "/");
  if (path === null) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
    res.end(`prefix-proxy: ${req.url} is outside ${prefix}\n`);
    return;
  }
  const headers = forwardable(req.headers);
  headers.host = target.host;
  headers["x-forwarded-prefix"] = prefix;
  headers["x-forwarded-host"] = req.headers.host ?? "";
  headers["x-forwarded-proto"] = "http";

  const upstream = http.request(
    {
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: req.method,
      path,
      headers,
      agent,
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, forwardable(up.headers));
      up.pipe(res);
    },
  );
  upstream.setTimeout(30_000, () => upstream.destroy(new Error("upstream timed out after 30 s")));
  upstream.on("error", (err) => {
    if (res.headersSent) {
      res.destroy(err);
      return;
    }
    res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
    res.end(`prefix-proxy: ${err.message}\n`);
  });
  req.pipe(upstream);
});

server.listen(Number(values.port), values.host, () => {
  const { address, port } = server.address();
  console.log(`prefix-proxy: listening on http://${address}:${port}${prefix} -> ${target.origin}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    agent.destroy();
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
