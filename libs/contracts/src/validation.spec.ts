import { DomainError, domainErrorFromEnvelope, isRpcErrorEnvelope } from './errors.js';
import { STATUS_SUBJECTS, Subjects, isRpcSubject } from './subjects.js';
import { parseRpcReply, parseRpcRequest } from './validation.js';

describe('contract validation', () => {
  it('should accept a request that matches its subject contract', () => {
    expect(parseRpcRequest(Subjects.registry.statusGet, {})).toEqual({});
  });

  it('should refuse unknown fields in a strict request and name them', () => {
    let caught: unknown;
    try {
      parseRpcRequest(Subjects.identity.adminTokenBootstrap, { token: 'x' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DomainError);
    const error = caught as DomainError;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toContain('rpc.identity.admin-token.bootstrap.v1');
    expect(error.message).toContain('token');
    expect(error.details?.['issues']).toEqual([expect.objectContaining({ path: '(root)' })]);
  });

  it('should name the failing field of a reply', () => {
    expect(() =>
      parseRpcReply(Subjects.audit.statusGet, {
        service: 'audit',
        version: '1',
        instance: 'x',
        uptimeSeconds: -1,
        schema: null,
      }),
    ).toThrow(/uptimeSeconds/);
  });

  it('should refuse a reply naming a service that does not exist', () => {
    expect(() =>
      parseRpcReply(Subjects.audit.statusGet, {
        service: 'billing',
        version: '1',
        instance: 'x',
        uptimeSeconds: 1,
        schema: null,
      }),
    ).toThrow(/service/);
  });

  it('should map every backend service to its own status subject', () => {
    expect(Object.values(STATUS_SUBJECTS)).toEqual([
      'rpc.registry.status.get.v1',
      'rpc.identity.status.get.v1',
      'rpc.executor.status.get.v1',
      'rpc.audit.status.get.v1',
    ]);
    for (const subject of Object.values(STATUS_SUBJECTS)) expect(isRpcSubject(subject)).toBe(true);
    expect(isRpcSubject('rpc.registry.nothing.v1')).toBe(false);
  });
});

describe(DomainError.name, () => {
  it('should survive the trip through its wire envelope with code and details', () => {
    const original = new DomainError('RPC_TIMEOUT', 'late', { details: { subject: 's' } });
    const envelope = JSON.parse(JSON.stringify(original.toEnvelope())) as unknown;
    expect(isRpcErrorEnvelope(envelope)).toBe(true);
    const rebuilt = domainErrorFromEnvelope(envelope as ReturnType<DomainError['toEnvelope']>);
    expect(rebuilt).toBeInstanceOf(DomainError);
    expect(rebuilt.code).toBe('RPC_TIMEOUT');
    expect(rebuilt.message).toBe('late');
    expect(rebuilt.details).toEqual({ subject: 's' });
  });

  it('should not take an envelope with an unknown code or no message', () => {
    expect(isRpcErrorEnvelope({ code: 'MADE_UP', message: 'x' })).toBe(false);
    expect(isRpcErrorEnvelope({ code: 'INTERNAL' })).toBe(false);
    expect(isRpcErrorEnvelope('INTERNAL')).toBe(false);
    expect(isRpcErrorEnvelope(null)).toBe(false);
  });
});
