import type { z } from 'zod';

/** Request and reply schema of one RPC subject. */
export interface RpcContract<
  Request extends z.ZodType = z.ZodType,
  Reply extends z.ZodType = z.ZodType,
> {
  readonly request: Request;
  readonly reply: Reply;
}

/** Declares an RPC contract. */
export function rpc<Request extends z.ZodType, Reply extends z.ZodType>(
  request: Request,
  reply: Reply,
): RpcContract<Request, Reply> {
  return { request, reply };
}
