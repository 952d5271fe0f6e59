// The Virtqueues view (mic.virtqueues): one mic/virtqueues request answers for every card.

import type { NodeModel } from '../model/nodeModel.ts';
import { READ, type VirtqueuesResponse } from '../model/requests.ts';
import { virtqueuesTree } from '../model/virtqueuesTree.ts';
import type { WatchList } from '../model/watchList.ts';
import type { MicSession, MicSessions } from '../debug/micSessions.ts';
import { MicTreeView } from './micTreeView.ts';
import type { KeyValueStore } from '../model/expansionMemory.ts';

export const VIRTQUEUES_VIEW = 'mic.virtqueues';

export class VirtqueuesView extends MicTreeView {
  constructor(sessions: MicSessions, watches: WatchList, store?: KeyValueStore) {
    super(VIRTQUEUES_VIEW, sessions, watches, store);
  }

  protected async load(s: MicSession): Promise<NodeModel[]> {
    const { cards } = await s.request<VirtqueuesResponse>(READ.virtqueues, {});
    return virtqueuesTree(cards);
  }
}
