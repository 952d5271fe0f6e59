// The breakpoint manager against a real booted machine, without DAP: a DebugRuntime, the
// manager attached to it, breakpoints set, run until the 'stopped' event.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { DebugRuntime, type StopInfo } from '../../src/debugAdapter/runtime.ts';
import { parseLaunchConfig } from '../../src/debugAdapter/launchConfig.ts';
import {
  BreakpointManager,
  type VariableLookup,
} from '../../src/debugAdapter/breakpoints/breakpointManager.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { eventFields } from '../../src/debugAdapter/breakpoints/eventFields.ts';

const noVars: VariableLookup = { lookup: () => null };
const enc = (s: string) => new TextEncoder().encode(s);

function launch(cfg: Record<string, unknown> = {}): { rt: DebugRuntime; bm: BreakpointManager } {
  const rt = new DebugRuntime(parseLaunchConfig(cfg));
  const bm = new BreakpointManager(() => rt);
  bm.attach(rt);
  return { rt, bm };
}

/** Resume (starting the machine the first time) and wait for the next stop. */
async function runToStop(rt: DebugRuntime, before?: () => void): Promise<StopInfo> {
  const stopped = once(rt, 'stopped', { signal: AbortSignal.timeout(60_000) });
  if (!rt.machine) rt.start();
  before?.();
  rt.resume();
  const [info] = (await stopped) as [StopInfo];
  return info;
}

/** Run to the first shell prompt of mic0 (the card is booted and idle). */
async function toPrompt(rt: DebugRuntime, bm: BreakpointManager): Promise<void> {
  bm.setFunctionBreakpoints({ breakpoints: [{ name: 'mic0: console "[root@mic0 ~]# "' }] });
  const info = await runToStop(rt);
  assert.equal(info.reason, 'function breakpoint');
  bm.setFunctionBreakpoints({ breakpoints: [] });
}

test('doorbell h2c stops with the doorbell in words and who wrote it', async () => {
  const { rt, bm } = launch();
  try {
    const [bp] = bm.setFunctionBreakpoints({ breakpoints: [{ name: 'doorbell h2c' }] });
    assert.equal(bp.verified, true);
    const info = await runToStop(rt);
    assert.equal(info.reason, 'function breakpoint');
    assert.match(info.description, /^doorbell h2c \d+ .* written by /);
    assert.deepEqual(info.hitBreakpointIds, [bp.id]);
    assert.equal(info.event?.kind, 'doorbell');
    assert.equal(info.initiator, info.event?.initiator);
  } finally {
    rt.dispose();
  }
});

test('mic0: doorbell c2h 1 with hitCondition 2 stops on the second ring', async () => {
  const { rt, bm } = launch();
  try {
    let rings = 0;
    rt.onMachine((m) =>
      m.spine.observe((e) => void (e.kind === 'doorbell' && e.detail === 'c2h 1' && rings++)),
    );
    const [bp] = bm.setFunctionBreakpoints({
      breakpoints: [{ name: 'mic0: doorbell c2h 1', hitCondition: '2' }],
    });
    const info = await runToStop(rt);
    assert.equal(rings, 2);
    assert.match(
      info.description,
      /^doorbell c2h 1 \(c2h_vdev_db of virtio-console on mic0\) written by mic0 card OS$/,
    );
    assert.deepEqual(info.hitBreakpointIds, [bp.id]);
    assert.equal(info.event?.value, 1);
  } finally {
    rt.dispose();
  }
});

