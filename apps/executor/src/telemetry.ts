import { startTelemetryFromEnv } from '@tengine/telemetry';

startTelemetryFromEnv('executor');
