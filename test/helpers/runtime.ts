// Stop a running DebugRuntime at the first event that matches, as a breakpoint would.

import { once } from 'node:events';
import type { DebugRuntime, StopInfo } from '../../src/debugAdapter/runtime.ts';
import { describeEvent } from '../../src/debugAdapter/names.ts';
import { cloneEvent, type BusEvent } from '../../src/emulator/sim/busEvent.ts';

export async function stopAt(
  rt: DebugRuntime,
  pred: (e: BusEvent) => boolean,
  poke: () => void,
): Promise<StopInfo> {
  let armed = true;
  const off = rt.machine.spine.observe((e) => {
    if (!armed || !pred(e)) return;
    armed = false;
    rt.requestStop({
      reason: 'breakpoint',
      description: describeEvent(rt.machine, e),
      event: cloneEvent(e),
      initiator: e.initiator,
    });
  });
  const stopped = once(rt, 'stopped');
  rt.resume();
  poke();
  const [info] = (await stopped) as [StopInfo];
  off();
  return info;
}
