import { ErrorCode, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** A JSON-RPC error reply with no request id (transport-level refusals). */
export function rpcErrorBody(
  code: number,
  message: string,
  data?: Record<string, unknown>,
): Record<string, unknown> {
  return { jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id: null };
}

/** The depth of nested arrays/objects, stopping early once past `limit`. */
export function nestingDepth(value: unknown, limit: number, depth = 0): number {
  if (depth > limit || typeof value !== 'object' || value === null) return depth;
  let deepest = depth;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    deepest = Math.max(deepest, nestingDepth(child, limit, depth + 1));
    if (deepest > limit) break;
  }
  return deepest;
}

/** A JSON-RPC request (has an id) as opposed to a notification or response. */
export type JsonRpcRequest = Extract<JSONRPCMessage, { id: string | number; method: string }>;

export function isRequest(message: JSONRPCMessage): message is JsonRpcRequest {
  return 'method' in message && 'id' in message;
}

export { ErrorCode };
