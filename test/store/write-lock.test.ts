// The local writers' lock: callers take turns, a dead holder's lock is broken, a live one is waited out, then ignored.
import t from 'tap'
import { startedAt } from '../../src/proc.ts'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { lockWrites } from '../../src/store/write-lock.ts'

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

t.test('callers in one process take turns', async t => {
  const dir = t.testdir()
  const order: string[] = []
  const one = async (name: string) => {
    const l = await lockWrites(dir)
    order.push(`${name}+`)
    await sleep(20)
    order.push(`${name}-`)
    await l.release()
    return l.waited
  }
  const waited = await Promise.all([one('a'), one('b'), one('c')])
  t.same(order, ['a+', 'a-', 'b+', 'b-', 'c+', 'c-'], 'no two hold it at once')
  t.same(waited, [false, true, true], 'those that waited know the tip they read may be stale')
  t.notOk(existsSync(path.join(dir, 'write.lock')), 'no lock file is left behind')
})

t.test('a dead holder\'s lock is broken at once', async t => {
  const dir = t.testdir()
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim()
  writeFileSync(path.join(dir, 'write.lock'), JSON.stringify({ pid: Number(dead), start: 1 }) + '\n')
  const t0 = Date.now()
  const l = await lockWrites(dir, 5000)
  t.ok(Date.now() - t0 < 1000)
  t.equal(JSON.parse(readFileSync(path.join(dir, 'write.lock'), 'utf8')).pid, process.pid)
  await l.release()
})

t.test('a live pid with another start time (a reused pid) holds nothing', async t => {
  const dir = t.testdir()
  writeFileSync(path.join(dir, 'write.lock'), JSON.stringify({ pid: process.pid === 2 ? 3 : process.ppid, start: 1 }) + '\n')
  const l = await lockWrites(dir, 5000)
  t.equal(JSON.parse(readFileSync(path.join(dir, 'write.lock'), 'utf8')).pid, process.pid)
  await l.release()
})

t.test('a live holder is waited for, then the writer goes on without it (compare-and-swap decides)', async t => {
  const dir = t.testdir()
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' })
  t.teardown(() => { child.kill() })
  await sleep(100)
  const text = JSON.stringify({ pid: child.pid, start: startedAt(child.pid!) }) + '\n'
  writeFileSync(path.join(dir, 'write.lock'), text)
  const t0 = Date.now()
  const l = await lockWrites(dir, 300)
  t.ok(Date.now() - t0 >= 300, 'waited')
  t.ok(l.waited)
  await l.release()
  t.equal(readFileSync(path.join(dir, 'write.lock'), 'utf8'), text, 'the live holder\'s lock is left alone')
})
