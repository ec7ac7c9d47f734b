'use strict'
// Differential test, node side: generates random and adversarial semver inputs with a fixed seed,
// asks npm's node-semver 7 for its answers and writes one JSON case per line for check.lua.
// usage: node gen_and_node.js PATH/TO/node_modules/semver OUT.jsonl [SEED]
//
// A case line is {"f": FUNCTION, "a": [ARGS in hoist's order], "o": OPTS, "r": ANSWER, "err": true}:
//   f    the hoist.semver function name (parse, valid, clean, coerce, compare, ...)
//   a    its arguments; null stands for an absent argument (Lua nil)
//   o    hoist's opts ({loose, include_prerelease, rtl}, or true meaning loose); absent: no opts
//   r    node's answer, null for node's null; parse gives
//        {major, minor, patch, prerelease, build, version, str} (str: tostring, with the build)
//   err  node threw: hoist must raise (compare, compare_build, diff, sort, rsort)
// Mapping node -> hoist: inc(v, rel, undefined, id, base) -> semver.inc(v, rel, id, base);
// coerce/minVersion return SemVer objects: the answer is their .version. minVersion throws on an
// invalid range where hoist's contract says nil, so that answer is null. latest is not in node:
// its answer is maxSatisfying(tags, range || '*', opts), which is what DESIGN.md describes.
// Allowed differences are not generated: digit runs worth >= 2^53-1 (the allowed range for
// hoist to reject or compare exactly) and commas inside ranges (hoist's comma-AND form).

const fs = require('fs')
const semver = require(process.argv[2])
const out = process.argv[3]
const SEED = Number(process.argv[4] || process.env.SEED || 20240611)
if (!semver || !out) {
  console.error('usage: node gen_and_node.js PATH/TO/node_modules/semver OUT.jsonl [SEED]')
  process.exit(2)
}

