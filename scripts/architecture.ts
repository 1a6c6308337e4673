// The architecture, read from the code: which folder of src/ imports which (from the import
// lines, through the TypeScript parser), imports that point up the layering, files over the size
// limit, and the longest functions. `node dist/scripts/architecture.js` prints the report;
// test/architecture.test.ts fails on any violation, so the layering stays what the README says.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/**
 * The rooms of src/, lowest first: a module may import from its own room or from rooms listed
 * before it, never after. `index.ts`/`version.ts` at the top of src/ are the package's face.
 */
export const LAYERS = [
  'util',
  'vfs',
  'api',
  'fuse',
  'text',
  'model',
  'store',
  'events',
  'handlers',
  'replica',
  'namespace',
  'net',
  'mirror',
  'node',
  'daemon',
  'client',
  'cli',
] as const

/** Rooms that may import only some of the lower ones (the rest of the house is not theirs to use). */
export const ONLY: Record<string, readonly string[]> = {
  api: [],
  client: ['api', 'util'],
  cli: ['api', 'client', 'daemon', 'util'],
}

/** A source file longer than this is a sign that it holds more than one job. */
export const MAX_FILE_LINES = 400

export interface ImportEdge {
  from: string
  to: string
  file: string
  spec: string
}

export interface FunctionSize {
  file: string
  name: string
  lines: number
}

const here = path.dirname(fileURLToPath(import.meta.url))
/** The repository root, from src (scripts/) or from dist (dist/scripts/). */
export const REPO = fs.existsSync(path.join(here, '..', 'package.json')) ? path.resolve(here, '..') : path.resolve(here, '../..')

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) walk(p, out)
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** The room of a file under src/: its first folder, or '.' for files at the top. */
function roomOf(srcRelative: string): string {
  const parts = srcRelative.split('/')
  return parts.length > 1 ? parts[0]! : '.'
}

export function sourceFiles(root = REPO): string[] {
  return walk(path.join(root, 'src')).sort()
}

/** Every relative import of every file of src/, as folder-to-folder edges. */
export function importEdges(root = REPO): ImportEdge[] {
  const src = path.join(root, 'src')
  const edges: ImportEdge[] = []
  for (const file of sourceFiles(root)) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
    const from = roomOf(path.relative(src, file))
    const specs: string[] = []
    for (const st of sf.statements) {
      if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
        specs.push(st.moduleSpecifier.text)
      }
    }
    const visit = (n: ts.Node): void => {
      if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const a = n.arguments[0]
        if (a && ts.isStringLiteral(a)) specs.push(a.text)
      }
      ts.forEachChild(n, visit)
    }
    visit(sf)
    for (const spec of specs) {
      if (!spec.startsWith('.')) continue
      const target = path.relative(src, path.resolve(path.dirname(file), spec))
      edges.push({ from, to: target.startsWith('..') ? '(outside src)' : roomOf(target), file: path.relative(root, file), spec })
    }
  }
  return edges
}

/** Why an edge breaks the layering, or undefined if it is allowed. */
export function violation(e: ImportEdge): string | undefined {
  if (e.from === e.to) return undefined
  if (e.to === '(outside src)') return 'imports from outside src/'
  if (e.from === '.') return undefined
  const rank = (r: string): number => (LAYERS as readonly string[]).indexOf(r)
  if (rank(e.from) < 0) return `room ${e.from} is not in the layering (scripts/architecture.ts LAYERS)`
  if (e.to === '.') return e.spec.endsWith('version.js') ? undefined : 'imports the package face (src/index.ts)'
  if (rank(e.to) < 0) return `room ${e.to} is not in the layering`
  const only = ONLY[e.from]
  if (only && !only.includes(e.to)) return `${e.from} may import only ${only.join(', ') || 'nothing of src/'}`
  if (rank(e.to) > rank(e.from)) return `points up: ${e.from} is below ${e.to}`
  return undefined
}

export function matrix(edges: ImportEdge[]): Map<string, Map<string, number>> {
  const m = new Map<string, Map<string, number>>()
  for (const e of edges) {
    if (e.from === e.to) continue
    const row = m.get(e.from) ?? new Map<string, number>()
    row.set(e.to, (row.get(e.to) ?? 0) + 1)
    m.set(e.from, row)
  }
  return m
}

export function fileSizes(root = REPO): { file: string; lines: number }[] {
  return sourceFiles(root)
    .map((f) => ({ file: path.relative(root, f), lines: fs.readFileSync(f, 'utf8').split('\n').length - 1 }))
    .sort((a, b) => b.lines - a.lines)
}

/** Functions, methods and arrow functions of src/, by their length in lines. */
export function functionSizes(root = REPO): FunctionSize[] {
  const out: FunctionSize[] = []
  for (const file of sourceFiles(root)) {
    const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
    const visit = (n: ts.Node, owner: string): void => {
      let name: string | undefined
      if (ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n) || ts.isConstructorDeclaration(n) || ts.isGetAccessor(n)) {
        name = ts.isConstructorDeclaration(n) ? 'constructor' : (n.name?.getText(sf) ?? '(anonymous)')
      } else if ((ts.isArrowFunction(n) || ts.isFunctionExpression(n)) && ts.isVariableDeclaration(n.parent)) {
        name = n.parent.name.getText(sf)
      }
      if (name !== undefined) {
        const start = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line
        const end = sf.getLineAndCharacterOfPosition(n.getEnd()).line
        out.push({ file: path.relative(root, file), name: owner ? `${owner}.${name}` : name, lines: end - start + 1 })
      }
      const nextOwner = ts.isClassDeclaration(n) && n.name ? n.name.text : owner
      ts.forEachChild(n, (c) => visit(c, nextOwner))
    }
    visit(sf, '')
  }
  return out.sort((a, b) => b.lines - a.lines)
}

function report(): void {
  const edges = importEdges()
  const m = matrix(edges)
  const rooms = [...new Set([...m.keys(), ...[...m.values()].flatMap((r) => [...r.keys()])])].sort(
    (a, b) => (LAYERS as readonly string[]).indexOf(a) - (LAYERS as readonly string[]).indexOf(b),
  )
  console.log('## Imports between rooms (row imports column; counts of import lines)\n')
  console.log(`| from \\ to | ${rooms.join(' | ')} |`)
  console.log(`| --- | ${rooms.map(() => '---:').join(' | ')} |`)
  for (const r of rooms) console.log(`| ${r} | ${rooms.map((c) => m.get(r)?.get(c) ?? '').join(' | ')} |`)
  const bad = edges.filter((e) => violation(e))
  console.log(`\n## Imports against the layering: ${bad.length}\n`)
  for (const e of bad) console.log(`- ${e.file}: '${e.spec}' (${violation(e)})`)
  console.log(`\n## Largest files (limit ${MAX_FILE_LINES} lines)\n`)
  for (const f of fileSizes().slice(0, 12)) console.log(`- ${f.lines} ${f.file}`)
  console.log('\n## Longest functions\n')
  for (const f of functionSizes().slice(0, 12)) console.log(`- ${f.lines} ${f.file} ${f.name}`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) report()
