// Experiments and messages, kept in the local index one shard file per id prefix and read only where a command looks:
// `show ID` reads one shard, `log` the shards of the rows it prints. Each entity is a fold group of its own (every
// operation on it touches it alone), so its record also lists the operations folded into it, in fold order: an
// operation that arrives late (another clone worked offline) refolds that entity alone, from those operations.
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { dict } from './safe-json.ts'
import { ENTITY_RE, type Op } from './op.ts'
import { LabError } from '../errors.ts'

/** An operation's place in the fold: lamport clock, writer, seq. */
export type OpKey = [number, string, number]
export const keyOf = (op: Op): OpKey => [op.lamport, op.writer, op.seq]
export const compareKeys = (a: OpKey, b: OpKey) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[2] - b[2])

/** One entity's record in a shard: its folded value (null: its operations made none, e.g. all skipped) and its ops. */
export interface GroupRecord<T> { v: T | null; ops: OpKey[] }

export type EntityKind = 'x' | 'm'
/**
 * The fold group an operation belongs to: `x:ID` an experiment, `m:ID` a message, `i` every idea, `h` every SSH host,
 * `c` the config.
 */
export function groupOf(op: Op): string {
  const t = op.type
  if (t.startsWith('experiment.')) return `x:${op.entity}`
  if (t.startsWith('message.')) return `m:${op.entity}`
  if (t.startsWith('idea.')) return 'i'
  if (t.startsWith('host.')) return 'h'
  return 'c'
}

/** Ids are [a-z0-9][a-z0-9_-]{2,}: their first two characters name a shard (at most 36 x 38 of them). */
export const shardOf = (id: string) => id.slice(0, 2)

const maps = new WeakMap<object, EntityMap<unknown>>()

/** The lazy map behind a state's `experiments` or `messages`, if it is one. */
export const entityMapOf = <T>(items: Record<string, T>): EntityMap<T> | undefined => maps.get(items) as EntityMap<T> | undefined

/**
 * The ids of `items` that start with `prefix`, reading only the shards they can be in.
 * (Object.keys on a lazy map reads every shard.)
 */
export function keysWithPrefix<T>(items: Record<string, T>, prefix: string): string[] {
  const m = entityMapOf(items)
  if (!m) return Object.keys(items).filter(k => k.startsWith(prefix))
  return m.idsIn(m.shardKeys().filter(s => s.startsWith(prefix.slice(0, 2)))).filter(k => k.startsWith(prefix) && Object.hasOwn(items, k))
}

/** The index moved on or was damaged while a command read it: exit 1, and the next command reads it afresh. */
export class IndexMovedError extends LabError { code = 'IndexChanged' }

/** A file the index named went while it was read, and the index that replaced it went too. */
export function indexFileGone(file: string): never {
  throw new IndexMovedError(`the lab's local index changed while it was read (${file} is gone): run the command again`)
}

/**
 * A file of the index parsed. One that does not parse (a disk error, a hand edit) is not repaired in the middle of a
 * command: index.json goes, so the next command rebuilds the index from the refs, and this one stops saying so.
 */
export function parseIndexFile<T>(dir: string, file: string, text: string | null): T {
  if (text === null) indexFileGone(file)
  try {
    return JSON.parse(text) as T
  } catch {
    rmSync(path.join(dir, '..', 'index.json'), { force: true })
    throw new IndexMovedError(`the lab's local index was damaged (${file} does not parse); it is rebuilt from the refs by the next command: run the command again`)
  }
}

/**
 * A map from id to entity whose shards are read on first use. `proxy` is what the state holds: indexing, `in`,
 * Object.hasOwn read one shard; Object.keys/values read them all. Assignments mark their shard to be written; changes
 * inside an entity are marked by the store (`touch`), which knows every operation it applies.
 */
export class EntityMap<T> {
  readonly items: Record<string, T> = dict()
  /** every id with a record (an entity, or operations that made none), by shard */
  private readonly ids = new Map<string, Set<string>>()
  private readonly opsOf: Record<string, OpKey[]> = dict()
  /** shards read and not split into lines yet */
  private readonly bytes = new Map<string, Buffer>()
  /** records of split shards not parsed yet: their line's JSON */
  private readonly raw = new Map<string, string>()
  private readonly parsed = new Set<string>()
  private readonly loaded = new Set<string>()
  private complete: boolean
  readonly dirty = new Set<string>()
  readonly proxy: Record<string, T>

  /**
   * files: shard -> its file (null: everything is in memory already); read: the text of a shard's file (null: gone;
   * given `KIND:SHARD` and the file this index names); revive: a value read back from JSON, made prototype-free
   * where it needs to be.
   */
  constructor(readonly kind: EntityKind, private readonly files: Record<string, string> | null, private readonly dir: string,
    private readonly read: (key: string, file: string) => Buffer | null, private readonly revive: (v: T) => void) {
    this.complete = files === null
    const self = this
    const one = (k: string | symbol) => { if (typeof k === 'string') self.parse(k) }
    this.proxy = new Proxy(this.items, {
      get(t, k) { one(k); return Reflect.get(t, k) },
      has(t, k) { one(k); return Reflect.has(t, k) },
      getOwnPropertyDescriptor(t, k) { one(k); return Reflect.getOwnPropertyDescriptor(t, k) },
      ownKeys(t) { self.ensureAll(); for (const id of [...self.raw.keys()]) self.parse(id); return Reflect.ownKeys(t) },
      set(t, k, v) {
        if (typeof k !== 'string') return false
        self.put(k, v as T)
        return true
      },
      deleteProperty(t, k) {
        if (typeof k !== 'string') return false
        self.put(k, null)
        return true
      },
    })
    maps.set(this.proxy, this as EntityMap<unknown>)
  }

