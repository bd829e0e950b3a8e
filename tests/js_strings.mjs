// Every string literal and template text in the given JS files, with where it
// sits, for tests/test_i18n.py: [{file, line, text, callee, key}].
// `callee`: the function it is a direct argument of (e.g. "t", "console.warn", "Error");
// `key`: true when it is a property name or an import source.
import { readFileSync } from 'node:fs';
import * as espree from 'espree';

const out = [];
const calleeName = (node) => {
  if (!node) return null;
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression') return `${calleeName(node.object)}.${node.property.name ?? ''}`;
  return null;
};

for (const file of process.argv.slice(2)) {
  const source = readFileSync(file, 'utf8');
  const ast = espree.parse(source, { ecmaVersion: 'latest', sourceType: 'module', loc: true });
  /** The function `node` is a direct argument of (a literal, or a template literal's text), else null. */
  const argumentOf = (node, parent) =>
    (parent?.type === 'CallExpression' || parent?.type === 'NewExpression') && parent.arguments.includes(node)
      ? calleeName(parent.callee)
      : null;
  const walk = (node, parent, grandparent) => {
    if (!node || typeof node.type !== 'string') return;
    const key = (parent?.type === 'Property' && parent.key === node && !parent.computed)
      || parent?.type === 'ImportDeclaration' || parent?.type === 'ExportAllDeclaration';
    if (node.type === 'Literal' && typeof node.value === 'string') {
      out.push({ file, line: node.loc.start.line, text: node.value, callee: argumentOf(node, parent), key: !!key });
    }
    if (node.type === 'TemplateElement') {
      out.push({ file, line: node.loc.start.line, text: node.value.cooked ?? '', callee: argumentOf(parent, grandparent), key: false });
    }
    for (const [k, v] of Object.entries(node)) {
      if (k === 'parent' || k === 'loc') continue;
      if (Array.isArray(v)) v.forEach((c) => walk(c, node, parent));
      else if (v && typeof v.type === 'string') walk(v, node, parent);
    }
  };
  walk(ast, null, null);
}
process.stdout.write(JSON.stringify(out));
