// One DAP thread per initiator a person thinks about: the host driver, mpssd, each back-end,
// each card's OS, each DMA channel in use. Ids are stable for the session.

import { initiatorName } from './names.ts';

export class ThreadRegistry {
  private readonly ids = new Map<string, number>();
  private readonly byId = new Map<number, string>();
  private next = 1;
  onNew: ((id: number, initiator: string) => void) | null = null;

  id(initiator: string): number {
    let id = this.ids.get(initiator);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(initiator, id);
      this.byId.set(id, initiator);
      this.onNew?.(id, initiator);
    }
    return id;
  }

  has(initiator: string): boolean {
    return this.ids.has(initiator);
  }

  initiator(id: number): string | undefined {
    return this.byId.get(id);
  }

  list(): { id: number; name: string; initiator: string }[] {
    return [...this.ids.entries()].map(([initiator, id]) => ({
      id,
      initiator,
      name: initiatorName(initiator),
    }));
  }
}
