export * from './types.js';
export { WireResolver, parseServer, type WireResolverOptions } from './wire.js';
export { MemoryResolver, type ZoneEntry } from './memory.js';
export { CachingResolver, type CacheOptions } from './cache.js';
