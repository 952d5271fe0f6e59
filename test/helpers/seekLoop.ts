// A child process for the kill -9 test (test/emulator/killDuringSeek.test.ts): a recorded session
// on DIR/disk.img writes sector 8·k with the pattern of k (k = 1…N, one write and a sync each,
// in order), then seeks back and forth between random moments until it is killed. It prints
// "ready" once the session is recorded and the seeking begins.
//   node --import tsx test/helpers/seekLoop.ts DIR N SEED

import { join } from 'node:path';
import { buildMachine } from '../../src/emulator/buildMachine.ts';
import { Timeline } from '../../src/emulator/timeTravel/timeline.ts';
import { prng } from '../../bench/lib/stats.ts';

export const patternOf = (k: number) => (0x10203040 + k * 0x01010101).toString(16).padStart(8, '0');

function main(dir: string, n: number, seed: number): void {
  const tl: Timeline = new Timeline({
    observeSelf: true,
    build: (journalFor) =>
      buildMachine({
        cards: 1,
        memoryBytes: 1 << 30,
        stepping: 'C0',
        disk: join(dir, 'disk.img'),
        diskSizeBytes: 1 << 20,
        diskReadonly: false,
        pcap: null,
        terminal: () => ({ write: () => {} }),
        journalFor,
      }).machine,
  });
  const m = tl.machine;
  m.start();
  while (m.run() !== 'idle');
  const type = (line: string) => {
    m.consoleInput(0, new TextEncoder().encode(line + '\r'));
    while (m.run() !== 'idle');
  };
  for (let k = 1; k <= n; k++) {
    type(`dd if=pattern:${patternOf(k)} of=/dev/vda bs=512 count=1 seek=${8 * k}`);
    type('sync');
  }
  const head = tl.head;
  process.stdout.write('ready\n');
  const rnd = prng(seed);
  for (;;) tl.seekNow(Math.floor(rnd() * head));
}

if (process.argv[1]?.endsWith('seekLoop.ts'))
  main(process.argv[2], Number(process.argv[3]), Number(process.argv[4]));