test('data breakpoint on SDBIC0 (mic0.bar4+0x1cc90) stops when the card rings c2h doorbell 0 at poweroff', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    const info = bm.dataBreakpointInfo({ name: 'mic0.bar4+0x1cc90', asAddress: true }, noVars);
    assert.equal(info.dataId, 'mic0.bar4+0x1cc90/4');
    assert.equal(info.description, 'SDBIC0 (mic0.bar4+0x1cc90)');
    assert.deepEqual(info.accessTypes, ['write', 'read', 'readWrite'], 'write first: VS Code preselects it');
    const [bp] = bm.setDataBreakpoints({ breakpoints: [{ dataId: info.dataId!, accessType: 'write' }] });
    assert.equal(bp.verified, true);
    const stop = await runToStop(rt, () => rt.consoleInput(0, enc('poweroff\r')));
    assert.equal(stop.reason, 'data breakpoint');
    assert.equal(stop.description, 'SDBIC0 (mic0.bar4+0x1cc90) written with 0x80000000 by mic0 card OS');
    assert.deepEqual(stop.hitBreakpointIds, [bp.id]);
    assert.equal(stop.event?.kind, 'mmio.write');
    assert.equal(stop.initiator, 'mic0.cpu');
  } finally {
    rt.dispose();
  }
});

test("the register window's old names (mic0.mmio, mic0.sbox) still work in saved data breakpoints and conditions", async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    const [fn] = bm.setFunctionBreakpoints({
      breakpoints: [{ name: 'doorbell h2c', condition: 'space == "mic0.sbox" && endsWith(space, ".mmio")' }],
    });
    assert.equal(fn.verified, true);
    const first = await runToStop(rt, () => rt.consoleInput(0, enc('x')));
    assert.equal(first.event?.space, 'mic0.bar4');
    assert.deepEqual(first.hitBreakpointIds, [fn.id]);
    bm.setFunctionBreakpoints({ breakpoints: [] });
    const [data] = bm.setDataBreakpoints({
      breakpoints: [{ dataId: 'mic0.mmio+0x1cc90/4', accessType: 'write' }],
    });
    assert.equal(data.verified, true);
    const stop = await runToStop(rt, () => rt.consoleInput(0, enc('\rpoweroff\r')));
    assert.equal(stop.description, 'SDBIC0 (mic0.bar4+0x1cc90) written with 0x80000000 by mic0 card OS');
    assert.deepEqual(stop.hitBreakpointIds, [data.id]);
    assert.equal(
      bm.dataBreakpointInfo({ name: 'mic0.sbox+0x1cc90', asAddress: true }, noVars).dataId,
      'mic0.bar4+0x1cc90/4',
    );
  } finally {
    rt.dispose();
  }
});

test('the function breakpoint `write mic0.SDBIC0` watches the bytes like a data breakpoint', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    const [bp, bad] = bm.setFunctionBreakpoints({
      breakpoints: [{ name: 'write mic0.SDBIC0' }, { name: 'write mic3.SPAD0' }],
    });
    assert.equal(bp.verified, true);
    assert.equal(bad.verified, false);
    assert.match(bad.message ?? '', /no card mic3/);
    const stop = await runToStop(rt, () => rt.consoleInput(0, enc('poweroff\r')));
    assert.equal(stop.reason, 'data breakpoint');
    assert.equal(stop.description, 'SDBIC0 (mic0.bar4+0x1cc90) written with 0x80000000 by mic0 card OS');
    assert.deepEqual(stop.hitBreakpointIds, [bp.id]);
  } finally {
    rt.dispose();
  }
});

test('a write of the same value hits every time (doorbells rewrite the same value)', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    // SDBIC1 is c2h_vdev_db of the console: every console write rings it with 0x80000000.
    const info = bm.dataBreakpointInfo({ name: 'mic0.bar4+0x1cc94', asAddress: true, bytes: 4 }, noVars);
    bm.setDataBreakpoints({ breakpoints: [{ dataId: info.dataId!, accessType: 'write' }] });
    const first = await runToStop(rt, () => rt.consoleInput(0, enc('echo hi\r')));
    const second = await runToStop(rt);
    assert.equal(first.reason, 'data breakpoint');
    assert.equal(second.reason, 'data breakpoint');
    assert.equal(first.event?.value, 0x80000000);
    assert.equal(second.event?.value, 0x80000000);
    assert.ok(second.event!.seq > first.event!.seq);
  } finally {
    rt.dispose();
  }
});

