export { createConsoleApp, CONSOLE_CSP, isConsolePath } from './routes.js';
export type { ConsoleDeps } from './context.js';
