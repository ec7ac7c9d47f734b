#!/usr/bin/env node
// Regenerates the expected columns of the semver case files from npm's
// node-semver 7, so every expectation is node's real answer.
//
//   node tests/unit/cases/regen.js [--check] [CASES_DIR]
//
// semver is loaded from $SEMVER_PATH, else /tmp/ns/node_modules/semver, else
// require('semver') (install with: npm install --prefix /tmp/ns semver@7).
// Each file keeps its comments and input columns; the expected columns are
// recomputed and written back (--check only reports lines that would change
// and exits 1). A block that starts with a comment line beginning
// "# hand-written" and runs to the next blank line is kept verbatim: those are
// hoist's own extensions, which node rejects.
//
// Field escapes (shared with test_semver.c): \s space, \t tab, \n newline,
// \r carriage return, \\ backslash, \xHH a byte; a field that is exactly ""
// is the empty string. Files are UTF-8.
'use strict'
const fs = require('fs')
const path = require('path')

function loadSemver () {
  const tries = [process.env.SEMVER_PATH, '/tmp/ns/node_modules/semver', 'semver']
  for (const p of tries) {
    if (!p) continue
    try { return require(p) } catch (e) { /* next */ }
  }
  throw new Error('node-semver not found; npm install --prefix /tmp/ns semver@7')
}
const semver = loadSemver()

function unescape (f) {
  if (f === '""') return ''
  const bytes = []
  for (let i = 0; i < f.length; i++) {
    const c = f[i]
    if (c !== '\\' || i + 1 >= f.length) { bytes.push(...Buffer.from(c, 'utf8')); continue }
    const e = f[++i]
    if (e === 's') bytes.push(0x20)
    else if (e === 't') bytes.push(0x09)
    else if (e === 'n') bytes.push(0x0a)
    else if (e === 'r') bytes.push(0x0d)
    else if (e === '\\') bytes.push(0x5c)
    else if (e === 'x') { bytes.push(parseInt(f.substr(i + 1, 2), 16)); i += 2 } else throw new Error(`bad escape \\${e} in ${f}`)
  }
  return Buffer.from(bytes).toString('utf8')
}

function escape (s) {
  if (s === '') return '""'
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    const code = c.charCodeAt(0)
    if (c === '\\') out += '\\\\'
    else if (c === '\t') out += '\\t'
    else if (c === '\n') out += '\\n'
    else if (c === '\r') out += '\\r'
    else if (c === ' ' && (i === 0 || i === s.length - 1)) out += '\\s'
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0')
    else out += c
  }
  return out
}

function opts (flags) {
  if (!/^(-|[lpr]+)$/.test(flags)) throw new Error(`bad flags field '${flags}'`)
  return { loose: flags.includes('l'), includePrerelease: flags.includes('p'), rtl: flags.includes('r') }
}

const full = (v) => v.version + (v.build.length ? '+' + v.build.join('.') : '')
const nul = (x) => (x === null ? 'null' : x)

// file -> [number of input columns, (inputs) -> expected columns]
const SPECS = {
  'parse.txt': [2, ([f, s]) => {
    const v = semver.parse(s, opts(f))
    return v ? [v.version, full(v)] : ['invalid', 'invalid']
  }],
  'compare.txt': [3, ([f, a, b]) => [String(semver.compare(a, b, opts(f))), String(semver.compareBuild(a, b, opts(f)))]],
  'satisfies.txt': [3, ([f, v, r]) => [String(semver.satisfies(v, r, opts(f)))]],
  'inc.txt': [5, ([f, v, rel, id, base]) => {
    const b = base === '-' ? undefined : base === 'false' ? false : Number(base)
    return [nul(semver.inc(v, rel, opts(f), id === '-' ? undefined : id, b))]
  }],
  'diff.txt': [2, ([a, b]) => [nul(semver.diff(a, b))]],
  'coerce.txt': [2, ([f, s]) => { const v = semver.coerce(s, opts(f)); return [v ? full(v) : 'null'] }],
  'clean.txt': [2, ([f, s]) => [nul(semver.clean(s, opts(f)))]],
  'valid_range.txt': [2, ([f, r]) => { const x = semver.validRange(r, opts(f)); return [x === null ? 'invalid' : x] }],
  'min_version.txt': [2, ([f, r]) => {
    let m
    try { m = semver.minVersion(r, opts(f)) } catch (e) { return ['invalid'] }
    return [m ? m.version : 'null']
  }]
}

function main () {
  const args = process.argv.slice(2)
  const check = args[0] === '--check'
  if (check) args.shift()
  const dir = args[0] || __dirname
  let changed = 0
  for (const [file, [nin, fn]] of Object.entries(SPECS)) {
    const p = path.join(dir, file)
    if (!fs.existsSync(p)) continue
    const lines = fs.readFileSync(p, 'utf8').split('\n')
    let hand = false
    const out = lines.map((line, i) => {
      if (line.trim() === '') { hand = false; return line }
      if (line.startsWith('#')) { if (line.startsWith('# hand-written')) hand = true; return line }
      if (hand) return line
      const fields = line.split('\t')
      if (fields.length < nin) throw new Error(`${file}:${i + 1}: needs ${nin} input columns`)
      const inputs = fields.slice(0, nin)
      const next = inputs.concat(fn(inputs.map(unescape)).map(escape)).join('\t')
      if (next !== line) {
        changed++
        if (check) console.log(`${file}:${i + 1}: ${line}\n  node: ${next}`)
      }
      return next
    })
    if (!check) fs.writeFileSync(p, out.join('\n'))
  }
  if (check && changed) { console.log(`${changed} lines differ from node-semver ${semverVersion()}`); process.exit(1) }
  if (!check) console.log(`${changed} lines updated`)
}
main()

function semverVersion () {
  try { return require(path.join(require.resolve('/tmp/ns/node_modules/semver'), '..', 'package.json')).version } catch (e) { return '7' }
}
