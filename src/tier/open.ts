/**
 * Opens the backing store an options object names: the entry point the
 * PageStore integration calls with its `backing` option.
 */
import type { BackingStore } from './backing-store.js'
import { ClusterStore } from './cluster-store.js'
import { FileStore } from './file-store.js'
import { resolveBackingOptions, type BackingOptions } from './options.js'

export async function openBackingStore(options: BackingOptions): Promise<BackingStore> {
  const resolved = resolveBackingOptions(options)
  return resolved.type === 'file' ? FileStore.open(resolved) : ClusterStore.open(resolved)
}
