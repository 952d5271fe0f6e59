// The Cards view (mic.cards): mic/cards for every card; mic/registers and mic/smpt only for the
// cards whose row is open, so a closed card costs one small request.

import { cardsTree, type CardDetails } from '../model/cardsTree.ts';
import type { NodeModel } from '../model/nodeModel.ts';
import { READ, type CardsResponse, type RegistersResponse, type SmptResponse } from '../model/requests.ts';
import type { WatchList } from '../model/watchList.ts';
import type { MicSession, MicSessions } from '../debug/micSessions.ts';
import { MicTreeView } from './micTreeView.ts';
import type { MicNode } from './micNode.ts';
import type { KeyValueStore } from '../model/expansionMemory.ts';

export const CARDS_VIEW = 'mic.cards';

export class CardsView extends MicTreeView {
  private readonly opened = new Set<number>();
  private readonly closed = new Set<number>();

  constructor(sessions: MicSessions, watches: WatchList, store?: KeyValueStore) {
    super(CARDS_VIEW, sessions, watches, store);
    const cardOf = (n: MicNode) => (n.model.kind === 'card' ? n.model.card : undefined);
    this.disposables.push(
      this.tree.onDidExpandElement(({ element }) => {
        const c = cardOf(element);
        if (c === undefined) return;
        this.opened.add(c);
        this.closed.delete(c);
        void this.refresh('look');
      }),
      this.tree.onDidCollapseElement(({ element }) => {
        const c = cardOf(element);
        if (c === undefined) return;
        this.opened.delete(c);
        this.closed.add(c);
      }),
    );
  }

  protected async load(s: MicSession): Promise<NodeModel[]> {
    const { cards } = await s.request<CardsResponse>(READ.cards);
    this.sessions.setCardStates(
      s,
      cards.map((c) => c.state),
    );
    const details = new Map<number, CardDetails>();
    const open = cards.filter(
      (c) =>
        this.opened.has(c.index) ||
        (!this.closed.has(c.index) && (this.expansion.get(c.name) ?? cards.length === 1)),
    );
    await Promise.all(
      open.map(async (c) => {
        const [registers, smpt] = await Promise.all([
          s.request<RegistersResponse>(READ.registers, { card: c.index }),
          s.request<SmptResponse>(READ.smpt, { card: c.index }),
        ]);
        details.set(c.index, { registers, smpt });
      }),
    );
    return cardsTree(cards, details);
  }
}
