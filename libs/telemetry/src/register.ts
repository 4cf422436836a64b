import { startTelemetryFromEnv } from './tracing.js';

// Side-effect entry for tools that only need tracing on: `import '@tengine/telemetry/register'`.
startTelemetryFromEnv();