// ---- deterministic randomness (mulberry32) ----
let seedState = SEED >>> 0
const rnd = () => {
  seedState = (seedState + 0x6D2B79F5) | 0
  let t = Math.imul(seedState ^ (seedState >>> 15), 1 | seedState)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const int = n => Math.floor(rnd() * n)
const pick = a => a[int(a.length)]
const chance = p => rnd() < p
const times = (n, f) => { const r = []; for (let i = 0; i < n; i++) r.push(f(i)); return r }

// ---- allowed differences: filtered out ----
const LIMIT = 9007199254740991n // 2^53-1: numbers from here on may be rejected or exact in hoist
const bigDigitRun = (s, maxRun) => {
  for (const m of String(s).matchAll(/[0-9]+/g)) {
    const d = m[0].replace(/^0+/, '')
    if (maxRun && m[0].length > maxRun) continue // coerce cannot take runs this long
    if (d.length > 16 || (d.length === 16 && BigInt(d) >= LIMIT)) return true
  }
  return false
}

// ---- building blocks ----
const BIG = ['9007199254740990', '9007199254740989', '4294967295', '4294967296', '2147483647',
  '2147483648', '18446744073', '999999999999999', '1000000000000000', '9007199254740000']
const num = () => {
  const r = rnd()
  if (r < 0.5) return String(int(4))
  if (r < 0.72) return String(int(20))
  if (r < 0.82) return String(int(1000))
  if (r < 0.92) return pick(['00', '01', '007', '000', '010', '0'])
  return pick(BIG)
}
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-'
const alnum = n => {
  let s = ''
  for (let i = 0; i < n; i++) s += ALNUM[int(ALNUM.length)]
  return /[^0-9]/.test(s) ? s : s + 'z'
}
const WORDS = ['alpha', 'beta', 'rc', 'pre', 'dev', 'x', 'X', 'a', 'b', '0a', 'a0', '1a', '-', '--',
  'a-b', '-1', '1-', 'RC', 'Alpha', 'beta-1', 'snapshot', 'z', 'next', 'canary', '0-0', '00a']
const preId = () => {
  const r = rnd()
  if (r < 0.38) return String(int(5))
  if (r < 0.72) return pick(WORDS)
  if (r < 0.80) return pick(['00', '01', '0001', '010'])
  if (r < 0.85) return pick(BIG)
  if (r < 0.88) return ''
  if (r < 0.95) return alnum(1 + int(12))
  return alnum(40 + int(210))
}
const buildId = () => {
  const r = rnd()
  if (r < 0.3) return pick(['build', 'sha', 'exp', 'meta', 'x-y', '-', 'B'])
  if (r < 0.55) return String(int(100))
  if (r < 0.7) return pick(['001', '00', '0', '20130313144700', '0x1f'])
  if (r < 0.75) return ''
  if (r < 0.95) return alnum(1 + int(10))
  return alnum(40 + int(200))
}
const ids = (f, max) => times(1 + int(max), f).join('.')
const WS = [' ', '  ', '\t', ' \t', '\n', '\r\n', '\v', '\f']
const GARBAGE = ' !"#$%&\'()*+-./:;<=>?@[\\]^_`{|}~abcxXvV0123456789\t'
// rare non-ASCII: node treats the Unicode spaces as whitespace (\s, trim), C code may not
const UNICODE = ['é', '\u00a0', '\u3000', '\u2028', '\ufeff', '١', '０', 'ß']
const garbageChar = noComma => {
  if (chance(0.03)) return pick(UNICODE)
  const c = GARBAGE[int(GARBAGE.length)]
  return noComma && c === ',' ? ';' : c
}
const mutate = (s, noComma) => {
  const n = 1 + int(2)
  for (let k = 0; k < n; k++) {
    const i = int(s.length + 1)
    const r = rnd()
    if (r < 0.4) s = s.slice(0, i) + garbageChar(noComma) + s.slice(i)
    else if (r < 0.7) s = s.slice(0, i) + s.slice(i + 1)
    else s = s.slice(0, i) + garbageChar(noComma) + s.slice(i + 1)
  }
  return s
}

const version = () => {
  let s = ''
  if (chance(0.22)) {
    s += pick(['v', '=', 'V', 'v=', '=v', '==', 'vv', ' ', '\t', '  v', ' = ', 'v ', '= ', '\n', 'v\t'])
  }
  const r = rnd()
  const nparts = r < 0.78 ? 3 : r < 0.86 ? 2 : r < 0.92 ? 1 : r < 0.97 ? 4 : 0
  s += times(nparts, () => (chance(0.04) ? pick(['x', 'X', '*', '']) : num())).join('.')
  if (chance(0.38)) s += pick(['-', '-', '-', '-', '', '.', '--', '+']) + ids(preId, 4)
  if (chance(0.2)) s += '+' + ids(buildId, 3)
  if (chance(0.08)) s += pick(WS)
  if (chance(0.07)) s = mutate(s, false)
  return s
}

// the semver.org examples and other known edge cases
const FIXED_VERSIONS = ['', ' ', '1', '1.2', '1.2.3', 'v1.2.3', '=1.2.3', 'v 1.2.3', '= 1.2.3',
  ' 1.2.3 ', '\t1.2.3\t', '01.2.3', '1.02.3', '1.2.03', '1.2.3-01', '1.2.3-0', '1.2.3-0a', '1.2.3-a.0',
  '1.2.3beta', '1.2.3-beta', '1.2.3-beta+build', '1.2.3+build', '1.2.3+build.001', '1.2.3+', '1.2.3-',
  '1.2.3-+b', '1.2.3-a..b', '1.2.3.4', '1.2.3-beta.1.2', '1.2.3--', '1.2.3---', '1.2.3-a-b',
  '1.2.3-alpha.-1', 'x.y.z', '1.x.3', '1.2.x', '*', 'latest', '^1.2.3', '~1.2.3', '>1.2.3',
  '1.2.3 - 2.0.0', '1.2.3 || 2.0.0', '9007199254740990.0.0', '0.9007199254740990.9007199254740990',
  '0.0.0', '0.0.0-0', 'V1.2.3', 'vv1.2.3', '==1.2.3', 'v=1.2.3', '=v1.2.3', '1.2.3 ', '1.2.3\n',
  '\n1.2.3', '\r\n1.2.3\r\n', '\v1.2.3\f', '1.2.3-beta.01', '1.2.3-beta.00', '1.2.3-beta.0.1', '1.2.3-1',
  '1.2.3-1.2.3', '1.0.0-alpha.beta', '1.0.0-rc.1+build.1', '2.0.0-rc.1+build.123', '1.2.3-é',
  '1.2.3 foo', 'a1.2.3', '1.2.3a', '1.2.3-a+b+c', '1.2.3+b-c', '1.2.3+-', '1.2.3-DEV-SNAPSHOT',
  '1.2.3-SNAPSHOT-123', '1.0.0-0.3.7', '1.0.0-x.7.z.92', '1.0.0-x-y-z.--',
  '1.2.3----RC-SNAPSHOT.12.9.1--.12+788', '1.2.3----R-S.12.9.1--.12+meta', '1.2.3-0123',
  '1.2.3-0123.0123', '1.1.2+.123', '+invalid', '-invalid', '-invalid+invalid', '-invalid.01', 'alpha',
  'alpha.beta', 'alpha.1', 'alpha+beta', 'alpha_beta', 'alpha.', '1.0.0-alpha_beta', '1.0.0-alpha..',
  '1.0.0-alpha..1', '1.0.0-alpha...1', '01.1.1', '1.01.1', '1.1.01', '1.2.3.DEV', '1.2-SNAPSHOT',
  '1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788', '1.2-RC-SNAPSHOT', '-1.0.3-gamma+b7718',
  '+justmeta', '9.8.7+meta+meta', '9.8.7-whatever+meta+meta', '1.0.0+0.build.1-rc.10000aaa-kk-0.1',
  '1.0.0-alpha+beta', '1.2.3-rc1', '1.2.3rc1', '1.2.3-r.c.1', '1.2.3.rc.1', '1.2.3-RC.1',
  '1.2.3-0.0', '1.2.3-00', '1.2.3-0-0', '1.2.3-1.0a', '1.2.3 -beta', '1.2.3- beta', '1 .2.3', '1. 2.3',
  '1.2.3+build with space', 'v1.2.3-beta.2+b', 'v01.02.03-04', '=01.02.03beta.04+05', '  =v1.2.3beta  ',
  '1.2.3-beta.x.1', '1.2.3-beta.X', '1.2.3-x', '1.2.3-x.x', '10.20.30', '1.1.2-prerelease+meta',
  '1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay', '2.0.1-alpha.1227', '1.0.0-beta',
  '1.0.0-alpha0.valid', '1.0.0-alpha.0valid', '1.0.0-rc.1+build.123', '1.2.3-beta+build.1848']

// lengths around node's MAX_LENGTH (256), counted before trimming
const lengthCases = () => {
  const r = []
  for (let L = 250; L <= 262; L++) {
    r.push('1.2.3-' + 'a'.repeat(L - 6))
    r.push('1.2.3+' + 'b'.repeat(L - 6))
    r.push('1.2.3' + ' '.repeat(L - 5))
    r.push(' '.repeat(L - 5) + '1.2.3')
    r.push('v1.2.3-' + 'x'.repeat(L - 9) + '.1')
    r.push('1.2.3-' + 'a'.repeat(120) + '.' + 'b'.repeat(L - 127))
    r.push('1.2.3-a+' + 'c'.repeat(L - 8))
  }
  return r
}

const COERCE_FIXED = ['v3.4 beta', '3.4.5.6', '1.2.3.4.5', 'a1b2c3', 'version 1 and 2',
  '12345678901234567.1.2', '1234567890123456', '123456789012345', '1.2.3-rc.1+b', 'v1.2.3-beta.1+sha',
  'x1.2.3-pre', '1.2.3.4-rc.5', 'abc', '', '.1', '1.', '1..2', '0000001', '  2  ', 'foo10.11.12-pre.1+bar baz',
  '1.2.3-', '10.20.30.40.50', '1.2.3.4-rc', '4.6.3.9.2-alpha2', '1.2.3.4.5.6-rc.7+b', 'v2', 'v2.3',
  '=3', '2.3.4-beta.1.2.3.4', '11111111111111111.2.3', '1.11111111111111111.3', '1.2.11111111111111111',
  '1.2.3.4.5.6.7.8.9', '1.2.3-rc.1-rc.2', 'a.b.c.1.2', '1-2-3', '1_2_3', '1.2.3+build.4.5.6',
  '1.2.3.4+build', '99999.99999.99999', '1.2.3beta', '1.2.3-beta.', '-1.2.3', '0.0.0-0', '1.2.3 - 4.5.6',
  '>=1.2.3', '^4.5', 'version: 10.11.12-rc.0+exp.sha.5114f85', '1.2.3.4-', '1.2.3.4-.', '1.2-rc.1',
  '1-rc.1', '1.2.3-rc.1.2.3.4.5', '0001.0002.0003']
const coerceInput = () => {
  const r = rnd()
  if (r < 0.5) return version()
  let s = ''
  const n = 1 + int(8)
  for (let i = 0; i < n; i++) {
    const k = rnd()
    if (k < 0.35) s += num()
    else if (k < 0.55) s += '.'
    else if (k < 0.65) s += pick(['-', '+', ' ', 'v', '\t'])
    else if (k < 0.8) s += pick(WORDS)
    else if (k < 0.9) s += pick(['1234567890123456', '12345678901234567', '99999999999999'])
    else s += garbageChar(false)
  }
  return s
}

// ---- ranges ----
const partial = () => {
  let s = ''
  if (chance(0.08)) s += pick(['v', '=', 'v=', ' v'])
  const r = rnd()
  const nparts = r < 0.55 ? 3 : r < 0.78 ? 2 : r < 0.96 ? 1 : 4
  const parts = times(nparts, () => (chance(0.15) ? pick(['x', 'X', '*']) : num()))
  s += parts.join('.')
  if (nparts >= 3 && chance(0.25)) s += pick(['-', '-', '-', '']) + ids(preId, 2)
  if (chance(0.06)) s += '+' + ids(buildId, 2)
  return s
}
const OPS = ['', '', '', '=', '<', '<=', '>', '>=', '^', '^', '~', '~', '~>', '<', '>=']
const BAD_OPS = ['==', '=>', '=<', '!', '<>', '>>', '~^', '^~', '!=', '~=', '^^']
const comparator = () => {
  const op = chance(0.05) ? pick(BAD_OPS) : pick(OPS)
  const sp = chance(0.2) ? pick([' ', '  ', '\t', ' \t']) : ''
  return op + sp + partial()
}
const SPECIAL_SETS = ['', '*', 'x', 'X', '>=0.0.0', '>=0.0.0-0', '<0.0.0-0', '>=*', '<*', '>*', '<=*',
  '~*', '^*', 'latest', '=*', '>= *', '*.*.*', 'x.x.x', '>x', '<x.x', '~', '^', '>', '<=', '~>',
  '1.x.x', '1.*', '1.X', '1.2.*', '*.2.3', 'x.2', '1.x.3']
const compSet = () => {
  const r = rnd()
  if (r < 0.07) return pick(SPECIAL_SETS)
  if (r < 0.2) {
    return partial() + pick([' - ', ' - ', '  -  ', '\t-\t', ' -', '- ', '-', ' - - ']) + partial()
  }
  return times(1 + int(3), comparator).join(pick([' ', ' ', '  ', '\t', ' \t ']))
}
const range = () => {
  let s = times(chance(0.7) ? 1 : 2 + int(2), compSet)
    .join(pick(['||', ' || ', ' || ', '  ||  ', '|| ', '\t||\t', '|', '|||', ' ||| ']))
  if (chance(0.06)) s = pick(WS) + s
  if (chance(0.06)) s += pick(WS)
  if (chance(0.06)) s += ' ||'
  if (chance(0.06)) s = mutate(s, true)
  return s
}
const FIXED_RANGES = ['1.0.0 - 2.0.0', '^1.2.3+build', '1.2.3pre+asdf - 2.4.3-pre+asdf', '1.0.0',
  '>=*', '', '*', '>=1.0.0', '>1.0.0', '<=2.0.0', '1', '<2.0.0', '>= 1.0.0', '>=  1.0.0', '>=   1.0.0',
  '> 1.0.0', '>  1.0.0', '<=   2.0.0', '<= 2.0.0', '<=  2.0.0', '<    2.0.0', '<\t2.0.0', '>=0.1.97',
  '0.1.20 || 1.2.4', '>=0.2.3 || <0.0.1', '||', '2.x.x', '1.2.x', '1.2.x || 2.x', 'x', '2.*.*', '1.2.*',
  '1.2.* || 2.*', '2', '2.3', '~2.4', '~>3.2.1', '~1', '~>1', '~> 1', '~1.0', '~ 1.0', '^0', '^ 1',
  '^0.1', '^1.0', '^1.2', '^0.0.1', '^0.0.1-beta', '^0.1.2', '^1.2.3', '^1.2.3-beta.4', '<1', '< 1',
  '>=1', '>= 1', '<1.2', '< 1.2', '1', '~v0.5.4-pre', '~v0.5.4-pre', '=0.7.x', '<=0.7.x', '>=0.7.x',
  '<=7.x', '~1.2.1 >=1.2.3', '~1.2.1 =1.2.3', '~1.2.1 1.2.3', '~1.2.1 >=1.2.3 1.2.3', '>=1.2.1 1.2.3',
  '1.2.3 >=1.2.1', '>=1.2.3 >=1.2.1', '>=1.2.1 >=1.2.3', '>=1.2', '>1', '>1.2', '>01.02.03',
  '~1.2.3beta', '^ 1.2 ^ 1', '1.2 - 3.4.5', '1.2.3 - 3.4', '1.2 - 3.4', '>1', '>=1.0.0 <2.0.0-0',
  '<0.0.0-0', '>=0.0.0-0', '>=0.0.0', '~0.0.1', '^0.0.1-0', '<1.2.3-beta', '1.2.3-beta || 2', '>=1.2.3-0',
  '>1.2.3-beta.1 <1.2.4', '=1.2.3', '== 1.2.3', '>=v1.2.3', '>=v 1.2.3', '>=1.2.3 || ', '  ||  ',
  'a || b', '1.2.3 || invalid', 'invalid || 1.2.3', '1.x.x || 3.2.1 - 4.5.6', '~2.3.0 || >=10.0.0 <11.0.0-0',
  '^1.2.3 >=1.2.5-pre', '>=1.2.3-alpha <1.2.3-beta', '1.2.3 - *', '* - 1.2.3', '1.x - 2.x', 'x - 1',
  '~1.2.3-beta.2', '^0.0.0', '^0.0', '^0', '~0', '~0.0', '>=09.1.2', '1.2.03', '>=1.2.3 <1.2.3',
  '>1.2.3 <1.2.3', '<=1.2.3 >=1.2.3', '1.2.3 - 1.2.3', '>=1.0.0 <1.0.0 || >=2.0.0', '^1.2.3 || <0.0.0-0',
  '*1.2.3', '1.2.3*', '>=1.2.3\n<2.0.0', '>=1.2.3\r\n||\r\n<1.0.0', '~>1.2', '~> 1.2.3 ', '^*', '~x',
  '>=x.2.3', '<=1.x.3', '1.2.3 - 1.2.3-beta', '1.2.3-beta - 1.2.3', '1.2.3-beta+b - 1.2.3-rc+c']

// token soup: random sequences of the pieces ranges are made of, for the tokenizer's corners
const RANGE_TOKENS = ['>', '<', '=', '>=', '<=', '~', '~>', '^', ' ', ' ', '  ', '\t', 'v', 'V', '1', '0', '2',
  '01', '1.2', '1.2.3', '0.0.0', '3.4.5', '.', '.', '-', ' - ', '-beta', '-0', '-alpha.1', '+b', '+build.01',
  'x', 'X', '*', '||', ' || ', '|', 'a', '9', '10.20.30', 'beta', '-rc.1+b']
const VERSION_TOKENS = ['1', '0', '01', '00', '2', '19', '.', '.', '.', '-', '--', '+', 'v', '=', ' ', '\t',
  'a', 'beta', 'x', 'X', '*', '0a', 'rc.1', '-0', '+b', '.1', 'A-', '9', '10']
const soup = (tokens, n) => times(1 + int(n), () => pick(tokens)).join('')
const UNICODE_VERSIONS = ['\u00a01.2.3', '1.2.3\u00a0', '\ufeff1.2.3', '1.2.3\u3000', '\u20281.2.3\u2029',
  'v\u00a01.2.3', '=\u20031.2.3', '1.2.3-beta\u00a0']
const UNICODE_RANGES = ['>=1.2.3\u00a0<2.0.0', '\u00a0^1.2.3', '1.2.3\u2028||\u20282.0.0', '>=\u00a01.2.3',
  '~\u30001.2', '1.2.3\u00a0-\u00a02.0.0', '^1.2.3\ufeff', '>1.0.0\u2003<=2.0.0']

// versions near the numbers a range mentions, so satisfies sees both sides of each bound
const nearVersion = rng => {
  const m = [...rng.matchAll(/(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?/g)]
  if (!m.length || chance(0.15)) return version()
  const g = pick(m)
  const jig = x => {
    const n = Number(x || 0)
    const r = rnd()
    return String(r < 0.5 ? n : r < 0.7 ? n + 1 : r < 0.85 ? Math.max(0, n - 1) : int(3))
  }
  let s = `${jig(g[1])}.${jig(g[2])}.${jig(g[3])}`
  if (chance(0.35)) s += '-' + pick(['0', 'alpha', 'beta.2', 'pre', 'rc.1', 'beta', 'beta.4', 'a.b'])
  if (chance(0.08)) s += '+b'
  if (chance(0.1)) s = pick(['v', '=', ' ', 'v ', '']) + s
  if (chance(0.05)) s = s.replace('-', '')
  return s
}

// ---- collecting cases ----
const lines = []
const seen = new Set()
let skipped = 0
const add = (f, a, o, answer) => {
  const c = { f, a }
  if (o !== undefined) c.o = o
  if (answer.err) c.err = true
  else c.r = answer.r === undefined ? null : answer.r
  const line = JSON.stringify(c)
  if (!seen.has(line)) { seen.add(line); lines.push(line) }
}
const run = fn => {
  try { return { r: fn() } } catch (e) { return { err: true } }
}
const nodeOpts = o => (o === true ? true : o === undefined ? undefined
  : { loose: o.loose, includePrerelease: o.include_prerelease, rtl: o.rtl })
const luaOpts = (loose, incPre, rtl) => {
  // absent, or a table with explicit falses, or (loose only) the boolean shorthand
  if (!loose && !incPre && !rtl && chance(0.5)) return undefined
  if (loose && !incPre && !rtl && chance(0.15)) return true
  const o = {}
  if (loose || chance(0.3)) o.loose = !!loose
  if (incPre || chance(0.3)) o.include_prerelease = !!incPre
  if (rtl || chance(0.2)) o.rtl = !!rtl
  return o
}
const semverAnswer = v => (v === null ? null : {
  major: v.major,
  minor: v.minor,
  patch: v.patch,
  prerelease: v.prerelease,
  build: v.build,
  version: v.version,
  str: v.version + (v.build.length ? '+' + v.build.join('.') : ''),
})
const anyBig = (xs, maxRun) => xs.some(x => typeof x === 'string' && bigDigitRun(x, maxRun))

// version pool
const versions = [...FIXED_VERSIONS, ...UNICODE_VERSIONS, ...lengthCases(), ...times(3500, version),
  ...times(800, () => soup(VERSION_TOKENS, 10))]
  .filter(v => !bigDigitRun(v) || (skipped++, false))
const validStrict = versions.filter(v => semver.valid(v) !== null)
const validLoose = versions.filter(v => semver.valid(v, true) !== null)

for (const v of versions) {
  for (const loose of [false, true]) {
    const o = luaOpts(loose)
    add('parse', [v], o, run(() => semverAnswer(semver.parse(v, nodeOpts(o)))))
    const o2 = luaOpts(loose)
    add('valid', [v], o2, run(() => semver.valid(v, nodeOpts(o2))))
    const o3 = luaOpts(loose)
    add('clean', [v], o3, run(() => semver.clean(v, nodeOpts(o3))))
  }
}

// coerce
const coerceInputs = [...COERCE_FIXED, ...versions.slice(0, 800), ...times(2500, coerceInput)]
for (const s of coerceInputs) {
  if (bigDigitRun(s, 16)) { skipped++; continue }
  for (const rtl of [false, true]) {
    for (const incPre of [false, true]) {
      const o = luaOpts(false, incPre, rtl)
      add('coerce', [s], o, run(() => {
        const v = semver.coerce(s, nodeOpts(o))
        return v === null ? null : v.version
      }))
    }
  }
}

// compare, compare_build, diff on pairs: mostly valid versions sharing parts, some invalid
const related = pool => {
  const a = pick(pool)
  if (chance(0.3)) return [a, pick(pool)]
  const p = semver.parse(a, true)
  const main = `${p.major}.${chance(0.7) ? p.minor : int(3)}.${chance(0.7) ? p.patch : int(3)}`
  let b = main
  const r = rnd()
  if (r < 0.25) b += '-' + p.prerelease.join('.')
  else if (r < 0.6) b += '-' + ids(preId, 3)
  else if (r < 0.7 && p.prerelease.length) b += '-' + p.prerelease.concat([pick(['0', '1', 'a'])]).join('.')
  if (b.endsWith('-')) b = b.slice(0, -1)
  if (chance(0.3)) b += '+' + ids(buildId, 2)
  if (chance(0.1)) b = a + (a.includes('+') ? '' : '+' + buildId())
  if (chance(0.1)) b = 'v' + b
  return chance(0.5) ? [a, b] : [b, a]
}
const FIXED_PAIRS = [['1.2.3+0.29', '1.2.3+00'], ['1.2.3+01', '1.2.3+1'], ['1.2.3+1.b', '1.2.3+01.a'],
  ['1.2.3+0', '1.2.3+00.1'], ['1.2.3-1+01', '1.2.3-1+1.x'], ['1.2.3', 'v1.2.3'], ['1.2.3+b', '1.2.3+B'],
  ['1.2.3-a', '1.2.3-A'], ['1.2.3-1', '1.2.3-a'], ['1.2.3-2', '1.2.3-10'], ['1.2.3-a.2', '1.2.3-a.10'],
  ['1.2.3-a', '1.2.3-a.0'], ['1.0.0-alpha', '1.0.0-alpha.1'], ['1.0.0-alpha.1', '1.0.0-alpha.beta'],
  ['1.0.0-alpha.beta', '1.0.0-beta'], ['1.0.0-beta.2', '1.0.0-beta.11'], ['1.0.0-rc.1', '1.0.0'],
  ['1.2.3-a-', '1.2.3-a'], ['1.2.3--', '1.2.3-0'], ['1.2.3-Z', '1.2.3-a'], ['1.2.3+a', '1.2.3'],
  ['1.2.3+a.b', '1.2.3+a'], ['1.2.3+9', '1.2.3+10'], ['1.2.3+9', '1.2.3+a'], ['0.0.0-0', '0.0.0'],
  ['1.2.3-beta.01', '1.2.3-beta.1'], ['1.2.3-0x', '1.2.3-0'], ['1.2.3-beta', '1.2.3beta']]
for (const [a, b] of FIXED_PAIRS) {
  for (const [x, y] of [[a, b], [b, a]]) {
    for (const loose of [false, true]) {
      add('compare', [x, y], { loose }, run(() => semver.compare(x, y, loose)))
      add('compare_build', [x, y], { loose }, run(() => semver.compareBuild(x, y, loose)))
      add('sort', [[x, y, x]], { loose }, run(() => semver.sort([x, y, x], loose)))
      add('rsort', [[x, y, x]], { loose }, run(() => semver.rsort([x, y, x], loose)))
    }
    add('diff', [x, y], undefined, run(() => semver.diff(x, y)))
  }
}
for (let i = 0; i < 4000; i++) {
  const loose = chance(0.35)
  let [a, b] = related(loose ? validLoose : validStrict)
  if (chance(0.06)) a = pick(versions)
  if (chance(0.06)) b = pick(versions)
  if (anyBig([a, b])) { skipped++; continue }
  const o = luaOpts(loose)
  add('compare', [a, b], o, run(() => semver.compare(a, b, nodeOpts(o))))
  const o2 = luaOpts(loose)
  add('compare_build', [a, b], o2, run(() => semver.compareBuild(a, b, nodeOpts(o2))))
  if (!loose || chance(0.2)) add('diff', [a, b], undefined, run(() => semver.diff(a, b)))
}

// ranges
const ranges = [...FIXED_RANGES, ...UNICODE_RANGES, ...times(2500, range),
  ...times(1000, () => soup(RANGE_TOKENS, 9)),
  // long ranges: many sets, many comparators, long runs of whitespace
  ...times(6, () => times(40 + int(120), compSet).join(pick(['||', ' || ']))),
  ...times(4, () => times(30 + int(60), comparator).join(' ')),
  ' '.repeat(1000) + '1.2.3' + '\t'.repeat(500), '>=' + ' '.repeat(300) + '1.2.3',
  '1.2.3 ' + '|| '.repeat(400) + '2.0.0'].filter(r => !r.includes(','))
  .filter(r => !bigDigitRun(r) || (skipped++, false))
for (const r of ranges) {
  for (const loose of [false, true]) {
    for (const incPre of [false, true]) {
      const o = luaOpts(loose, incPre)
      add('valid_range', [r], o, run(() => semver.validRange(r, nodeOpts(o))))
      const o2 = luaOpts(loose, incPre)
      const mv = run(() => {
        try {
          const v = semver.minVersion(r, nodeOpts(o2))
          return v === null ? null : v.version
        } catch (e) {
          if (e instanceof TypeError && semver.validRange(r, nodeOpts(o2)) === null) return null
          throw e
        }
      })
      add('min_version', [r], o2, mv)
    }
  }
  // satisfies: several versions per range
  for (let k = 0; k < 6; k++) {
    const v = nearVersion(r)
    if (bigDigitRun(v)) { skipped++; continue }
    const o = luaOpts(chance(0.3), chance(0.3))
    add('satisfies', [v, r], o, run(() => semver.satisfies(v, r, nodeOpts(o))))
  }
}

// max_satisfying, min_satisfying, latest over small lists
const validRanges = ranges.filter(r => semver.validRange(r, true) !== null)
for (let i = 0; i < 2500; i++) {
  const r = chance(0.85) ? pick(validRanges) : pick(ranges)
  const list = times(int(7), () => (chance(0.6) ? nearVersion(r) : pick(versions)))
  if (list.length > 1 && chance(0.3)) list.push(list[0].trim() + (chance(0.5) ? '+dup' : ''))
  if (list.length > 1 && chance(0.2)) list.push('v' + list[1].trim())
  if (anyBig(list)) { skipped++; continue }
  const o = luaOpts(chance(0.3), chance(0.3))
  add('max_satisfying', [list, r], o, run(() => semver.maxSatisfying(list, r, nodeOpts(o))))
  const o2 = luaOpts(chance(0.3), chance(0.3))
  add('min_satisfying', [list, r], o2, run(() => semver.minSatisfying(list, r, nodeOpts(o2))))
  if (i % 4 === 0 && semver.validRange(r, nodeOpts(o)) !== null) {
    const noRange = chance(0.3)
    add('latest', [list, noRange ? null : r], o,
      run(() => semver.maxSatisfying(list, noRange ? '*' : r, nodeOpts(o))))
  }
}

// inc: every release type, with and without identifier and identifier base
const RELEASES = ['major', 'minor', 'patch', 'premajor', 'preminor', 'prepatch', 'prerelease', 'release']
const IDENTS = [null, null, 'beta', 'alpha.1', 'rc', '', '01', 'a..b', 'beta.1', '1', '0', 'x-y', 'beta!',
  'alpha.beta', 'pre.0', '-']
const BASES = [null, null, '0', '1', false]
const incVersions = [...validStrict.slice(0, 150), ...times(600, () => pick(validStrict)),
  ...times(150, () => pick(versions)),
  '1.2.3', '1.2.3-beta', '1.2.3-beta.1', '1.2.3-beta.x', '1.2.3-1', '1.2.3-alpha.1.beta', '1.0.0-0',
  '0.0.0', '1.2.0-beta', '1.0.0', '1.2.3-0', '1.2.3-alpha.9', '1.2.3+build', '1.2.3-beta.1+build',
  'v1.2.3', '1.2.3-beta.01x', '9007199254740990.0.0', '1.2.3-9007199254740990']
for (const v of incVersions) {
  for (const rel of RELEASES) {
    const combos = [[null, null], [pick(IDENTS), pick(BASES)]]
    if (rel.startsWith('pre')) combos.push([pick(IDENTS), pick(BASES)], [null, pick(BASES)])
    for (const [id, base] of combos) {
      const a = [v, rel]
      if (id !== null || base !== null) a.push(id)
      if (base !== null) a.push(base)
      add('inc', a, undefined, run(() => semver.inc(v, rel, undefined,
        id === null ? undefined : id, base === null ? undefined : base)))
    }
  }
}

// sort, rsort: equal elements must keep their order (node's Array.prototype.sort is stable)
for (let i = 0; i < 1200; i++) {
  const loose = chance(0.3)
  const pool = loose ? validLoose : validStrict
  const list = times(int(9), () => pick(pool))
  const n = list.length
  for (let k = 0; k < n; k += 3) {
    const p = semver.parse(list[k], loose)
    const r = rnd()
    if (p.version.length > 240) continue
    if (r < 0.3) list.push('v' + p.version)
    else if (r < 0.5) list.push(p.version + '+b.' + int(3))
    else if (r < 0.7) list.push(' ' + p.version)
    else if (r < 0.8) list.push(p.version + '+' + int(3))
  }
  if (chance(0.05) && list.length >= 1) list.push(pick(versions))
  if (anyBig(list)) { skipped++; continue }
  const o = luaOpts(loose)
  add('sort', [list], o, run(() => semver.sort(list.slice(), nodeOpts(o))))
  const o2 = luaOpts(loose)
  add('rsort', [list], o2, run(() => semver.rsort(list.slice(), nodeOpts(o2))))
}

fs.writeFileSync(out, lines.join('\n') + '\n')
const pkg = require(require('path').join(process.argv[2], 'package.json'))
console.log(`gen_and_node: ${lines.length} cases from node-semver ${pkg.version}, seed ${SEED}` +
  ` (${skipped} inputs skipped: numbers >= 2^53-1)`)
