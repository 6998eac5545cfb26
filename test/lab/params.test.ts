// Params, sweeps and --where as pure functions: the syntax, the product's order, typed values, the record check.
import t from 'tap'
import { expandSweep, paramEnv, paramSpec, paramsFile, parseParams, sweepSize, withoutParams, MAX_SWEEP } from '../../src/lab/params.ts'
import { matchesWhere, parseWhere } from '../../src/lab/where.ts'
import { checkParams, paramEnvName, paramValue, typedParams, MAX_PARAMS } from '../../src/store/params.ts'
import { dict } from '../../src/store/safe-json.ts'

const invalid = (t: any, fn: () => unknown, re: RegExp, what: string) => t.throws(fn, { code: 'Invalid', message: re }, what)

t.test('parseParams: NAME=VALUE, comma lists, \\, and \\\\ escapes', async t => {
  t.same(parseParams(['lr=1e-3']), { lr: ['1e-3'] })
  t.same(parseParams(['lr=1e-3,3e-4', 'wd=0,0.1']), { lr: ['1e-3', '3e-4'], wd: ['0', '0.1'] })
  t.same(parseParams(['name=a\\,b']), { name: ['a,b'] }, 'an escaped comma is part of the value')
  t.same(parseParams(['p=C:\\x\\\\,y']), { p: ['C:\\x\\', 'y'] }, '\\\\ is one backslash; any other backslash is itself')
  t.same(parseParams(['eq=a=b']), { eq: ['a=b'] }, 'the name ends at the first =')
  t.same(parseParams(['empty=']), { empty: [''] }, 'one empty value is a value')
  t.same(parseParams(['lr=1e-3, 3e-4 ', 'msg= a b ']), { lr: ['1e-3', '3e-4'], msg: ['a b'] }, 'spaces around values are dropped')
  t.same(parseParams(['s=a\\, b']), { s: ['a, b'] }, 'spaces inside a value stay')
  t.same(parseParams(['__proto__=1', 'constructor=2']), Object.assign(Object.create(null), { ['__proto__']: ['1'], constructor: ['2'] }))
  invalid(t, () => parseParams(['lr']), /--param "lr": give NAME=VALUE/, 'no =')
  invalid(t, () => parseParams(['1lr=3']), /"1lr" is not a param name/, 'a digit first')
  invalid(t, () => parseParams(['l r=3']), /not a param name/, 'a space')
  invalid(t, () => parseParams(['=3']), /not a param name/, 'no name')
  invalid(t, () => parseParams(['x'.repeat(65) + '=1']), /not a param name/, 'a long name')
  invalid(t, () => parseParams(['lr=1', 'lr=2']), /lr is given twice: list several values in one/, 'a name twice')
  invalid(t, () => parseParams(['lr=1,,2']), /an empty value in the list/, 'an empty item')
  invalid(t, () => parseParams(['lr=1,']), /an empty value in the list/, 'a trailing comma')
  invalid(t, () => parseParams(['lr=1,1']), /listed twice/, 'a value twice')
  invalid(t, () => parseParams(['x.y=1', 'X_Y=2']), /"X_Y" and "x.y" are both LAB_PARAM_X_Y/, 'one variable for two names')
  invalid(t, () => parseParams(['v=' + 'x'.repeat(1025)]), /longer than 1024/, 'a long value')
  invalid(t, () => parseParams(['v=a\nb']), /control character/, 'a newline')
  invalid(t, () => parseParams(['v=a\u0000b']), /control character/, 'a NUL')
  invalid(t, () => parseParams(Array.from({ length: MAX_PARAMS + 1 }, (_, i) => `p${i}=1`)), /more than 100 params/, 'too many')
  const big = ['a=' + Array.from({ length: 40 }, (_, i) => i).join(','), 'b=' + Array.from({ length: 30 }, (_, i) => i).join(',')]
  invalid(t, () => parseParams(big), new RegExp(`would queue 1200 experiments; at most ${MAX_SWEEP}`), 'a sweep too large')
  t.throws(() => parseParams(['bad'], 'Lab-Param:'), { message: /^Lab-Param: "bad"/ }, 'errors name the source given')
})

t.test('paramSpec checks what a caller built (hooks, API) as parseParams checks its own', async t => {
  t.same(paramSpec({ lr: 0.001, wd: [0, '0.1'] }), { lr: ['0.001'], wd: ['0', '0.1'] })
  invalid(t, () => paramSpec({ 'a b': 1 }), /not a param name/, 'a bad name')
  invalid(t, () => paramSpec({ a: [] }), /no values/, 'no values')
  invalid(t, () => paramSpec({ a: [1, '1'] }), /listed twice/, 'duplicates')
})