  /** Shards this map has, read or not. */
  shardKeys(): string[] {
    return [...new Set([...Object.keys(this.files ?? {}), ...this.ids.keys()])]
  }

  /** Ids with a record in the given shards. */
  idsIn(shards: string[]): string[] { return shards.flatMap(s => { this.split(s); return [...this.ids.get(s) ?? []] }) }

  /**
   * Reads a shard's file: one line per id, `ID JSON`, kept as bytes until an id is looked at; then only that line is
   * decoded and parsed (`log` reads 30 shards for 30 rows: decoding and parsing every record in them cost more than
   * the rest of the command).
   */
  ensure(shard: string): void {
    if (this.complete || this.loaded.has(shard)) return
    this.loaded.add(shard)
    const file = this.files![shard]
    if (!file) return
    const buf = this.read(`${this.kind}:${shard}`, file)
    if (buf === null) parseIndexFile(this.dir, file, null)
    // (a file that does not start with a record of this shard or does not end a line: damaged)
    if (buf!.length && (buf!.toString('latin1', 0, 2) !== shard || buf![buf!.length - 1] !== 0x0a)) parseIndexFile(this.dir, file, '{')
    this.bytes.set(shard, buf!)
  }

  /** Every record of a read shard, as lines (what listing all ids, adding one, or writing the shard needs). */
  private split(shard: string): void {
    this.ensure(shard)
    const buf = this.bytes.get(shard)
    if (!buf) return
    this.bytes.delete(shard)
    const text = buf.toString('utf8')
    const file = this.files![shard]
    for (let at = 0; at < text.length;) {
      const end = text.indexOf('\n', at)
      const sp = text.indexOf(' ', at)
      const id = sp < 0 || sp > end ? '' : text.slice(at, sp)
      // (a line that is not `ID {"v":...` of an id in this shard: the file is damaged)
      if (shardOf(id) !== shard || !ENTITY_RE.test(id) || !text.startsWith('{"v":', sp + 1)) parseIndexFile(this.dir, file, '{')
      this.addId(id)
      if (!this.parsed.has(id)) this.raw.set(id, text.slice(sp + 1, end))
      at = end + 1
    }
  }

  /** Parses one id's record, if it was read and not parsed yet. */
  private parse(id: string): void {
    if (this.parsed.has(id)) return
    const shard = shardOf(id)
    this.ensure(shard)
    let line = this.raw.get(id)
    const buf = this.bytes.get(shard)
    if (line === undefined && buf) {
      const key = Buffer.from(`${id} `)
      let at = buf.subarray(0, key.length).equals(key) ? 0 : buf.indexOf(Buffer.concat([NL, key]))
      if (at > 0) at++
      if (at >= 0) line = buf.toString('utf8', at + key.length, buf.indexOf(0x0a, at))
    }
    if (line === undefined) return
    this.parsed.add(id)
    this.raw.delete(id)
    this.addId(id)
    const r = parseIndexFile<GroupRecord<T>>(this.dir, this.files?.[shard] ?? '', line)
    this.opsOf[id] = r.ops
    if (r.v !== null) { this.revive(r.v); this.items[id] = r.v }
  }

  ensureAll(): void {
    if (this.complete) return
    for (const s of Object.keys(this.files!)) this.split(s)
    this.complete = true
  }

  private addId(id: string): void {
    const s = shardOf(id)
    let set = this.ids.get(s)
    if (!set) this.ids.set(s, set = new Set())
    set.add(id)
  }

  /** Sets (or, with null, removes) an entity's value, keeping its operations. */
  put(id: string, v: T | null): void {
    this.split(shardOf(id))
    this.parse(id)
    this.addId(id)
    this.opsOf[id] ??= []
    if (v === null) delete this.items[id]
    else this.items[id] = v
    this.dirty.add(shardOf(id))
  }

  /** The operations folded into an entity so far, in fold order. */
  ops(id: string): OpKey[] {
    this.parse(id)
    return this.opsOf[id] ?? []
  }

  /** After an operation on `id` was applied: it is part of the entity's record, whose shard is to be written. */
  touch(id: string, key: OpKey): void {
    this.split(shardOf(id))
    this.parse(id)
    this.addId(id)
    ;(this.opsOf[id] ??= []).push(key)
    this.dirty.add(shardOf(id))
  }

  /** Replaces an entity's record after a refold. */
  reset(id: string, v: T | null, ops: OpKey[]): void {
    this.put(id, v)
    this.opsOf[id] = ops
  }

  /** A shard's text as written to its file (records never parsed are written back as they were read). */
  shardText(shard: string): string {
    this.split(shard)
    let out = ''
    for (const id of [...(this.ids.get(shard) ?? [])].sort()) {
      const line = this.raw.get(id) ?? JSON.stringify({ v: Object.hasOwn(this.items, id) ? this.items[id] : null, ops: this.opsOf[id] })
      out += `${id} ${line}\n`
    }
    return out
  }
}

const NL = Buffer.from('\n')

/** Reads a file of the index folder synchronously (a shard is small; a lazy map cannot wait): null if it is gone. */
export function readIndexFile(file: string): string | null {
  const b = readIndexBytes(file)
  return b && b.toString('utf8')
}

export function readIndexBytes(file: string): Buffer | null {
  try {
    return readFileSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}
