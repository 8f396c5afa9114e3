export { loadAdminFiles, startAdminListener, type AdminDeps, type AdminFiles, type AdminListener, type AdminOptions } from './server.js';
export { SECURITY_HEADERS } from './app.js';
