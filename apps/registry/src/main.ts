import './telemetry.js';

import { runBackendMain } from '@tengine/runtime';

import { registryService, REGISTRY_DEFAULT_PORT } from './registry.definition.js';

void runBackendMain(registryService, REGISTRY_DEFAULT_PORT, process.env);
