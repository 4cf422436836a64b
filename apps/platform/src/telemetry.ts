import { startTelemetryFromEnv } from '@tengine/telemetry';

startTelemetryFromEnv('platform');
