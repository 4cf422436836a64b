import { startTelemetryFromEnv } from '@tengine/telemetry';

startTelemetryFromEnv('identity');
