export * from './ids.js';
export * from './clock.js';
export * from './errors.js';
export * from './address.js';
export * from './verdict.js';
