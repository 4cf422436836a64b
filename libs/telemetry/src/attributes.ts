/**
 * Span and log attribute keys used by tengine. One registry, so dashboards and tests agree.
 * Never put secrets, credentials or raw tool arguments in an attribute.
 */
export const Attributes = {
  /** The tengine service a span belongs to (several may share one process in embedded mode). */
  SERVICE: 'tengine.service',
  /** The Run a span belongs to. Every span of a tool call carries it. */
  RUN_ID: 'tengine.run.id',
  PROJECT_ID: 'tengine.project.id',
  TOOL_NAME: 'mcp.tool.name',
  /** The NATS subject of a request or event. */
  MESSAGING_DESTINATION: 'messaging.destination.name',
  MESSAGING_SYSTEM: 'messaging.system',
  MESSAGING_OPERATION: 'messaging.operation.type',
  ERROR_TYPE: 'error.type',
} as const;