test('dma memcpy with condition len >= 4096 stops on a large copy (cat /proc/cpuinfo)', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    const [bp] = bm.setFunctionBreakpoints({
      breakpoints: [{ name: 'dma memcpy', condition: 'len >= 4096' }],
    });
    assert.equal(bp.verified, true);
    const info = await runToStop(rt, () => rt.consoleInput(0, enc('cat /proc/cpuinfo\r')));
    assert.equal(info.reason, 'function breakpoint');
    assert.match(info.description, /^DMA descriptor on mic0 DMA channel \d: MEMCPY src=\S+ dst=\S+ len=\d+/);
    const f = eventFields(rt.machine, info.event!);
    assert.equal(f.type, 'memcpy');
    assert.ok((f.len as number) >= 4096, `len ${f.len}`);
    assert.match(info.initiator, /^mic0\.dma\d$/);
  } finally {
    rt.dispose();
  }
});

test('a data breakpoint inside a bulk DMA write hits, naming the DMA channel', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    // Stop at the descriptor of a host→card copy (to GDDR); the copy itself comes after.
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'dma memcpy', condition: 'dst < 0x80_0000_0000' }] });
    const desc = await runToStop(rt, () => rt.consoleInput(0, enc('echo hello\r')));
    const f = eventFields(rt.machine, desc.event!);
    const dst = f.dst as number;
    bm.setFunctionBreakpoints({ breakpoints: [] });
    const info = bm.dataBreakpointInfo(
      { name: `mic0.gddr+0x${(dst + 4).toString(16)}`, asAddress: true, bytes: 4 },
      noVars,
    );
    bm.setDataBreakpoints({ breakpoints: [{ dataId: info.dataId!, accessType: 'write' }] });
    const stop = await runToStop(rt);
    assert.equal(stop.reason, 'data breakpoint');
    assert.equal(stop.initiator, desc.initiator);
    assert.equal(stop.event?.kind, 'mem.write');
    assert.equal(stop.event?.address, dst);
    assert.match(
      stop.description,
      new RegExp(
        `^mic0\\.gddr\\+0x${(dst + 4).toString(16)} \\(4 bytes\\) written by mic0 DMA channel \\d: the access mic0\\.gddr\\+0x${dst.toString(16)} \\(\\d+ bytes\\) overlaps it; it now holds 0x[0-9a-f]+$`,
      ),
    );
  } finally {
    rt.dispose();
  }
});

test('exception filter protocol stops on an injected §9 misuse with the rule sentence', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    const [bp] = bm.setExceptionBreakpoints({ filters: ['protocol'] });
    assert.equal(bp.verified, true);
    const info = await runToStop(rt, () =>
      rt.machine.sched.at(0, () => rt.machine.cards[0].mmioWrite(R.SDBIC(0) + 4 * 5, 0x80000000, 'card')),
    );
    assert.equal(info.reason, 'exception');
    assert.match(info.text!, /^§9 rule 3: mic0: card wrote SDBIC5/);
    assert.match(info.description, /^protocol error \(§9 rule 3\): mic0: card wrote SDBIC5/);
    assert.equal(info.event?.kind, 'protocol');
  } finally {
    rt.dispose();
  }
});

test('exception filter conditions: a false condition does not stop, a true one does', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    const res = bm.setExceptionBreakpoints({
      filters: [],
      filterOptions: [
        { filterId: 'protocol', condition: 'rule == 3 && contains(text, "SDBIC6")' },
        { filterId: 'nonsense' },
        { filterId: 'dmaError', condition: 'rule ==' },
      ],
    });
    assert.deepEqual(
      res.map((b) => b.verified),
      [true, false, false],
    );
    assert.match(
      res[1].message!,
      /unknown exception filter 'nonsense'; filters are protocol, dmaError, cardCrash/,
    );
    assert.match(res[2].message!, /^condition: /);
    const info = await runToStop(rt, () =>
      rt.machine.sched.at(0, () => {
        rt.machine.cards[0].mmioWrite(R.SDBIC(0) + 4 * 5, 0x80000000, 'card');
        rt.machine.sched.at(10, () => rt.machine.cards[0].mmioWrite(R.SDBIC(0) + 4 * 6, 0x80000000, 'card'));
      }),
    );
    assert.match(info.text!, /SDBIC6/);
  } finally {
    rt.dispose();
  }
});

