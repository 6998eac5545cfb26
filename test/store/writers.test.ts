// Many writers (every agent slot is one): the index is built without a git process per writer.
import t from 'tap'
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { Repo } from '../../src/git/repo.ts'
import { Store } from '../../src/store/store.ts'
import { indexView } from '../../src/store/index-file.ts'
import { FORMAT, FORMAT_PATH, commitMessage, opPath, writerRef } from '../../src/store/layout.ts'
import { opId } from '../../src/store/op.ts'
import { BIN, lab, makeRepo, type TestRepo } from '../helpers.ts'

const ident = { name: 'Agent', email: 'agent@example.com', when: new Date('2026-01-02T03:04:05Z') }

/** `n` writer logs of one idea each, in one fast-import run and one ref transaction. */
async function manyWriters(r: TestRepo, n: number): Promise<string[]> {
  const repo = await Repo.open(r.dir, r.env)
  const writers = Array.from({ length: n }, (_, i) => `agent-${i.toString(36).padStart(3, '0')}`)
  const shas = await repo.writeCommits(writers.map((w, i) => {
    const op = { v: 1, id: opId(w, 1), type: 'idea.create', entity: `idea-${w}`, lamport: i + 1, writer: w, seq: 1, time: ident.when.toISOString(), author: 'Agent <agent@example.com>', payload: { text: `idea of ${w}`, parents: [], tags: [] } }
    return { files: [{ path: FORMAT_PATH, data: `${FORMAT}\n` }, { path: opPath(1), data: JSON.stringify(op) + '\n' }], message: commitMessage('idea', 1, i + 1), author: ident }
  }))
  const input = writers.map((w, i) => `create ${writerRef(w)} ${shas[i]}\n`).join('')
  await repo.git(['update-ref', '--stdin'], { input })
  repo.close()
  return writers
}

/** `moves` more commits of one idea each on every writer's log, in one fast-import run and one ref transaction. */
async function grow(r: TestRepo, writers: string[], moves: number): Promise<void> {
  const repo = await Repo.open(r.dir, r.env)
  const tips = await repo.forEachRef(writers.map(writerRef))
  const tipOf = new Map(tips.map(t => [t.ref, t.sha]))
  const specs = writers.flatMap((w, i) => Array.from({ length: moves }, (_, k) => {
    const seq = k + 2
    const op = { v: 1, id: opId(w, seq), type: 'idea.create', entity: `idea-${w}-${seq}`, lamport: 1000 + seq, writer: w, seq, time: ident.when.toISOString(), author: 'Agent <agent@example.com>', payload: { text: `idea ${seq} of ${w}`, parents: [], tags: [] } }
    return { from: k === 0 ? tipOf.get(writerRef(w))! : `:${i * moves + k}`, files: [{ path: opPath(seq), data: JSON.stringify(op) + '\n' }], message: commitMessage('idea', seq, 1000 + seq), author: ident }
  }))
  const shas = await repo.writeCommits(specs)
  const input = writers.map((w, i) => `update ${writerRef(w)} ${shas[i * moves + moves - 1]} ${tipOf.get(writerRef(w))}\n`).join('')
  await repo.git(['update-ref', '--stdin'], { input })
  repo.close()
}

/** The CLI with at most `files` open file descriptors, as under a tight `ulimit -n`. */
function labLimited(r: TestRepo, files: number, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise(resolve => {
    const child = spawn('sh', ['-c', `ulimit -n ${files} && exec "$0" "$@"`, BIN, ...args], { cwd: r.dir, env: r.env })
    let out = ''
    let err = ''
    child.stdout.on('data', b => { out += b })
    child.stderr.on('data', b => { err += b })
    child.on('close', code => resolve({ code: code ?? -1, out, err }))
  })
}

t.test('600 writers build and refresh the index under ulimit -n 256', async t => {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  const writers = await manyWriters(r, 600)
  const first = await labLimited(r, 256, ['idea', 'list', '--json'])
  t.equal(first.code, 0, first.err)
  const ideas = JSON.parse(first.out) as Array<{ id: string }>
  t.equal(ideas.length, writers.length, 'every writer\'s record is read')
  // A rebuild from nothing under the same limit reads the same, and fsck finds it consistent.
  const f = await labLimited(r, 256, ['fsck', '--json'])
  t.equal(f.code, 0, f.err)
  t.equal(JSON.parse(f.out).index_consistent, true)
  t.equal(JSON.parse(f.out).operations, writers.length)
})

t.test('200 writers each 70 commits further on (a descent too long to walk) refresh under ulimit -n 128', async t => {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  const writers = await manyWriters(r, 200)
  t.equal((await labLimited(r, 128, ['idea', 'list', '--json'])).code, 0)
  await grow(r, writers, 70)
  const after = await labLimited(r, 128, ['idea', 'list', '--json'])
  t.equal(after.code, 0, after.err)
  t.equal((JSON.parse(after.out) as unknown[]).length, 200 * 71)
})

/** A store on its own repo handle, counting its ref listings. */
async function countingStore(r: TestRepo, before?: () => Promise<void>): Promise<{ store: Store; repo: Repo; listings: () => number }> {
  const repo = await Repo.open(r.dir, r.env)
  let n = 0
  const list = repo.forEachRef.bind(repo)
  repo.forEachRef = async (...args: Parameters<Repo['forEachRef']>) => {
    if (n++ === 0 && before) await before()
    return list(...args)
  }
  return { store: new Store(repo), repo, listings: () => n }
}

t.test('a first build lists the writer refs once; an index saved meanwhile is read instead', async t => {
  const r = makeRepo(t)
  t.equal((await lab(r, ['init'])).code, 0)
  await manyWriters(r, 50)
  // No index on disk before and under the lock: the refs listed with the look for one are the ones built from.
  rmSync(`${r.dir}/.git/lab`, { recursive: true, force: true })
  const a = await countingStore(r)
  const built = await a.store.refresh()
  t.equal(a.listings(), 1, 'one for-each-ref')
  t.equal(Object.keys(built.chosen).length, 50)
  const rebuilt = await a.store.rebuild(false)
  t.same(indexView(built), indexView(rebuilt), 'the same index as a rebuild')
  a.repo.close()

  // Another process saves an index between this one's look and its lock: this one reads that index, and the refs again.
  rmSync(`${r.dir}/.git/lab`, { recursive: true, force: true })
  let other: Awaited<ReturnType<typeof countingStore>> | null = null
  const b = await countingStore(r, async () => {
    other = await countingStore(r)
    await other.store.refresh()
  })
  const got = await b.store.refresh()
  t.equal(b.listings(), 2, 'the refs listed again once an index appeared')
  t.equal(got.gen, other!.store.current!.gen, 'the index the other process saved, not a second build')
  t.same(indexView(got), indexView(rebuilt))
  b.repo.close()
  other!.repo.close()
})
