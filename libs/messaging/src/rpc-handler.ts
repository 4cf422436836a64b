import type { PipeTransform } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';

import { parseRpcRequest, type RpcRequest, type RpcSubject } from '@tengine/contracts';

/** Validates a request payload against its subject's contract; a bad payload is `VALIDATION_FAILED`. */
export class ContractPipe<S extends RpcSubject> implements PipeTransform<unknown, RpcRequest<S>> {
  constructor(private readonly subject: S) {}

  transform(value: unknown): RpcRequest<S> {
    return parseRpcRequest(this.subject, value);
  }
}

/** Marks a controller method as the handler of an RPC subject. */
export function RpcHandler(subject: RpcSubject): MethodDecorator {
  return MessagePattern(subject);
}

/** Injects the request payload, validated against the subject's contract. */
export function RpcPayload(subject: RpcSubject): ParameterDecorator {
  return Payload(new ContractPipe(subject));
}
