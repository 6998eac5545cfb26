// The registry of operation kinds this version understands.
import type { OpKind } from './kind.ts'
import { labConfig } from './lab-config.ts'
import { ideaCreate } from './idea-create.ts'
import { ideaLink } from './idea-link.ts'
import { ideaResolve } from './idea-resolve.ts'
import { ideaNote, experimentNote } from './note.ts'
import { ideaTag, experimentTag } from './tag.ts'
import { experimentQueue } from './experiment-queue.ts'
import { experimentCancel } from './experiment-cancel.ts'
import { experimentStatus } from './experiment-status.ts'
import { experimentChunk } from './experiment-chunk.ts'
import { experimentArtifacts } from './experiment-artifacts.ts'
import { messageSend, messageRead } from './message-send.ts'
import { hostAdd, hostRemove } from './host.ts'

export const KINDS: ReadonlyMap<string, OpKind> = new Map([
  labConfig, ideaCreate, ideaLink, ideaResolve, ideaNote, ideaTag,
  experimentQueue, experimentCancel, experimentStatus, experimentChunk, experimentArtifacts, experimentNote, experimentTag,
  messageSend, messageRead, hostAdd, hostRemove,
].map(k => [k.type, k]))
