// Help: -h, `git lab help`, and the man page git shows for `git lab --help`, all from the one command table.
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { makeRepo, lab, ROOT } from '../helpers.ts'
import { buildCli, VERBS } from '../../src/cli/main.ts'
import { allDocs } from '../../src/cli/help.ts'
import { manPage, roff } from '../../src/cli/man.ts'

const quiet = { out() {}, err() {}, jobOut() {}, jobErr() {}, isTTY: false }
const docs = allDocs(buildCli({ cwd: '.', env: {}, now: () => new Date(0), io: quiet }, () => undefined), VERBS)
const PAGE = path.join(ROOT, 'dist/man/man1/git-lab.1')
const hasMan = spawnSync('sh', ['-c', 'command -v man'], { encoding: 'utf8' }).status === 0

t.test('git lab help COMMAND prints what COMMAND -h prints, for every command', async t => {
  const r = makeRepo(t)
  for (const d of docs) {
    const viaHelp = await lab(r, ['help', d.name])
    const viaFlag = await lab(r, [d.name, '-h'])
    t.equal(viaHelp.code, 0, d.name)
    t.equal(viaHelp.out, viaFlag.out, `help ${d.name} = ${d.name} -h`)
    t.match(viaHelp.out, new RegExp(`^usage: git lab ${d.name}`), d.name)
    for (const o of d.options) t.ok(viaHelp.out.includes(o.flags), `${d.name} -h shows ${o.flags}`)
  }
  const overview = await lab(r, ['help'])
  t.equal(overview.code, 0)
  t.equal((await lab(r, ['-h'])).out, overview.out)
  t.equal((await lab(r, ['--help'])).out, overview.out)
  t.equal((await lab(r, [])).out, overview.out)
  for (const d of docs) t.match(overview.out, new RegExp(`\\n  ${d.name}\\b`), `overview lists ${d.name}`)
  t.match(overview.out, /\n {2}idea conclude <id> <conclusion> +Conclude it/)
  t.match((await lab(r, ['--version'])).out, /^git lab version \d+\.\d+\.\d+/)
})

t.test('help text: a --no-X switch shows no default; a real default is shown', async t => {
  const r = makeRepo(t)
  const submit = (await lab(r, ['submit', '-h'])).out
  t.match(submit, /\n {2}--no-code +Record no code snapshot\n/)
  t.notMatch(submit, /default: true/)
  t.notMatch((await lab(r, ['init', '-h'])).out, /default: true/)
  t.match((await lab(r, ['log', '-h'])).out, /--limit <n> +How many \(0: all\) \(default: 30\)/)
  t.match((await lab(r, ['idea', '-h'])).out, /Verbs:\n {2}new <text> +A new idea/)
})

t.test('the man page is the same table in roff, built into dist/man and listed in package.json', async t => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  t.same(pkg.man, ['./dist/man/man1/git-lab.1'])
  const page = readFileSync(PAGE, 'utf8')
  t.equal(page, manPage(docs, pkg.version), 'the built page is what the table gives')
  t.match(page, /^\.TH GIT\\-LAB 1 /)
  for (const d of docs) {
    for (const u of d.usages) t.ok(page.includes(roff(u.usage)), `page has ${u.usage}`)
    for (const o of d.options) if (o.flags !== '-h, --help') t.ok(page.includes(roff(o.flags.split(/[ ,]/)[0])), `page has ${d.name} ${o.flags}`)
  }
  t.notMatch(page, /default: true/)
  // nothing a user wrote can start a roff request
  t.equal(roff('.x\n\'y\\z-1'), '\\&.x\n\\(aqy\\ez\\-1')
})

t.test('git lab --help: git finds the page through man', { skip: !hasMan && !process.env.CI && 'man is not installed (CI installs man-db)' }, async t => {
  const r = makeRepo(t)
  const env = { ...r.env, MANPATH: path.join(ROOT, 'dist/man'), MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '100' }
  const out = execFileSync('git', ['lab', '--help'], { cwd: r.dir, env, encoding: 'utf8' })
  t.match(out, /GIT-LAB\(1\)/)
  t.match(out, /git-lab - record, run and compare AI research experiments in git/)
  t.match(out, /git lab submit \[options\]/)
  t.match(out, /--no-code/)
  // the page as a file, as `man -l` reads it
  t.match(execFileSync('man', ['-l', PAGE], { env, encoding: 'utf8' }), /EXIT STATUS/)
})