test('exception filter dmaError stops when DCHERR is set (DHPR written twice, §9 #18)', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    bm.setExceptionBreakpoints({ filters: ['protocol', 'dmaError'] });
    const info = await runToStop(rt, () =>
      rt.machine.sched.at(0, () => {
        const c = rt.machine.cards[0];
        c.mmioWrite(R.DHPR(0), c.reg(R.DHPR(0)), 'host');
      }),
    );
    assert.equal(info.reason, 'exception');
    assert.match(info.text!, /^DCHERR=0x[1-9a-f][0-9a-f]* on mic0 DMA channel 0$/);
    assert.match(info.description, /^DMA error \(§9 rule 18\): mic0 DMA channel 0: DHPR written/);
  } finally {
    rt.dispose();
  }
});

test('exception filter cardCrash stops once on a card panic', async () => {
  const { rt, bm } = launch();
  try {
    await toPrompt(rt, bm);
    bm.setExceptionBreakpoints({ filters: ['cardCrash'] });
    const info = await runToStop(rt, () => rt.consoleInput(0, enc('panic oops\r')));
    assert.equal(info.reason, 'exception');
    assert.match(info.text!, /^card crash: mic0 Kernel panic - not syncing: oops/);
    // The host then reads shutdown_status crashed: the same crash does not stop again.
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'state shutting_down' }] });
    const next = await runToStop(rt);
    assert.equal(next.reason, 'function breakpoint');
    assert.match(next.description, /state shutting_down/);
  } finally {
    rt.dispose();
  }
});

test('state online and console text breakpoints', async () => {
  const { rt, bm } = launch();
  try {
    const [online, prompt] = bm.setFunctionBreakpoints({
      breakpoints: [{ name: 'state online' }, { name: 'console "[root@mic0"' }],
    });
    const a = await runToStop(rt);
    assert.equal(a.description, 'mic0 state online');
    assert.deepEqual(a.hitBreakpointIds, [online.id]);
    assert.equal(rt.machine.state(0), 'online');
    const b = await runToStop(rt);
    assert.equal(b.reason, 'function breakpoint');
    assert.deepEqual(b.hitBreakpointIds, [prompt.id]);
    assert.match(
      b.description,
      /^mic0 console output .* \(breakpoint: console output containing "\[root@mic0"\)$/,
    );
  } finally {
    rt.dispose();
  }
});

test('a condition over a field the event lacks is false; other condition failures stop with the reason', async () => {
  const { rt, bm } = launch();
  try {
    // MSI-X interrupts have no db: only card doorbell interrupts can satisfy this.
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'irq', condition: 'db == 1' }] });
    const a = await runToStop(rt);
    assert.match(a.description, /^interrupt card irq 27 \(doorbell 1\) on mic0$/);
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'doorbell', condition: 'dir < 3' }] });
    const b = await runToStop(rt);
    assert.equal(b.reason, 'function breakpoint');
    assert.match(
      b.description,
      /^doorbell .* — stopped because the condition failed: condition 'dir < 3': '<' cannot compare "(h2c|c2h)" with 3 \(breakpoint 'doorbell'\)$/,
    );
  } finally {
    rt.dispose();
  }
});

test('vq console.tx and irq breakpoints', async () => {
  const { rt, bm } = launch();
  try {
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'vq console.tx', condition: 'head >= 0' }] });
    const a = await runToStop(rt);
    assert.match(a.description, /^mic0 console\.tx head \d+/);
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'irq host' }] });
    const b = await runToStop(rt);
    assert.match(b.description, /^interrupt MSI-X vector \d+ on mic0$/);
  } finally {
    rt.dispose();
  }
});

