// The DMA view (mic.dma): one mic/dma request answers for every card and channel.

import { dmaTree } from '../model/dmaTree.ts';
import type { NodeModel } from '../model/nodeModel.ts';
import { READ, type DmaResponse } from '../model/requests.ts';
import type { WatchList } from '../model/watchList.ts';
import type { MicSession, MicSessions } from '../debug/micSessions.ts';
import { MicTreeView } from './micTreeView.ts';
import type { KeyValueStore } from '../model/expansionMemory.ts';

export const DMA_VIEW = 'mic.dma';

export class DmaView extends MicTreeView {
  constructor(sessions: MicSessions, watches: WatchList, store?: KeyValueStore) {
    super(DMA_VIEW, sessions, watches, store);
  }

  protected async load(s: MicSession): Promise<NodeModel[]> {
    const { cards } = await s.request<DmaResponse>(READ.dma, {});
    return dmaTree(cards);
  }
}
