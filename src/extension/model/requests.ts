// The mic/… custom requests the views send (docs/custom-requests.md) and the shapes of their
// answers. The shapes are the adapter's own model types (type-only imports: nothing of the
// adapter is bundled through this file).

import type {
  CardDmaModel,
  CardModel,
  CardQueuesModel,
  RegistersModel,
  SmptEntryModel,
} from '../../debugAdapter/inspection/model.ts';

export type {
  CardDmaModel,
  CardModel,
  CardQueuesModel,
  ChainModel,
  DescModel,
  DeviceQueuesModel,
  DmaChannelModel,
  DmaRecentModel,
  FieldModel,
  QueueModel,
  RegisterGroupModel,
  RegisterModel,
  RegistersModel,
  SmptEntryModel,
} from '../../debugAdapter/inspection/model.ts';

/** Read-only requests: they never change device state, running or stopped. */
export const READ = {
  cards: 'mic/cards',
  registers: 'mic/registers',
  virtqueues: 'mic/virtqueues',
  dma: 'mic/dma',
  smpt: 'mic/smpt',
} as const;

/** The two requests that act. */
export const ACT = {
  hostCommand: 'mic/hostCommand',
  consoleInput: 'mic/consoleInput',
} as const;

export interface CardsResponse {
  cards: CardModel[];
}
export type RegistersResponse = RegistersModel;
export interface SmptResponse {
  card: number;
  name: string;
  entries: SmptEntryModel[];
}
export interface VirtqueuesResponse {
  cards: CardQueuesModel[];
}
export interface DmaResponse {
  cards: CardDmaModel[];
}
export interface HostCommandResponse {
  card: number;
  name: string;
  command: string;
  /** the state before the command */
  state: string;
  /** false: the command takes effect when the machine continues */
  running: boolean;
}

/** What the adapter sends besides DAP's own events. */
export interface ConsoleEventBody {
  card: number;
  /** base64 */
  data: string;
}
export interface StateEventBody {
  card: number;
  state: string;
}

/** `/sys/class/mic/micN/state` commands and host power management (mic/hostCommand). */
export type { HostCommand } from '../../emulator/machine.ts';

/** Before launch every mic/ request answers this; the views then show their welcome text. */
export const NO_MACHINE = 'no machine: launch first';
