export { configSchema, listenerPorts, type Config, type ListenerPort } from './schema.js';
export { parseConfig, loadConfig, formatConfigErrors, listenPort, type ConfigError, type ConfigResult } from './load.js';
export { renderConfigTemplate, type TemplateOptions } from './template.js';
export { crlDistributionPoint, MTA_STS_MAX_AGE_LIMIT } from './public-https.js';
