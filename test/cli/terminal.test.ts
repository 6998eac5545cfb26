// The terminal's doors: hostile text in every record shows escaped, a job's output keeps colours only, --json round-trips.
import t from 'tap'
import { safeText, safeOutput, outputPieces } from '../../src/cli/terminal.ts'
import { safeJson } from '../../src/lab/json.ts'
import { makeRepo, lab, labJson, labProcess, write } from '../helpers.ts'
import { Lab } from '../../src/lab/lab.ts'

const ESC = '\x1b'
// Anything a terminal would act on: every control but \t and \n, DEL, C1, bidi controls.
const LIVE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
// Clear screen, a clipboard write, a title, a hyperlink, a carriage-return overwrite, backspaces, 8-bit CSI, bidi.
const HOSTILE = `a${ESC}[2J${ESC}]52;c;cHduZWQ=\x07${ESC}]0;pwned\x07${ESC}]8;;https://evil.example${ESC}\\link${ESC}]8;;${ESC}\\\rok\b\b\u009b31m\u202eevil\u2066z\x7f`

t.test('safeText: keeps \\n and \\t, writes every other control character as \\uXXXX', async t => {
  t.equal(safeText('plain text: é, 中文, emoji 🙂\n\tindented'), 'plain text: é, 中文, emoji 🙂\n\tindented')
  t.equal(safeText(`x${ESC}[2Jy`), 'x\\u001b[2Jy')
  t.equal(safeText(`${ESC}]52;c;cHduZWQ=\x07`), '\\u001b]52;c;cHduZWQ=\\u0007')
  t.equal(safeText('rm -rf /\rls'), 'rm -rf /\\u000dls')
  t.equal(safeText('abc\b\b\x00\x7f'), 'abc\\u0008\\u0008\\u0000\\u007f')
  t.equal(safeText('\u009b2J\u0085\u009c'), '\\u009b2J\\u0085\\u009c')
  t.equal(safeText('a\u202eb\u2066c\u2069\u200e\u200f\u061c'), 'a\\u202eb\\u2066c\\u2069\\u200e\\u200f\\u061c')
  t.notMatch(safeText(HOSTILE), LIVE)
  t.equal(safeText(safeText(HOSTILE)), safeText(HOSTILE), 'escaping twice changes nothing')
  const obj = { s: HOSTILE, [HOSTILE]: [HOSTILE, '\\u001b literal'] }
  for (const json of [JSON.stringify(obj), JSON.stringify(obj, null, 2)]) {
    t.notMatch(safeText(json), LIVE)
    t.same(JSON.parse(safeText(json)), obj, 'JSON text passed through it decodes to the same value')
    t.equal(safeJson(json), safeText(json), 'safeJson is the same escape for JSON text')
  }
})