t.test('expandSweep: the product, the first param varying slowest', async t => {
  const spec = parseParams(['lr=1e-3,3e-4,1e-4', 'wd=0,0.1'])
  t.equal(sweepSize(spec), 6)
  t.same(expandSweep(spec), [
    { lr: '1e-3', wd: '0' }, { lr: '1e-3', wd: '0.1' }, { lr: '3e-4', wd: '0' },
    { lr: '3e-4', wd: '0.1' }, { lr: '1e-4', wd: '0' }, { lr: '1e-4', wd: '0.1' },
  ])
  t.same(expandSweep(parseParams([])), [{}], 'no params: one experiment')
  const proto = expandSweep(parseParams(['__proto__=1,2']))
  t.equal(proto.length, 2)
  t.ok(Object.hasOwn(proto[1], '__proto__'), '__proto__ stays an own key')
  t.equal(Object.getPrototypeOf(proto[1]), Object.prototype, 'and sets no prototype')
})

t.test('typed values, the environment and the file', async t => {
  for (const [text, v] of [['3', 3], ['-0.5', -0.5], ['.5', 0.5], ['1e-3', 0.001], ['+2E6', 2e6], ['007', 7]] as const) t.equal(paramValue(text), v, text)
  for (const text of ['0x10', 'Infinity', 'NaN', '1_000', ' 3', '3 ', '1e400', '', 'adam', '1.2.3']) t.equal(paramValue(text), text, JSON.stringify(text))
  t.equal(paramEnvName('lr'), 'LAB_PARAM_LR')
  t.equal(paramEnvName('opt.beta-1'), 'LAB_PARAM_OPT_BETA_1')
  const params = Object.assign(dict<string>(), { lr: '1e-3', opt: 'adam', ['__proto__']: 'x' })
  t.same(paramEnv(params), { LAB_PARAM_LR: '1e-3', LAB_PARAM_OPT: 'adam', LAB_PARAM___PROTO__: 'x' }, 'the env gets the text as given')
  t.equal(paramsFile(params), '{"lr":0.001,"opt":"adam","__proto__":"x"}\n', 'the file the typed values, __proto__ a key')
  t.same(typedParams(dict()), {})
  t.same(withoutParams({ PATH: '/bin', LAB_PARAM_LR: '1', LAB_PARAMS: '/x', LAB_EXPERIMENT: 'e' }), { PATH: '/bin', LAB_EXPERIMENT: 'e' })
})

t.test('checkParams: what a record may hold', async t => {
  t.equal(checkParams(undefined), null)
  t.equal(checkParams({ lr: '1', constructor: 'x', ['__proto__']: 'y' }), null)
  t.equal(checkParams(JSON.parse('{"__proto__":"y","toString":"z"}')), null, 'parsed __proto__ and toString are ordinary names')
  t.match(checkParams([]), /not an object/)
  t.match(checkParams('lr=1'), /not an object/)
  t.match(checkParams({ lr: 1 }), /"lr" is not a string/)
  t.match(checkParams({ lr: { a: 1 } }), /not a string/)
  t.match(checkParams({ '$(x)': '1' }), /not a param name/)
  t.match(checkParams({ lr: 'a\u0000' }), /control character/)
  t.match(checkParams({ LR: '1', lr: '2' }), /both LAB_PARAM_LR/)
  t.match(checkParams(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, '1']))), /more than 100/)
})

t.test('--where: the grammar and how it compares', async t => {
  t.same(parseWhere('lr<0.01'), { name: 'lr', op: '<', value: '0.01', num: 0.01 })
  t.same(parseWhere(' wd = 0 '), { name: 'wd', op: '=', value: '0', num: 0 })
  t.same(parseWhere('opt==adam'), { name: 'opt', op: '=', value: 'adam', num: null }, '== is =')
  t.same(parseWhere('val/loss>=0.3'), { name: 'val/loss', op: '>=', value: '0.3', num: 0.3 }, 'metric names with / need no quoting')
  t.same(parseWhere('name!='), { name: 'name', op: '!=', value: '', num: null })
  for (const bad of ['lr', '<3', 'lr<', 'lr<abc', 'lr<<3', 'lr<=>3', 'opt>adam', 'x'.repeat(201) + '=1']) t.throws(() => parseWhere(bad), { code: 'Invalid' }, bad)
  const p = Object.assign(dict<string>(), { lr: '1e-3', opt: 'adam', seed: '007' })
  const m = Object.assign(dict<number>(), { loss: 0.25, lr: 5 })
  const ok = (expr: string) => matchesWhere(parseWhere(expr), p, m)
  t.ok(ok('lr<0.01'))
  t.ok(ok('lr=0.001'), 'numbers compare as numbers')
  t.ok(ok('lr=1e-3'))
  t.notOk(ok('lr>1'), 'a param comes before a metric of the same name')
  t.ok(ok('seed=7'))
  t.ok(ok('opt=adam'))
  t.ok(ok('opt!=sgd'))
  t.notOk(ok('opt<3'), 'text never compares by order')
  t.ok(ok('loss<=0.25'))
  t.notOk(ok('loss<0.25'))
  t.notOk(ok('missing=1'), 'without the name nothing matches')
  t.notOk(ok('missing!=1'), 'not even !=')
  t.notOk(ok('toString=1'), 'no prototype lookups')
  t.notOk(matchesWhere(parseWhere('constructor!=1'), {}, {}), 'no prototype lookups in plain objects either')
  t.notOk(matchesWhere(parseWhere('lr<1'), undefined, undefined))
})
