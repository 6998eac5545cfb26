// When this clone last reached each SSH host (.git/lab/hosts/<name>.json, never pushed): `git lab hosts` says since when
// one is down.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Lab } from '../../lab/lab.ts'

const seenFile = (lab: Lab, name: string) => path.join(lab.repo.commonDir, 'lab', 'hosts', `${name}.json`)

export async function writeLastSeen(lab: Lab, name: string, when: Date): Promise<void> {
  const f = seenFile(lab, name)
  await mkdir(path.dirname(f), { recursive: true })
  const tmp = `${f}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify({ last_seen: when.toISOString() }) + '\n')
  await rename(tmp, f)
}

/** When a git lab process of this clone last reached the host (null: never, as far as this clone knows). */
export async function lastSeen(lab: Lab, name: string): Promise<string | null> {
  try {
    const v = JSON.parse(await readFile(seenFile(lab, name), 'utf8')) as { last_seen?: unknown }
    return typeof v.last_seen === 'string' ? v.last_seen : null
  } catch { return null }
}

