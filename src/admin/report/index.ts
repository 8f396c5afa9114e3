export { buildReport, type ReportOptions, type ReportSources } from './build.js';
export { renderText } from './render-text.js';
export { renderJson } from './render-json.js';
export { renderHtml } from './render-html.js';
export { REPORT_SCHEMA, type Report } from './types.js';