test('vq console.rx hits on the console rx queue while 40 breakpoints on other queues are armed', async () => {
  const { rt, bm } = launch();
  try {
    const others = [];
    for (let i = 0; i < 40; i++)
      others.push({ name: i % 2 ? 'vq net.tx' : 'vq block.requestq', condition: `head > ${1000 + i}` });
    let rxChains = 0;
    rt.onMachine((m) =>
      m.spine.observe(
        (e) => void (e.kind.startsWith('vring') && e.detail.startsWith('mic0 console.rx ') && rxChains++),
      ),
    );
    const bps = bm.setFunctionBreakpoints({
      breakpoints: [...others, { name: 'vq console.rx', condition: 'head >= 0', hitCondition: '3' }],
    });
    const info = await runToStop(rt);
    assert.equal(info.reason, 'function breakpoint');
    assert.match(info.description, /^mic0 console\.rx head \d+/);
    assert.deepEqual(info.hitBreakpointIds, [bps[40].id]);
    assert.equal(rxChains, 3, 'the third console.rx chain');
  } finally {
    rt.dispose();
  }
});

test('irq host with vector == N among others: filed by vector, hit counts only its own vector', async () => {
  const { rt, bm } = launch();
  try {
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'irq host' }] });
    const first = await runToStop(rt);
    const vector = first.event!.address;
    let same = 0;
    rt.machine.spine.observe(
      (e) => void (e.kind === 'irq' && e.space.endsWith('.msix') && e.address === vector && same++),
    );
    const others = [];
    for (let i = 0; i < 20; i++)
      others.push({ name: i % 2 ? 'irq host' : 'irq card', condition: `vector == ${200 + i}` });
    const bps = bm.setFunctionBreakpoints({
      breakpoints: [
        ...others,
        { name: 'irq card', condition: `vector == ${vector}` }, // the card's APIC vectors are ≥ 17
        { name: 'irq host', condition: `${vector} == vector`, hitCondition: '2' },
      ],
    });
    const info = await runToStop(rt);
    assert.match(info.description, new RegExp(`^interrupt MSI-X vector ${vector} on mic0$`));
    assert.deepEqual(info.hitBreakpointIds, [bps[21].id]);
    assert.equal(same, 2);
  } finally {
    rt.dispose();
  }
});

test('unverified breakpoints say why; ids are stable across re-sets of the same text', () => {
  const { rt, bm } = launch({ cards: 2 });
  try {
    const first = bm.setFunctionBreakpoints({
      breakpoints: [
        { name: 'doorbell h2c 3' },
        { name: 'dma teleport' },
        { name: 'mic2: irq' },
        { name: 'irq', condition: 'len >=' },
        { name: 'irq', condition: 'vectr == 1' },
        { name: 'dma', hitCondition: 'sometimes' },
      ],
    });
    assert.deepEqual(
      first.map((b) => b.verified),
      [true, false, false, false, false, false],
    );
    assert.match(first[1].message!, /unexpected 'teleport' after dma: write dma \[ch N\]/);
    assert.match(first[2].message!, /no card mic2: this launch has 2 cards \(mic0–mic1\)/);
    assert.match(first[3].message!, /^condition: unexpected the end/);
    assert.match(first[4].message!, /unknown name 'vectr'; fields are/);
    assert.match(first[5].message!, /hit condition 'sometimes' is not understood/);
    const again = bm.setFunctionBreakpoints({ breakpoints: [{ name: 'dma' }, { name: 'doorbell  h2c 3' }] });
    assert.equal(again[1].id, first[0].id, 'same breakpoint, same id');
    assert.notEqual(again[0].id, first[0].id);
    const data = bm.setDataBreakpoints({
      breakpoints: [{ dataId: 'nonsense' }, { dataId: 'mic0.bar4+0x1cc90/4', accessType: 'readWrite' }],
    });
    assert.equal(data[0].verified, false);
    assert.match(data[0].message!, /not a data breakpoint id/);
    assert.equal(data[1].verified, true);
  } finally {
    rt.dispose();
  }
});

