import type { ServerResponse } from 'node:http';

import type { CredentialRevokedEvent, Principal } from '@tengine/contracts';

/** How often an idle stream gets a comment line, so proxies keep it open and dead peers are found. */
const KEEPALIVE_MS = 15_000;

interface OpenStream {
  readonly response: ServerResponse;
  readonly principal: Principal;
  readonly projectId: string;
  readonly sessionId: string | undefined;
  readonly keepalive: NodeJS.Timeout;
}

/**
 * The MCP GET (SSE) streams open on this replica. Tool changes are pushed to every stream of the
 * project as `notifications/tools/list_changed`; a revoked credential's streams are closed.
 */
export class StreamRegistry {
  private readonly streams = new Set<OpenStream>();

  constructor(private readonly maxStreams: number) {}

  get size(): number {
    return this.streams.size;
  }

  /** Opens an SSE stream on `response`; false when this replica is at its stream limit. */
  open(
    response: ServerResponse,
    principal: Principal,
    projectId: string,
    sessionId: string | undefined,
  ): boolean {
    if (this.streams.size >= this.maxStreams) return false;
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    });
    response.write(': tengine stream open\n\n');
    const stream: OpenStream = {
      response,
      principal,
      projectId,
      sessionId,
      keepalive: setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS),
    };
    stream.keepalive.unref();
    this.streams.add(stream);
    response.on('close', () => this.forget(stream));
    return true;
  }

  /** Tells every open stream of the project that its tool list changed. */
  notifyToolsChanged(projectId: string): number {
    let sent = 0;
    const frame = `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })}\n\n`;
    for (const stream of this.streams) {
      if (stream.projectId !== projectId) continue;
      stream.response.write(frame);
      sent += 1;
    }
    return sent;
  }

  /** Closes the streams of a revoked credential. */
  closeRevoked(event: CredentialRevokedEvent): number {
    let closed = 0;
    for (const stream of [...this.streams]) {
      const { principal } = stream;
      if (principal.kind === 'admin') continue;
      const hit =
        event.kind === 'api_key'
          ? principal.keyId === event.keyId
          : principal.kind === 'member_session' && principal.sessionId === event.sessionId;
      if (hit) {
        this.close(stream);
        closed += 1;
      }
    }
    return closed;
  }

  /** Closes the streams of one MCP session (DELETE /mcp). */
  closeSession(sessionId: string): void {
    for (const stream of [...this.streams]) if (stream.sessionId === sessionId) this.close(stream);
  }

  closeAll(): void {
    for (const stream of [...this.streams]) this.close(stream);
  }

  private close(stream: OpenStream): void {
    this.forget(stream);
    stream.response.end();
  }

  private forget(stream: OpenStream): void {
    clearInterval(stream.keepalive);
    this.streams.delete(stream);
  }
}
