export { startAdminListener, type AdminDeps, type AdminListener, type AdminOptions } from './server.js';
export { SECURITY_HEADERS } from './app.js';
