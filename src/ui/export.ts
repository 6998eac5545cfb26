// git lab ui --export DIR: placeholder replaced below
import type { Lab } from '../lab/lab.ts'
export async function exportSite(_lab: Lab, _dir: string, _cwd: string): Promise<{ files: number; experiments: number; dir: string }> {
  throw new Error('not yet')
}
