import type { RunningPlatform } from './platform.js';

/** What `npm start` prints once the platform answers: where to connect and how to authenticate. */
export function startupBanner(platform: RunningPlatform, publicUrl: string): string {
  const lines = [
    '',
    'tengine is running',
    `  MCP endpoint     ${publicUrl}/mcp`,
    `  Management API   ${publicUrl}/api/v1   (status: ${publicUrl}/api/v1/status)`,
    `  Health           ${publicUrl}/health`,
    `  Services         registry, identity, executor, audit, gateway (${platform.transport === 'nats' ? 'over NATS' : 'in-process'})`,
    `  Database         ${platform.database === 'embedded' ? 'embedded PostgreSQL' : 'DATABASE_URL'}`,
  ];
  const { adminToken } = platform;
  if (adminToken.created && adminToken.token) {
    lines.push(
      '',
      '  Admin token (shown once; only its hash is stored, keep it safe):',
      `    ${adminToken.token}`,
      '  Use it as: Authorization: Bearer <token>',
    );
  } else if (adminToken.source === 'environment') {
    lines.push('', '  Admin token: TENGINE_ADMIN_TOKEN from the environment.');
  } else {
    lines.push(
      '',
      '  Admin token: created at first start and shown then. Lost it? Set TENGINE_ADMIN_TOKEN and restart.',
    );
  }
  lines.push('');
  return lines.join('\n');
}
