import './telemetry.js';

import { ConfigError, loadEnv } from '@tengine/config';
import { exitWithError, handleShutdown } from '@tengine/runtime';
import { createLogger } from '@tengine/telemetry';

import { GATEWAY_ENV } from './env.schema.js';
import { startGateway } from './gateway.js';

async function main(): Promise<void> {
  const env = loadEnv(GATEWAY_ENV, process.env);
  if (!env.NATS_URL) {
    throw new ConfigError(
      'The gateway runs on its own only with NATS_URL set. For a single-process platform with embedded defaults, run npm start.',
    );
  }
  const logger = createLogger({ service: 'gateway', level: env.LOG_LEVEL });
  const gateway = await startGateway({
    transport: { kind: 'nats', url: env.NATS_URL, subjectPrefix: env.NATS_SUBJECT_PREFIX },
    port: env.PORT,
    host: env.HOST,
    logger,
    rpcTimeoutMs: env.RPC_TIMEOUT_MS,
    environment: process.env,
    bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
    mcp: {
      allowedOrigins: env.TENGINE_MCP_ALLOWED_ORIGINS,
      maxStreams: env.MCP_MAX_STREAMS,
      perPrincipalConcurrency: env.MCP_PRINCIPAL_CONCURRENCY,
      perProjectConcurrency: env.MCP_PROJECT_CONCURRENCY,
    },
  });
  handleShutdown(logger, env.SHUTDOWN_GRACE_MS, () => gateway.close());
}

main().catch(exitWithError);
