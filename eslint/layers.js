// Local ESLint rule: imports under src/ may only point to the same or a lower
// layer (docs/architecture.md). Relative specifiers are resolved by path, so no
// module resolver is needed; package imports are checked against a short list of
// drivers that only one folder may use.
import path from 'node:path';

export const LAYERS = {
  core: 0,
  config: 1, codec: 1, crypto: 1, metrics: 1,
  store: 2, net: 2, directory: 2,
  queue: 3, mailbox: 3, policy: 3, integrity: 3,
  smtp: 4, delivery: 4, imap: 4, pop3: 4, admin: 4, probe: 4, alerts: 4, posture: 4, managesieve: 4,
  cli: 5,
};

// Protocol servers never import each other: they meet in queue / mailbox.
const SIBLINGS_FORBIDDEN = new Set(['smtp', 'delivery', 'imap', 'pop3', 'admin', 'managesieve']);

// Packages that only one part of the tree may import.
const DRIVER_OWNERS = {
  'better-sqlite3': 'store/backends/sqlite',
  pg: 'store/backends/postgres',
};

function folderOf(file, srcRoot) {
  const rel = path.relative(srcRoot, file);
  if (rel.startsWith('..')) return null;
  return rel.split(path.sep);
}

export default {
  meta: { type: 'problem', schema: [], messages: { layer: '{{msg}}' } },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const srcRoot = path.resolve(context.cwd ?? process.cwd(), 'src');
    const from = folderOf(file, srcRoot);
    if (!from || from.length < 2) return {};
    const fromTop = from[0];
    const check = (node, spec, typeOnly = false) => {
      if (typeof spec !== 'string') return;
      if (!spec.startsWith('.')) {
        const owner = DRIVER_OWNERS[spec];
        if (owner && !from.join('/').startsWith(owner) && !file.endsWith('.test.ts')) {
          context.report({ node, messageId: 'layer', data: { msg: `only src/${owner} may import ${spec}` } });
        }
        return;
      }
      const target = folderOf(path.resolve(path.dirname(file), spec), srcRoot);
      if (!target || target.length < 2) return;
      const toTop = target[0];
      if (toTop === fromTop) return;
      const a = LAYERS[fromTop];
      const b = LAYERS[toTop];
      if (a === undefined || b === undefined) return;
      if (b > a) {
        context.report({ node, messageId: 'layer', data: { msg: `${fromTop} (L${a}) must not import ${toTop} (L${b})` } });
      } else if (a === b && SIBLINGS_FORBIDDEN.has(fromTop)) {
        context.report({ node, messageId: 'layer', data: { msg: `${fromTop} must not import ${toTop}: they meet in queue/mailbox` } });
      } else if (a === b && !typeOnly && !file.endsWith('.test.ts')) {
        // Peers may share types (e.g. directory uses the store's repository
        // interfaces) but never call each other's code.
        context.report({ node, messageId: 'layer', data: { msg: `${fromTop} must not import its peer layer ${toTop}` } });
      }
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value, n.importKind === 'type'),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
    };
  },
};
