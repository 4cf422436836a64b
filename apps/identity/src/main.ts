import './telemetry.js';

import { runBackendMain } from '@tengine/runtime';

import { identityService, IDENTITY_DEFAULT_PORT } from './identity.definition.js';

void runBackendMain(identityService, IDENTITY_DEFAULT_PORT, process.env);
