import { startTelemetryFromEnv } from '@tengine/telemetry';

startTelemetryFromEnv('gateway');
