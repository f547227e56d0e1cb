/**
 * Workers bundle only (wrangler.toml [alias]): mailauth loads undici for BIMI certificate downloads,
 * and undici needs node APIs the Workers runtime lacks. The Worker has its own fetch, so this maps
 * undici's two names mailauth uses onto it.
 */
export const fetch: typeof globalThis.fetch = (...args) => globalThis.fetch(...args);
export class Agent {}
