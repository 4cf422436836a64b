import './telemetry.js';

import { runBackendMain } from '@tengine/runtime';

import { executorService, EXECUTOR_DEFAULT_PORT } from './executor.definition.js';

void runBackendMain(executorService, EXECUTOR_DEFAULT_PORT, process.env);
