// Usage errors across the CLI: one line, exit 2, nothing written; extra arguments and unknown options named as typed.
import t from 'tap'
import { makeRepo, lab, labJson, type TestRepo } from '../helpers.ts'

const refs = (r: TestRepo) => r.git('for-each-ref', '--format=%(objectname) %(refname)', 'refs/lab/')

t.test('every usage error exits 2 with one line and writes nothing', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  const id = (await labJson(r, ['submit', '-m', 'a', '--run', 'echo a'])).id
  const id2 = (await labJson(r, ['submit', '-m', 'b', '--run', 'echo b'])).id
  const idea = (await labJson(r, ['idea', 'new', 'an idea'])).id
  const before = refs(r)
  const cases: Array<[string[], RegExp]> = [
    // extra arguments, and a command that was meant to be one
    [['submit', '-m', 'x', '--run', 'python', 'train.py', '--lr', '3e-4'], /^unexpected argument "train.py": --run takes the whole command as one argument: quote it: --run "python train.py --lr 3e-4"$/],
    [['run', '-m', 'x', '--run', 'python', 'train.py'], /^unexpected argument "train.py": --run .*--run "python train.py"$/],
    [['submit', '-m', 'x', '--run', 'y', '--setup', 'pip', 'install', '-r', 'req.txt'], /^unexpected argument "install": --setup .*--setup "pip install -r req.txt"$/],
    [['submit', '-m', 'x', '--run=python', 'train.py'], /^unexpected argument "train.py": --run .*--run "python train.py"$/],
    [['submit', '-m', 'x', '--run', 'python', '--lr', '3e-4'], /^unknown option "--lr" \(if it belongs to the command, quote the whole command: --run "python --lr 3e-4"\)$/],
    [['submit', '-m', 'fix', 'the', 'bug', '--run', 'y'], /^unexpected argument "the": git lab submit takes no arguments/],
    [['show', id, 'extra', 'args'], /^unexpected argument "extra" \(usage: git lab show <id>; quote text with spaces\)$/],
    [['note', id, 'loss', 'spikes'], /^unexpected argument "spikes" \(usage: git lab note <id> <text>/],
    [['diff', id, id2], /^unexpected argument/],
    [['status', 'extra'], /^unexpected argument "extra": git lab status takes no arguments/],
    [['sync', 'a', 'b'], /^unexpected argument "b"/],
    [['idea', 'new', 'a', 'b'], /^unexpected argument "b" \(usage: git lab idea new <text>/],
    [['idea', 'list', 'open'], /^unexpected argument "open" \(usage: git lab idea list/],
    [['msg', 'list', 'x'], /^unexpected argument "x"/],
    // missing arguments
    [['show'], /^missing <id> \(usage: git lab show <id>\)$/],
    [['note', id], /^missing <text> \(usage: git lab note <id> <text>\)$/],
    [['idea', 'conclude', idea], /^missing <conclusion>/],
    [['idea'], /give a verb/],
    [['idea', 'frob'], /unknown verb "frob"/],
    [['compare', id], /two or more/],
    [['tag', id], /usage: git lab tag/],
    // options: unknown (as typed), missing values, values to switches
    [['log', '--bogus-flag'], /^unknown option "--bogus-flag" \(see 'git lab log -h'\)$/],
    [['log', '-x'], /^unknown option "-x"/],
    [['log', '--no-limit'], /^unknown option "--no-limit"/],
    [['--bogus'], /^unknown option "--bogus" \(see 'git lab -h'\)$/],
    [['nosuch'], /^unknown command "nosuch"/],
    [['help', 'nosuch'], /^unknown command "nosuch"/],
    [['log', '--limit'], /^option --limit needs a value: --limit <n>/],
    [['submit', '-m'], /^option --message needs a value/],
    [['log', '--json=yes'], /^option --json takes no value/],
    [['fsck', '--rebuild=1'], /^option --rebuild takes no value/],
    // invalid values
    [['log', '--limit', '-1'], /^--limit must be 0 or more, got -1$/],
    [['log', '--limit', 'ten'], /^--limit expects an integer, got "ten"$/],
    [['log', '--limit', '0x10'], /^--limit expects an integer/],
    [['log', '--status', 'runing'], /^unknown status "runing"/],
    [['submit', '-m', '', '--run', 'y'], /^message \(-m\) is empty$/],
    [['submit', '-m', 'x', '--run', ''], /^run command \(--run\) is empty$/],
    [['submit', '-m', 'x', '--run', 'y', '--gpus', '-1'], /^--gpus must be an integer from 0/],
    [['submit', '-m', 'x', '--run', 'y', '--gpus', 'all'], /^--gpus expects an integer, got "all"$/],
    [['submit', '-m', 'x', '--run', 'y', '--timeout', 'forever'], /^invalid duration "forever"/],
    [['submit', '-m', 'x', '--run', 'y', '--priority', '1.5'], /^--priority expects an integer/],
    [['submit', '-m', 'x', '--run', 'y', '--tag', 'bad tag!'], /^invalid tag "bad tag!"/],
    [['show', '../etc'], /^invalid experiment id/],
    [['worker', '--gpus', 'abc'], /^invalid GPU "abc" in --gpus: give all, a count \(4\), indices \(0,2,3/],
    [['worker', '--gpus', '0,x'], /^invalid GPU "x" in --gpus "0,x"/],
    [['worker', '--gpus', '-1'], /^invalid GPU "-1" in --gpus/],
    [['worker', '--jobs', '0'], /^--jobs must be from 1 to 256$/],
    [['worker', '--lease', '1s'], /^--lease must be at least 3s$/],
    [['worker', '--sync-every', 'soon'], /^--sync-every expects a duration/],
    [['logs', id, '--tail', '-1'], /^--tail must be 0 or more/],
    [['logs', id, '--grep', '('], /^--grep: /],
    [['metrics', id, '--json', '--csv'], /^give --json or --csv, not both$/],
    [['compare', id, id], /^experiment [0-9a-f]{12} is given twice/],
    [['compare', id, id.slice(0, 6)], /is given twice/],
    [['compare', id, id2, '--minimize'], /go with --metric/],
    [['cancel', id, '--grace', 'never'], /^--grace expects a duration/],
    [['tag', id, 'foo'], /must start with \+ \(add\) or - \(remove\)/],
    [['idea', 'list', '--status', 'closed'], /^--status is one of open, concluded, abandoned$/],
    [['idea', 'tag', idea], /^nothing to change/],
    [['msg', 'send', 'hi'], /^usage: git lab msg send --to WHO/],
    [['msg', 'send', '--to', 'a b', 'hi'], /^invalid recipient "a b"/],
    [['init', '--objective', 'acc'], /needs --minimize or --maximize/],
    [['init', '--minimize', '--maximize'], /one of --minimize and --maximize/],
  ]
  for (const [args, re] of cases) {
    const res = await lab(r, args)
    const what = args.join(' ')
    t.equal(res.code, 2, `${what}: exit 2 (${res.err.trim()})`)
    t.match(res.err, /^git lab: [^\n]+\n$/, `${what}: one line`)
    t.match(res.err.replace(/^git lab: /, '').trimEnd(), re, what)
    t.equal(res.out, '', `${what}: nothing on stdout`)
  }
  t.equal(refs(r), before, 'nothing was written')
})

t.test('the checks leave real arguments alone', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  // values that look like options or numbers are taken as given after an option that takes one
  const e = await labJson(r, ['submit', '-m', '-fix the bug', '--run', '--version', '--priority', '-3', '--tag', '1e3'])
  t.match(e, { message: '-fix the bug', run: '--version', priority: -3, tags: ['1e3'] })
  t.match(await labJson(r, ['submit', '-m=x', '--run=a=b', '--tag=t']), { message: '=x', run: 'a=b', tags: ['t'] })
  t.match(await labJson(r, ['submit', '-mshort', '--run', 'y']), { message: 'short' })
  // tag changes may start with '-', also after --; -- makes every word an argument
  t.same((await labJson(r, ['tag', e.id, '+a', '+b'])).tags.sort(), ['1e3', 'a', 'b'])
  t.equal((await lab(r, ['tag', e.id, '-a', '--', '-b'])).code, 0)
  t.same((await labJson(r, ['show', e.id])).tags, ['1e3'])
  t.equal((await lab(r, ['note', e.id, '--', '--not an option'])).code, 0)
  t.match((await labJson(r, ['show', e.id])).notes, [{ text: '--not an option' }])
  // what git passes a hook is taken as it is, options or not
  const hook = await lab(r, ['hook', 'no-such-hook', '--force', '-x'])
  t.notMatch(hook.err, /option/)
  t.match(hook.err, /no-such-hook/)
  // a switch can be turned off as in git, and -h anywhere asks for help
  t.equal((await lab(r, ['show', e.id, '--no-json'])).out.split('\n')[0], `experiment ${e.id}`)
  t.match(await lab(r, ['show', '-h']), { code: 0, out: /^usage: git lab show <id>/ })
  t.match(await lab(r, ['submit', '--run', 'x', '--help']), { code: 0, out: /^usage: git lab submit/ })
})

t.test('a bad lab.gpus stops worker and run before anything runs or is queued', async t => {
  const r = makeRepo(t)
  await lab(r, ['init'])
  r.git('config', 'lab.gpus', 'two')
  const before = refs(r)
  for (const args of [['worker', '--once'], ['run', '-m', 'x', '--run', 'true']]) {
    const res = await lab(r, args)
    t.equal(res.code, 2, args[0])
    t.match(res.err, /^git lab: invalid GPU "two" in git config lab.gpus: give all/, args[0])
  }
  t.equal(refs(r), before, 'nothing queued')
  t.equal((await lab(r, ['worker', '--once', '--gpus', '0'])).code, 0, '--gpus overrides lab.gpus')
})
