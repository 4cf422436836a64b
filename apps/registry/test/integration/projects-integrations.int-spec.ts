import { randomUUID } from 'node:crypto';

import { Subjects, type IntegrationDeletedEvent } from '@tengine/contracts';
import type { RunningService } from '@tengine/runtime';
import { waitUntil } from '@tengine/testing';

import {
  expectError,
  newProject,
  registryHarness,
  rejectionOf,
  type RegistryHarness,
} from './registry-harness.js';

const anyText: unknown = expect.any(String);

describe('projects and integrations over NATS', () => {
  let harness: RegistryHarness;
  let registry: RunningService;

  beforeAll(async () => {
    harness = await registryHarness();
    registry = await harness.start();
  });

  afterAll(() => harness.close());

  it('should create, read and page through projects', async () => {
    const created = await registry.bus.request(Subjects.registry.projectCreate, {
      name: '  Production shop ',
      environment: 'production',
    });
    expect(created).toEqual({
      id: anyText,
      name: 'Production shop',
      environment: 'production',
      created_at: anyText,
    });
    await expect(
      registry.bus.request(Subjects.registry.projectGet, { projectId: created.id }),
    ).resolves.toEqual(created);
    for (const name of ['second', 'third']) await newProject(registry, name);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await registry.bus.request(Subjects.registry.projectList, {
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((project) => project.id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen[0]).toBe(created.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(3);
  });

  it('should answer 404 for an unknown project and 422 for an unknown cursor', async () => {
    await expectError(
      registry.bus.request(Subjects.registry.projectGet, { projectId: randomUUID() }),
      'REGISTRY_PROJECT_NOT_FOUND',
      'Project not found',
    );
    const error = await rejectionOf(
      registry.bus.request(Subjects.registry.projectList, { cursor: randomUUID() }),
    );
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details?.['issues']).toEqual([{ path: 'cursor', message: 'unknown cursor' }]);
    const badEnvironment = await rejectionOf(
      registry.bus.request(Subjects.registry.projectCreate, {
        name: 'x',
        environment: 'staging' as 'production',
      }),
    );
    expect(badEnvironment.details?.['issues']).toEqual([
      expect.objectContaining({ path: 'environment' }),
    ]);
  });

  it("should manage a project's integrations and announce deletions", async () => {
    const projectId = await newProject(registry);
    const deletions: IntegrationDeletedEvent[] = [];
    const stop = registry.bus.subscribe(Subjects.registry.integrationDeleted, (event) =>
      deletions.push(event),
    );
    try {
      const desktop = await registry.bus.request(Subjects.registry.integrationCreate, {
        projectId,
        kind: 'claude_desktop',
        name: 'Support desk',
      });
      expect(desktop).toEqual({
        id: anyText,
        project_id: projectId,
        kind: 'claude_desktop',
        name: 'Support desk',
        created_at: anyText,
      });
      const sdk = await registry.bus.request(Subjects.registry.integrationCreate, {
        projectId,
        kind: 'sdk',
        name: 'Backend',
      });
      await expect(
        registry.bus.request(Subjects.registry.integrationList, { projectId }),
      ).resolves.toEqual({ items: [desktop, sdk] });
      await expect(
        registry.bus.request(Subjects.registry.integrationDelete, {
          projectId,
          integrationId: desktop.id,
        }),
      ).resolves.toEqual({ deleted: true });
      await waitUntil(() => Promise.resolve(deletions.length === 1), 5_000, 20);
      expect(deletions).toEqual([{ projectId, integrationId: desktop.id }]);
      await expectError(
        registry.bus.request(Subjects.registry.integrationGet, {
          projectId,
          integrationId: desktop.id,
        }),
        'REGISTRY_INTEGRATION_NOT_FOUND',
        'Integration not found',
      );
      await expect(
        registry.bus.request(Subjects.registry.integrationList, { projectId }),
      ).resolves.toEqual({ items: [sdk] });
    } finally {
      stop();
    }
  });

  it("should answer probes of another project's integration exactly like an unknown id", async () => {
    const owner = await newProject(registry, 'Owner');
    const intruder = await newProject(registry, 'Intruder');
    const integration = await registry.bus.request(Subjects.registry.integrationCreate, {
      projectId: owner,
      kind: 'cursor',
      name: 'IDE',
    });
    const answers = async (integrationId: string) =>
      (
        await Promise.all(
          [
            registry.bus.request(Subjects.registry.integrationGet, {
              projectId: intruder,
              integrationId,
            }),
            registry.bus.request(Subjects.registry.integrationDelete, {
              projectId: intruder,
              integrationId,
            }),
          ].map(rejectionOf),
        )
      ).map((error) => ({ code: error.code, message: error.message, details: error.details }));
    expect(await answers(integration.id)).toEqual(await answers(randomUUID()));
    expect((await answers(integration.id))[0]?.code).toBe('REGISTRY_INTEGRATION_NOT_FOUND');
    await expect(
      registry.bus.request(Subjects.registry.integrationList, { projectId: intruder }),
    ).resolves.toEqual({ items: [] });
    await expect(
      registry.bus.request(Subjects.registry.integrationGet, {
        projectId: owner,
        integrationId: integration.id,
      }),
    ).resolves.toEqual(integration);
  });

  it('should refuse an integration in a project that does not exist', async () => {
    await expectError(
      registry.bus.request(Subjects.registry.integrationCreate, {
        projectId: randomUUID(),
        kind: 'custom',
        name: 'x',
      }),
      'REGISTRY_PROJECT_NOT_FOUND',
      'Project not found',
    );
  });

  it('should report its schema with every registry migration applied', async () => {
    const status = await registry.bus.request(Subjects.registry.statusGet, {});
    expect(status.schema).toEqual({
      name: 'registry',
      applied: [
        'BaselineRegistry1763769600000',
        'ProjectsIntegrations1763769600101',
        'Tools1763769600102',
      ],
      pending: [],
    });
  });
});