test('dataBreakpointInfo: variables, host-physical addresses, register names, no address', async () => {
  const { rt, bm } = launch();
  try {
    assert.equal(
      bm.dataBreakpointInfo({ name: 'mic0.bar4+0x1cc90', asAddress: true }, noVars).dataId,
      null,
      'no machine yet',
    );
    rt.start();
    const vars: VariableLookup = {
      lookup: (ref, name) =>
        ref === 7 && name === 'SDBIC0'
          ? { memoryReference: 'mic0.bar4+0x1cc90', bytes: 4, description: 'SDBIC0' }
          : null,
    };
    const v = bm.dataBreakpointInfo({ variablesReference: 7, name: 'SDBIC0' }, vars);
    assert.equal(v.dataId, 'mic0.bar4+0x1cc90/4');
    assert.equal(v.description, 'SDBIC0 (mic0.bar4+0x1cc90)');
    assert.equal(v.canPersist, true);
    const none = bm.dataBreakpointInfo({ variablesReference: 7, name: 'state' }, vars);
    assert.equal(none.dataId, null);
    assert.match(none.description, /has no address/);
    const gddr = bm.dataBreakpointInfo({ name: 'mic0.gddr+0x1000', asAddress: true, bytes: 64 }, noVars);
    assert.equal(gddr.dataId, 'mic0.gddr+0x1000/64');
    assert.equal(gddr.description, 'mic0.gddr+0x1000 (64 bytes)');
    assert.equal(
      bm.dataBreakpointInfo({ name: 'host+0x2000', asAddress: true }, noVars).dataId,
      'host+0x2000/4',
    );
    assert.equal(
      bm.dataBreakpointInfo({ name: '0x3000', asAddress: true }, noVars).dataId,
      'host+0x3000/4',
      'host-physical RAM',
    );
    assert.equal(
      bm.dataBreakpointInfo({ name: 'mic0.SICR0' }, noVars).dataId,
      `mic0.bar4+0x${R.SICR0.toString(16)}/4`,
    );
    const bad = bm.dataBreakpointInfo({ name: 'nowhere+0x1', asAddress: true }, noVars);
    assert.equal(bad.dataId, null);
    assert.match(bad.description, /is not an address: write micN\.bar4\+0x…/);
  } finally {
    rt.dispose();
  }
});

test('the manager observes the spine only while a breakpoint is armed', async () => {
  const { rt, bm } = launch();
  try {
    rt.start();
    assert.equal(bm.observing, false);
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'irq' }] });
    assert.equal(bm.observing, true);
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'bogus' }] });
    assert.equal(bm.observing, false, 'an unverified breakpoint arms nothing');
    bm.setExceptionBreakpoints({ filters: ['protocol'] });
    assert.equal(bm.observing, true);
    bm.setExceptionBreakpoints({ filters: [] });
    assert.equal(bm.observing, false);
  } finally {
    rt.dispose();
  }
});

test('1,000 armed breakpoints that never match examine nothing while the machine boots', async () => {
  const { rt, bm } = launch();
  try {
    const bps = [];
    for (let i = 0; i < 1000; i++)
      bps.push({ dataId: `mic0.gddr+0x${(0x1_0000_0000 + i * 0x2000).toString(16)}/8` });
    bm.setDataBreakpoints({ breakpoints: bps });
    // One breakpoint that does match, to end the run.
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'console "[root@mic0"' }] });
    const info = await runToStop(rt);
    assert.equal(info.reason, 'function breakpoint');
    // Only console events were ever looked at (one candidate each): no scan of the 1,000.
    assert.ok(bm.examined < 50, `examined ${bm.examined}`);
  } finally {
    rt.dispose();
  }
});

test('breakpoints follow a restart; hit counts start again', async () => {
  const { rt, bm } = launch();
  try {
    bm.setFunctionBreakpoints({ breakpoints: [{ name: 'doorbell h2c', hitCondition: '1' }] });
    const a = await runToStop(rt);
    rt.restart();
    const b = await runToStop(rt);
    assert.equal(b.reason, 'function breakpoint');
    assert.equal(b.event?.seq, a.event?.seq, 'the same first doorbell of a deterministic run');
  } finally {
    rt.dispose();
  }
});
