// The experiment listing behind `log`: newest first, filtered, cut at --limit, reading only the shards of the rows
// it shows (the order file names them; src/store/index-file.ts).
import type { Lab } from './lab.ts'
import { checkStatus, listExperiments, type ListOptions } from './experiments.ts'
import { experimentJson, safeJson, type ExperimentJson } from './json.ts'
import type { Experiment } from '../store/state.ts'

export interface Listing {
  length: number
  commit(i: number): string | null
  /** the experiment's --json text (compact), with at_head */
  text(i: number, atHead: boolean): string
  get(i: number): ExperimentJson
  /** its params as given and its final metrics (for columns) */
  values(i: number): { params: Record<string, string>; metrics: Record<string, number> }
  /** the whole listing as the compact --json array, or null when it is built row by row */
  array(head: string | null): Buffer | null
}

/** Experiments newest first, filtered. */
export async function listing(lab: Lab, o: ListOptions = {}): Promise<Listing> {
  checkStatus(o.status)
  return listingOf(await listExperiments(lab, o))
}

export function listingOf(rows: Experiment[]): Listing {
  const json = rows.map(() => null as (ExperimentJson & { at_head: boolean }) | null)
  const get = (i: number) => (json[i] ??= { ...experimentJson(rows[i]), at_head: false })
  return {
    length: rows.length,
    commit: i => rows[i].commit,
    text: (i, atHead) => safeJson(JSON.stringify({ ...get(i), at_head: atHead })),
    get,
    values: i => ({ params: rows[i].params, metrics: rows[i].metrics }),
    array: () => null,
  }
}
