import { startTelemetryFromEnv } from '@tengine/telemetry';

startTelemetryFromEnv('audit');
