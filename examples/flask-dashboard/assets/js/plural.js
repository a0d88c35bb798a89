// A tiny plural helper, imported by format.js: a module two levels down the import graph.
export function plural(n, one, many) {
  return n === 1 ? one : many;
}
