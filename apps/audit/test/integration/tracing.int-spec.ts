import { startTelemetry } from '@tengine/telemetry';

import { startHarness, type AuditHarness } from '../support/audit-harness.js';
import { runOwner, runPair } from '../support/run-events.js';

const telemetry = startTelemetry({ serviceName: 'audit-test', inMemory: true });

describe('trace of a Run through audit', () => {
  let harness: AuditHarness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
    await telemetry.shutdown();
  });

  it('should record each event in a span of the executor’s trace and log with run_id and trace_id', async () => {
    const audit = await harness.startAudit();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const executorSpanId = 'b7ad6b7169203331';
    const [started, succeeded] = runPair('succeeded', runOwner());
    const traced = { ...succeeded, traceId };
    await harness.publish(
      { ...started, traceId },
      {
        traceparent: `00-${traceId}-${executorSpanId}-01`,
      },
    );
    await harness.publish(traced, { traceparent: `00-${traceId}-${executorSpanId}-01` });
    await harness.eventually(async () => {
      const rows = await harness.sql.query<{ status: string }>(
        'SELECT status FROM audit.runs WHERE run_id = $1',
        [traced.runId],
      );
      return rows.rows[0]?.status === 'succeeded';
    });

    const rows = await harness.sql.query<{ trace_id: string }>(
      'SELECT trace_id FROM audit.runs WHERE run_id = $1',
      [traced.runId],
    );
    expect(rows.rows[0]?.trace_id).toBe(traceId);

    const spans = (telemetry.memoryExporter?.getFinishedSpans() ?? []).filter(
      (span) =>
        span.name === 'audit.run.record' && span.attributes['tengine.run.id'] === traced.runId,
    );
    expect(spans.length).toBeGreaterThanOrEqual(1);
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe(traceId);
      expect(span.parentSpanContext?.spanId).toBe(executorSpanId);
      expect(span.attributes['tengine.project.id']).toBe(traced.projectId);
    }

    const recorded = audit.logs
      .lines()
      .filter((line) => line['msg'] === 'run event recorded' && line['run_id'] === traced.runId);
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    for (const line of recorded) expect(line['trace_id']).toBe(traceId);
    await audit.close();
  });
});
