import { startTelemetryFromEnv } from '@tengine/telemetry';

startTelemetryFromEnv('registry');
