// Health probe of a tengine container (the image's HEALTHCHECK and docker-compose.yml):
//   node deploy/docker/healthcheck.mjs [path]      path: /health/live (default) or /health/ready
// Asks http://127.0.0.1:<PORT><path> and exits 0 on a 2xx answer within 3 s, 1 otherwise. PORT
// defaults to the app's own default port, chosen by APP as in the apps' env schemas.
const DEFAULT_PORTS = {
  gateway: 3000,
  registry: 3001,
  identity: 3002,
  executor: 3003,
  audit: 3004,
  platform: 3000,
};

const path = process.argv[2] ?? '/health/live';
const port = process.env.PORT?.trim() || DEFAULT_PORTS[process.env.APP ?? ''] || 3000;

try {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(3000),
  });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