t.test('safeOutput: colours stay; control sequences go; other control characters show escaped', async t => {
  const red = `${ESC}[31mred${ESC}[0m ${ESC}[1;38;5;208mbold orange${ESC}[m ${ESC}[38:2::255:0:0mrgb${ESC}[39m`
  t.equal(safeOutput(red), red)
  t.equal(safeOutput('tab\tnewline\n中文 🙂'), 'tab\tnewline\n中文 🙂')
  t.equal(safeOutput(`a${ESC}[2J${ESC}[Hb${ESC}[1A${ESC}[K${ESC}[?25l${ESC}[?1049h${ESC}[3;20r${ESC}c${ESC}7${ESC}(Bc`), 'abc',
    'clear screen, cursor moves, erase, modes, scroll region, reset, charset: removed')
  t.equal(safeOutput(`x${ESC}]52;c;cHduZWQ=\x07y`), 'xy', 'OSC 52 clipboard write')
  t.equal(safeOutput(`${ESC}]0;pwned\x07${ESC}]2;title${ESC}\\t`), 't', 'title set, BEL or ST ended')
  t.equal(safeOutput(`see ${ESC}]8;;https://evil.example${ESC}\\here${ESC}]8;;${ESC}\\.`), 'see here.', 'a hyperlink keeps its text only')
  t.equal(safeOutput(`${ESC}P1$r0m${ESC}\\d`), 'd', 'DCS')
  t.equal(safeOutput('\u009b2J\u009d0;t\u009cz'), 'z', '8-bit CSI and OSC')
  t.equal(safeOutput(`${ESC}]0;never ended`), '0;never ended', 'an unended OSC: its ESC ] goes, its text shows')
  t.equal(safeOutput('10%\r20%\r30%\ndone\r\n'), '10%\n20%\n30%\ndone\r\n', 'a lone \\r (progress bar) is a line break; \\r\\n stays')
  t.equal(safeOutput('good\b\b\b\bevil'), 'good\\u0008\\u0008\\u0008\\u0008evil', 'backspaces cannot overstrike')
  t.equal(safeOutput(`a\x00b\x07c${ESC}`), 'a\\u0000b\\u0007c\\u001b', 'NUL, a lone BEL, a lone ESC')
  t.equal(safeOutput('if (x \u202e) {} \u2066'), 'if (x \\u202e) {} \\u2066', 'bidi controls')
  t.equal(safeOutput(`${ESC}[8msecret${ESC}[0m ${ESC}[1;8;31mb${ESC}[38;5;8mgrey`), `secret${ESC}[0m ${ESC}[1;31mb${ESC}[38;5;8mgrey`,
    'SGR conceal (8) is dropped; colour 8 is a colour')
  t.equal(safeOutput(`${ESC}[?31m${ESC}[31 m`), '', 'CSI m with private or intermediate bytes is not SGR')
  t.notMatch(safeOutput(HOSTILE).replace(/\x1b\[[0-9;:]*m/g, ''), LIVE)
  t.equal(safeOutput(safeOutput(HOSTILE)), safeOutput(HOSTILE))
  const long = `${ESC}]52;c;${'A'.repeat(100_000)}\x07`.repeat(50)
  const started = Date.now()
  t.notMatch(safeOutput(long + `${ESC}]0;`.repeat(20_000)), LIVE, 'huge or unended sequences stay linear')
  t.ok(Date.now() - started < 2000)
})

t.test('outputPieces: no colour sequence, \\r\\n or UTF-8 character is split between pieces', async t => {
  const whole = Buffer.from(`a${ESC}[31mred${ESC}[0m\r\n€ 50%\r60%\n${ESC}]0;t\x07end`)
  for (let size = 1; size <= 4; size++) {
    const pieces: string[] = []
    const p = outputPieces(s => pieces.push(s))
    for (let i = 0; i < whole.length; i += size) p.write(whole.subarray(i, i + size))
    p.end()
    t.equal(pieces.map(safeOutput).join(''), safeOutput(whole.toString('utf8')), `cut every ${size} bytes`)
  }
  const pieces: string[] = []
  const p = outputPieces(s => pieces.push(s))
  p.write(Buffer.from(`x${ESC}[3`))
  t.same(pieces, ['x'], 'an unfinished colour is held back')
  p.end()
  t.same(pieces, ['x', `${ESC}[3`], 'and given out at the end')
})

t.test('hostile text in every record never reaches the terminal live; --json round-trips it', async t => {
  const r = makeRepo(t, { files: { 'train.py': 'x = 1\n' } })
  r.git('config', 'user.name', `Ann${ESC}]0;title\x07`)
  r.git('config', 'lab.agent', `bot${ESC}[2J`)
  t.equal((await lab(r, ['init'])).code, 0)
  // init refuses such a metric name; another writer's record need not.
  const l = await Lab.open({ cwd: r.dir, env: r.env })
  await l.write([{ type: 'lab.config', entity: 'lab', payload: { objective: { metric: `lo${ESC}[2Jss`, direction: 'minimize' } } }], 'hostile')
  l.close()
  write(r, 'train.py', `x = 2  # ${ESC}]52;c;cHduZWQ=\x07 \u202e hidden\n`)
  const idea = await labJson(r, ['idea', 'new', `idea ${HOSTILE}`])
  await labJson(r, ['idea', 'note', idea.id, `idea note ${HOSTILE}`])
  // The job prints colours, a title, a clear screen; its metric name and an artifact's name carry escapes too.
  const job = `printf '\\033[31mred\\033[0m\\n\\033]0;pwned\\007\\033[2Jafter\\n'; printf '{"lo\\\\u001b[2Jss": 1}\\n' >> "$LAB_METRICS"; ` +
    `echo a > "$LAB_OUTPUT/art${ESC}]0;x\x07.txt" # ${HOSTILE}`
  const run = await lab(r, ['run', '-m', `message ${HOSTILE}`, '--run', job, '--setup', `true # ${HOSTILE}`, '--idea', idea.id])
  t.equal(run.code, 0, run.err)
  t.match(run.out, `${ESC}[31mred${ESC}[0m\n`, 'run streams the job\'s colours')
  t.notMatch(run.out, /\x1b\]|\x1b\[2J/, 'but not its title or clear screen')
  const id = (await labJson(r, ['log']))[0].id
  await lab(r, ['note', id, `note ${HOSTILE}`])
  const other = await labJson(r, ['submit', '-m', `second ${HOSTILE}`, '--run', `echo ${HOSTILE}`, '--no-code'])
  await labJson(r, ['msg', 'send', '--to', `all${ESC}[2J`, `msg ${HOSTILE}`])

  for (const args of [['log'], ['show', id], ['idea', 'show', idea.id], ['idea', 'list'], ['msg', 'list', '--all'], ['compare', id, other.id],
    ['status'], ['metrics', id], ['diff', id], ['show', `nope${ESC}]0;x\x07`]]) {
    const res = await lab(r, args)
    t.notMatch(res.out + res.err, LIVE, `git lab ${safeText(args.join(' '))}`)
  }
  t.match((await lab(r, ['show', id])).out, 'message a\\u001b[2J\\u001b]52;c;', 'shown escaped, not dropped')

  const logs = await lab(r, ['logs', id])
  t.match(logs.out, `${ESC}[31mred${ESC}[0m\nafter\n`, 'logs keeps colours, drops the title and the clear screen')
  t.notMatch(logs.out.replace(/\x1b\[[0-9;:]*m/g, ''), LIVE)

  const shown = await labJson(r, ['show', id])
  t.equal(shown.message, `message ${HOSTILE}`)
  t.equal(shown.setup, `true # ${HOSTILE}`)
  t.equal(shown.notes[0].text, `note ${HOSTILE}`)
  t.equal(shown.author, `Ann${ESC}]0;title\x07 <ann@example.com>`)
  t.same((await labJson(r, ['status'])).objective, { metric: `lo${ESC}[2Jss`, direction: 'minimize' })
  t.same(Object.keys(shown.metrics), [`lo${ESC}[2Jss`])
  t.same(shown.artifacts.map((a: any) => a.path), [`art${ESC}]0;x\x07.txt`])
  const ideaJson = await labJson(r, ['idea', 'show', idea.id])
  t.same([ideaJson.text, ideaJson.notes[0].text], [`idea ${HOSTILE}`, `idea note ${HOSTILE}`])
  t.same((await labJson(r, ['msg', 'list', '--all'])).map((m: any) => [m.to, m.text]), [[`all${ESC}[2J`, `msg ${HOSTILE}`]])
  t.equal((await labJson(r, ['compare', id, other.id])).experiments[1].run, `echo ${HOSTILE}`)
  t.match((await labJson(r, ['diff', id])).patch, `+x = 2  # ${ESC}]52;c;cHduZWQ=\x07 \u202e hidden\n`, 'diff --json has the exact code')
  // The built binary writes log --json's cached body as bytes, past the io wrapper: escaped when it was built.
  for (let i = 0; i < 2; i++) {
    const bin = await labProcess(r, ['log', '--json'])
    t.equal(bin.code, 0, bin.err)
    t.notMatch(bin.out, LIVE, i ? 'from the cache' : 'building the cache')
    t.same(JSON.parse(bin.out).map((e: any) => e.message), [`second ${HOSTILE}`, `message ${HOSTILE}`])
  }
})
