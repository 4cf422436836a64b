import { Inject, Injectable } from '@nestjs/common';

import { parseRpcRequest, type RpcReply, type RpcSubject } from '@tengine/contracts';
import type { MessageBus } from '@tengine/messaging';
import { MESSAGE_BUS } from '@tengine/runtime';

/** The JSON body of a request as a plain object (anything else becomes `{}` and fails validation). */
export function bodyObject(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

/**
 * Validates a management request against the subject's contract at the edge (422 naming each bad
 * field, nothing sent) and forwards it to the owning service.
 */
@Injectable()
export class Forwarder {
  constructor(@Inject(MESSAGE_BUS) private readonly bus: MessageBus) {}

  send<S extends RpcSubject>(subject: S, payload: unknown): Promise<RpcReply<S>> {
    return this.bus.request(subject, parseRpcRequest(subject, payload));
  }
}
