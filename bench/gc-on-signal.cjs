// Loaded into the gateway by the benchmark only (node --expose-gc --require): SIGUSR2 runs a full
// garbage collection, so the memory figures show what is still referenced, not what merely has not
// been collected yet.
if (typeof global.gc === 'function') process.on('SIGUSR2', () => global.gc());
