// The inspection scopes and the mic/… custom requests, on a real DebugRuntime (no DAP): the
// Registers scope shows what BAR4 holds, the Device Page and Virtqueues scopes show what the
// emulator's decoders show, setVariable writes with register semantics, and looking never
// changes the machine.

import { regValue } from '../../src/emulator/lib/numbers.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { DebugProtocol } from '@vscode/debugprotocol';

import { DebugRuntime, type StopInfo } from '../../src/debugAdapter/runtime.ts';
import { stopAt } from '../helpers/runtime.ts';
import { parseLaunchConfig } from '../../src/debugAdapter/launchConfig.ts';
import { VariablesProvider } from '../../src/debugAdapter/inspection/variables.ts';
import { cardOfInitiator } from '../../src/debugAdapter/inspection/format.ts';
import { handleCustomRequest } from '../../src/debugAdapter/customRequests.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { cloneEvent, type BusEvent } from '../../src/emulator/sim/busEvent.ts';
import { decodeDevicePage } from '../../src/emulator/virtio/devicePage.ts';
import { virtqueueViews } from '../../src/emulator/inspect/virtqueues.ts';
import { smptViews } from '../../src/emulator/inspect/smptView.ts';
import { registerViews } from '../../src/emulator/inspect/registers.ts';
import { dp } from '../../src/emulator/inspect/debugfs.ts';

// ---- helpers -----------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A runtime whose cards are online with their shells up, then paused. */
async function bootedRuntime(cfg: Record<string, unknown> = {}): Promise<DebugRuntime> {
  const rt = new DebugRuntime(parseLaunchConfig(cfg));
  rt.start();
  rt.resume();
  const m = rt.machine;
  const deadline = Date.now() + 30_000;
  while (!m.cards.every((_, i) => m.state(i) === 'online' && m.cardOs[i].shell !== null)) {
    if (Date.now() > deadline)
      throw new Error(`cards did not boot: ${m.mics.map((d) => d.state).join(', ')}`);
    await sleep(20);
  }
  await sleep(20);
  await pause(rt);
  return rt;
}

async function pause(rt: DebugRuntime): Promise<StopInfo> {
  const stopped = once(rt, 'stopped');
  rt.pause();
  return ((await stopped) as [StopInfo])[0];
}

/** Resume and stop right after the first event `pred` accepts (as a breakpoint would). */

function scope(scopes: DebugProtocol.Scope[], name: string): number {
  const s = scopes.find((x) => x.name === name || x.name.startsWith(`${name} (`));
  assert.ok(s, `scope ${name} among ${scopes.map((x) => x.name).join(', ')}`);
  return s.variablesReference;
}

function child(vars: VariablesProvider, ref: number, name: string): DebugProtocol.Variable {
  const list = vars.variables(ref);
  const v = list.find((x) => x.name === name);
  assert.ok(v, `${name} among ${list.map((x) => x.name).join(', ')}`);
  return v;
}

/** Follow a path of names from a reference. */
function at(vars: VariablesProvider, ref: number, ...path: string[]): DebugProtocol.Variable {
  let v: DebugProtocol.Variable | undefined;
  for (const p of path) {
    v = child(vars, ref, p);
    ref = v.variablesReference;
  }
  return v!;
}

/** Every variable under every scope, depth first. */
function walkAll(vars: VariablesProvider, scopes: DebugProtocol.Scope[]): DebugProtocol.Variable[] {
  const out: DebugProtocol.Variable[] = [];
  const walk = (ref: number) => {
    for (const v of vars.variables(ref)) {
      out.push(v);
      if (v.variablesReference) walk(v.variablesReference);
    }
  };
  for (const s of scopes) walk(s.variablesReference);
  return out;
}

const num = (s: string) => Number(s.split(' ')[0]);
const hex = (n: number) => '0x' + n.toString(16);

// ---- scopes ------------------------------------------------------------------------------

test('the selected card is the card of the thread: micN.cpu, micN.dmaC, host.micN.* → N, else the event’s card', async () => {
  const rt = await bootedRuntime({ cards: 2 });
  try {
    const m = rt.machine;
    assert.equal(cardOfInitiator(m, 'mic1.cpu'), 1);
    assert.equal(cardOfInitiator(m, 'mic1.dma0'), 1);
    assert.equal(cardOfInitiator(m, 'host.mic1.console'), 1);
    assert.equal(cardOfInitiator(m, 'host.driver', 'mic1.bar4'), 1);
    assert.equal(cardOfInitiator(m, 'host.mpssd', 'host'), 0);
    assert.equal(cardOfInitiator(m, 'mic7.cpu'), 0, 'a card the machine lacks falls back to 0');

    const vars = new VariablesProvider(() => rt);
    const scopes = vars.scopes('mic1.cpu');
    assert.deepEqual(
      scopes.map((s) => s.name),
      [
        'Event',
        'Registers (mic1)',
        'PCI Config (mic1)',
        'Device Page (mic1)',
        'Virtqueues (mic1)',
        'DMA (mic1)',
        'SMPT (mic1)',
      ],
    );
    assert.equal(scopes[1].presentationHint, 'registers');
    assert.equal(vars.selectedCard(), 1);
    assert.equal(
      at(vars, scopes[1].variablesReference, 'Scratchpads', 'SPAD14').memoryReference,
      'mic1.bar4+0x1ab58',
    );
  } finally {
    rt.dispose();
  }
});

test('Registers scope: SICE0 = 0xff0f, SPAD14/15 = the device page address, fields as children, memory references', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const vars = new VariablesProvider(() => rt);
    const regs = scope(vars.scopes('mic0.cpu'), 'Registers');
    assert.deepEqual(
      vars.variables(regs).map((g) => g.name),
      ['POST', 'SMPT', 'Reset', 'Interrupts', 'DMA', 'Doorbells', 'Scratchpads'],
    );
    const sice = at(vars, regs, 'Interrupts', 'SICE0');
    assert.equal(sice.value, '0x0000ff0f');
    assert.equal(sice.memoryReference, 'mic0.bar4+0x1900c');
    assert.equal(sice.evaluateName, 'mic0.SICE0');
    assert.match(sice.type ?? '', /Host interrupt enable/);

    const dpMic = m.mics[0].dpMic;
    assert.ok(dpMic > 0);
    assert.equal(at(vars, regs, 'Scratchpads', 'SPAD14').value, regValue(dpMic % 2 ** 32));
    assert.equal(at(vars, regs, 'Scratchpads', 'SPAD15').value, regValue(Math.floor(dpMic / 2 ** 32)));

    const sicr = at(vars, regs, 'Interrupts', 'SICR0');
    assert.deepEqual(
      vars.variables(sicr.variablesReference).map((f) => f.name),
      ['DBR', 'DMA', 'ERR'],
    );
    // DMA registers: DCR, then one group per channel.
    const dma = at(vars, regs, 'DMA');
    assert.deepEqual(
      vars.variables(dma.variablesReference).map((v) => v.name),
      ['DCR', ...Array.from({ length: 8 }, (_, n) => `channel ${n}`)],
    );
    const dstat = at(vars, regs, 'DMA', 'channel 0', 'DSTAT0');
    assert.deepEqual(dstat.presentationHint?.attributes, ['readOnly']);

    // Every register the scope shows has the value BAR4 holds.
    const shown = new Map(
      walkAll(vars, [{ name: 'r', variablesReference: regs, expensive: false }])
        .filter((v) => v.evaluateName && /^mic0\.\w+$/.test(v.evaluateName))
        .map((v) => [v.evaluateName!.slice(5), v.value]),
    );
    const views = registerViews(m.cards[0]);
    assert.equal(shown.size, views.length);
    for (const r of views) assert.equal(shown.get(r.name), regValue(r.value), r.name);
  } finally {
    rt.dispose();
  }
});

test('Device Page scope: the values decodeDevicePage gives, with host memory references', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const vars = new VariablesProvider(() => rt);
    const ref = scope(vars.scopes('host.driver'), 'Device Page');
    const dev = m.mics[0];
    const page = new Uint8Array(4096);
    m.hostRam.read(dev.dpHost, page);
    const d = decodeDevicePage(page);

    assert.equal(at(vars, ref, 'host address').memoryReference, `host+${hex(dev.dpHost)}`);
    assert.equal(num(at(vars, ref, 'MIC address').value), dev.dpMic);
    const bp = at(vars, ref, 'bootparam').variablesReference;
    assert.equal(num(child(vars, bp, 'magic').value), d.magic);
    assert.equal(child(vars, bp, 'magic').memoryReference, `host+${hex(dev.dpHost)}`);
    for (const f of [
      'c2h_shutdown_db',
      'h2c_shutdown_db',
      'h2c_config_db',
      'shutdown_status',
      'shutdown_card',
    ] as const)
      assert.equal(num(child(vars, bp, f).value), d[f], f);

    const entries = vars.variables(ref).filter((v) => v.name.startsWith('['));
    assert.equal(entries.length, d.devices.length);
    assert.ok(d.devices.length >= 2, 'console and net');
    d.devices.forEach((e, i) => {
      const r = entries[i].variablesReference;
      assert.equal(entries[i].memoryReference, `host+${hex(dev.dpHost + e.offset)}`);
      assert.equal(num(child(vars, r, 'type').value), e.type);
      assert.equal(num(child(vars, r, 'num_vq').value), e.num_vq);
      assert.equal(num(child(vars, r, 'feature_len').value), e.feature_len);
      assert.equal(num(child(vars, r, 'config_len').value), e.config_len);
      assert.equal(num(child(vars, r, 'status').value), e.status);
      assert.match(child(vars, r, 'status').value, /DRIVER_OK/);
      e.vqconfig.forEach((q, k) => {
        const vq = child(vars, r, `vqconfig[${k}]`).variablesReference;
        assert.equal(num(child(vars, vq, 'address').value), q.address);
        assert.equal(num(child(vars, vq, 'used_address').value), q.used_address);
        assert.equal(child(vars, vq, 'used_address').memoryReference, `mic0.gddr+${hex(q.used_address)}`);
        assert.equal(num(child(vars, vq, 'num').value), q.num);
      });
      const ctrl = child(vars, r, 'device_ctrl').variablesReference;
      for (const f of [
        'config_change',
        'vdev_reset',
        'guest_ack',
        'host_ack',
        'used_address_updated',
        'c2h_vdev_db',
        'h2c_vdev_db',
      ] as const)
        assert.equal(num(child(vars, ctrl, f).value), e.ctrl[f], f);
      assert.equal(num(child(vars, ctrl, 'vdev').value), e.ctrl.vdev);
    });
  } finally {
    rt.dispose();
  }
});

test('Virtqueues scope: num 128, the index table and the in-flight chains with GDDR buffer references', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const vars = new VariablesProvider(() => rt);
    const ref = scope(vars.scopes('host.mic0.console'), 'Virtqueues');
    const views = virtqueueViews(m, 0);
    assert.deepEqual(
      vars.variables(ref).map((v) => v.name),
      views.map((d) => d.device),
    );
    const con = views.find((d) => d.short === 'console')!;
    const rx = con.queues.find((q) => q.queueName === 'rx')!;
    const q = at(vars, ref, 'virtio-console', 'console.rx').variablesReference;
    assert.equal(child(vars, q, 'num').value, '128');
    assert.equal(Number(child(vars, q, 'avail.idx').value), rx.availIdx);
    assert.equal(Number(child(vars, q, 'used.idx').value), rx.usedIdx);
    assert.equal(Number(child(vars, q, 'info.avail_idx').value), rx.infoAvailIdx);
    assert.equal(Number(child(vars, q, 'host last_avail_idx').value), rx.hostLastAvail);
    assert.equal(Number(child(vars, q, 'card avail_idx').value), rx.cardAvailIdx);
    assert.equal(child(vars, q, 'ring').memoryReference, `host+${hex(rx.ringHost)}`);

    // The card keeps receive buffers posted: chains in flight, one WRITE descriptor each.
    assert.ok(rx.inFlight.length > 0, 'rx buffers are in flight');
    const flight = child(vars, q, 'in flight').variablesReference;
    const chains = vars.variables(flight);
    assert.equal(chains.length, rx.inFlight.length);
    const c0 = rx.inFlight[0];
    assert.equal(chains[0].name, `[${c0.slot}] head ${c0.head}`);
    const desc = child(vars, chains[0].variablesReference, `desc[${c0.descs[0].index}]`);
    assert.equal(desc.memoryReference, `mic0.gddr+${hex(c0.descs[0].addr)}`);
    const fields = desc.variablesReference;
    assert.equal(num(child(vars, fields, 'addr').value), c0.descs[0].addr);
    assert.equal(Number(child(vars, fields, 'len').value), c0.descs[0].len);
    assert.match(child(vars, fields, 'flags').value, /WRITE/);
    assert.equal(Number(child(vars, fields, 'next').value), c0.descs[0].next);

    // Paging the chains with the indexed filter.
    assert.deepEqual(
      vars.variables(flight, 'indexed', 1, 2).map((v) => v.name),
      chains.slice(1, 3).map((v) => v.name),
    );
  } finally {
    rt.dispose();
  }
});

test('DMA scope: per channel the registers channelView reads, ring and recent descriptors decoded', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const vars = new VariablesProvider(() => rt);
    const ref = scope(vars.scopes('mic0.dma0'), 'DMA');
    assert.deepEqual(
      vars.variables(ref).map((v) => v.name),
      ['DCR', ...Array.from({ length: 8 }, (_, n) => `channel ${n}`)],
    );
    const v = m.cards[0].dma.channelView(0);
    const ch = at(vars, ref, 'channel 0').variablesReference;
    for (const r of ['DCAR', 'DHPR', 'DTPR', 'DRAR_LO', 'DRAR_HI', 'DSTAT', 'DCHERR', 'DCHERRMSK'] as const)
      assert.equal(child(vars, ch, `${r}0`).value, regValue(v[r]), r);
    assert.equal(child(vars, ch, 'owner').value, 'host');
    assert.equal(Number(child(vars, ch, 'ring size').value), v.ringSize);
    assert.equal(
      child(vars, ch, 'ring').memoryReference,
      `host+${hex(m.cards[0].smptToHost(v.ringAddress))}`,
    );
    assert.ok(v.recent.length > 0, 'the boot moved virtio data with channel 0');
    const recent = vars.variables(child(vars, ch, 'recent descriptors').variablesReference);
    assert.deepEqual(
      recent.map((r) => r.value),
      v.recent.map((r) => r.text),
    );
    const memcpy = v.recent.findIndex((r) => r.desc.type === 'memcpy');
    assert.ok(memcpy >= 0);
    const d = recent[memcpy].variablesReference;
    assert.equal(num(child(vars, d, 'src').value), v.recent[memcpy].desc.src);
    assert.equal(Number(child(vars, d, 'len').value), v.recent[memcpy].desc.len);
    assert.ok(child(vars, d, 'src').memoryReference);
  } finally {
    rt.dispose();
  }
});

test('SMPT scope: entry, register, host base and refcount as smptViews has them', async () => {
  const rt = await bootedRuntime();
  try {
    const vars = new VariablesProvider(() => rt);
    const ref = scope(vars.scopes('host.driver'), 'SMPT');
    const views = smptViews(rt.machine, 0);
    const entries = vars.variables(ref);
    assert.equal(entries.length, 32);
    for (const e of views) {
      const r = entries[e.index].variablesReference;
      assert.equal(child(vars, r, 'register').value, regValue(e.register));
      assert.equal(child(vars, r, 'register').memoryReference, `mic0.bar4+${hex(R.SMPT(e.index))}`);
      assert.equal(num(child(vars, r, 'host base').value), e.hwBase);
      assert.equal(num(child(vars, r, 'driver base').value), e.swBase);
      assert.equal(Number(child(vars, r, 'refcount').value), e.refCount);
    }
    assert.ok(
      views.some((e) => e.refCount > 0),
      'the device page and rings are mapped',
    );
  } finally {
    rt.dispose();
  }
});

test('Event scope: the stopped doorbell with its register, memory reference and frames', async () => {
  const rt = await bootedRuntime();
  try {
    const info = await stopAt(
      rt,
      (e) => e.kind === 'doorbell' && e.detail.startsWith('h2c'),
      () => rt.consoleInput(0, new TextEncoder().encode('x')),
    );
    const e = info.event!;
    const vars = new VariablesProvider(() => rt);
    const ref = scope(vars.scopes(info.initiator), 'Event');
    assert.equal(child(vars, ref, 'stop').value, info.description);
    assert.equal(Number(child(vars, ref, 'seq').value), e.seq);
    assert.equal(child(vars, ref, 'kind').value, 'doorbell');
    assert.equal(child(vars, ref, 'initiator').value, e.initiator);
    const addr = child(vars, ref, 'address');
    assert.equal(num(addr.value), e.address);
    assert.equal(addr.memoryReference, `mic0.bar4+${hex(e.address)}`);
    assert.match(child(vars, ref, 'register').value, /^(APICICR|RDMASR)\d$/);
    assert.equal(child(vars, ref, 'detail').value, e.detail);
    const frames = child(vars, ref, 'frames');
    assert.ok(vars.variables(frames.variablesReference).length > 0, 'the software path that rang it');
    assert.deepEqual(vars.lookup(ref, 'address'), {
      memoryReference: addr.memoryReference,
      bytes: 4,
      description: 'address',
    });
  } finally {
    rt.dispose();
  }
});

test('reading every scope fully changes nothing: same event count, same registers, same memory', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const vars = new VariablesProvider(() => rt);
    const seq = m.spine.seq;
    const regs = m.cards[0].regs.slice();
    const page = new Uint8Array(4096);
    m.hostRam.read(m.mics[0].dpHost, page);
    const all = walkAll(vars, vars.scopes('host.driver'));
    assert.ok(all.length > 1000, `walked ${all.length} variables`);
    for (const c of [
      'mic/cards',
      'mic/registers',
      'mic/pciConfig',
      'mic/devicePage',
      'mic/virtqueues',
      'mic/dma',
      'mic/smpt',
    ])
      handleCustomRequest({ rt }, c, { card: 0 });
    handleCustomRequest({ rt }, 'mic/debugfs', { card: 0, file: 'vdev_info' });
    assert.equal(m.spine.seq, seq, 'no bus transaction');
    assert.deepEqual(m.cards[0].regs, regs, 'registers keep their values');
    const after = new Uint8Array(4096);
    m.hostRam.read(m.mics[0].dpHost, after);
    assert.deepEqual(after, page);
    assert.equal(rt.running, false);
  } finally {
    rt.dispose();
  }
});

// ---- setVariable, lookup, reset ------------------------------------------------------------

test('setVariable SDBIC0 = 0x80000000 rings card→host doorbell 0: SICR0 bit 0 is raised', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const vars = new VariablesProvider(() => rt);
    const regs = scope(vars.scopes('mic0.cpu'), 'Registers');
    const intr = at(vars, regs, 'Interrupts').variablesReference;
    // Keep the cause bit visible: no auto-clear on delivery.
    const siac = vars.setVariable(intr, 'SIAC0', '0');
    assert.notEqual(typeof siac, 'string', String(siac));
    assert.equal(m.cards[0].reg(R.SIAC0), 0);
    assert.equal(m.cards[0].reg(R.SICR0) & 1, 0);

    const bells = at(vars, regs, 'Doorbells').variablesReference;
    const seen: BusEvent[] = [];
    const off = m.spine.observe((e) => seen.push(cloneEvent(e)));
    const r = vars.setVariable(bells, 'SDBIC0', '0x80000000');
    off();
    assert.notEqual(typeof r, 'string', String(r));
    if (typeof r === 'string') return;
    assert.deepEqual(r.memory, { ref: 'mic0.bar4+0x1cc90', offset: 0, count: 4 });
    assert.equal(r.body.value, '0x00000000', 'DBREQ self-clears');
    assert.equal(r.body.memoryReference, 'mic0.bar4+0x1cc90');
    assert.equal(m.cards[0].reg(R.SICR0) & 1, 1, 'SICR0 bit 0 (card→host doorbell 0)');
    const bell = seen.find((e) => e.kind === 'doorbell');
    assert.ok(bell, 'a doorbell event');
    assert.equal(bell.detail, 'c2h 0');
    assert.equal(bell.initiator, 'debugger');
    assert.ok(
      seen.some((e) => e.kind === 'mmio.write' && e.address === R.SDBIC(0) && e.value === 0x8000_0000),
    );

    // The field of a write-1-to-clear register writes only its bits: SICR0.DBR = 1 clears bit 0.
    const sicr = at(vars, regs, 'Interrupts', 'SICR0').variablesReference;
    const clr = vars.setVariable(sicr, 'DBR', '1');
    assert.notEqual(typeof clr, 'string', String(clr));
    assert.equal(m.cards[0].reg(R.SICR0) & 1, 0);

    // A field of a plain register is read-modify-write.
    const spad = at(vars, regs, 'Scratchpads').variablesReference;
    vars.setVariable(spad, 'SPAD9', '0x12345678');
    assert.equal(m.cards[0].reg(R.SPAD(9)), 0x12345678);
    const post = at(vars, regs, 'POST', 'POST_CODE').variablesReference;
    const before = m.cards[0].reg(R.POST_CODE);
    const pc = vars.setVariable(post, 'char1', '0x41');
    assert.notEqual(typeof pc, 'string', String(pc));
    assert.equal(m.cards[0].reg(R.POST_CODE), ((before & ~0xff00) | 0x4100) >>> 0);
    assert.equal(typeof pc !== 'string' && pc.body.value, '0x41');
  } finally {
    rt.dispose();
  }
});

test('setVariable on a read-only register (DSTAT) or a decoded value is a clear error; bad numbers too', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const vars = new VariablesProvider(() => rt);
    const seq = m.spine.seq;
    const dma = scope(vars.scopes('mic0.dma0'), 'DMA');
    const ch = at(vars, dma, 'channel 0').variablesReference;
    const before = m.cards[0].reg(R.DSTAT(0));
    const r = vars.setVariable(ch, 'DSTAT0', '0x5');
    assert.equal(typeof r, 'string');
    assert.match(r as string, /DSTAT0 is read-only/);
    assert.equal(m.cards[0].reg(R.DSTAT(0)), before);
    const f = vars.setVariable(at(vars, dma, 'channel 0', 'DSTAT0').variablesReference, 'completions', '1');
    assert.match(f as string, /read-only/);

    assert.match(vars.setVariable(ch, 'ring size', '4') as string, /cannot be set/);
    const regs = scope(vars.scopes('mic0.cpu'), 'Registers');
    const spad = at(vars, regs, 'Scratchpads').variablesReference;
    assert.match(vars.setVariable(spad, 'SPAD3', 'lots') as string, /not a number/);
    assert.match(vars.setVariable(spad, 'SPAD3', '0x1_0000_0000') as string, /does not fit/);
    assert.match(vars.setVariable(spad, 'SPAD99', '1') as string, /no variable/);
    assert.equal(m.spine.seq, seq, 'nothing was written');
  } finally {
    rt.dispose();
  }
});

test('lookup gives data breakpoints the register’s BAR4 reference; a new stop drops the handles', async () => {
  const rt = await bootedRuntime();
  try {
    const vars = new VariablesProvider(() => rt);
    const regs = scope(vars.scopes('mic0.cpu'), 'Registers');
    const bells = at(vars, regs, 'Doorbells').variablesReference;
    assert.deepEqual(vars.lookup(bells, 'SDBIC0'), {
      memoryReference: 'mic0.bar4+0x1cc90',
      bytes: 4,
      description: 'SDBIC0 on mic0',
    });
    const sicr = at(vars, regs, 'Interrupts', 'SICR0').variablesReference;
    assert.equal(vars.lookup(sicr, 'DBR')?.memoryReference, 'mic0.bar4+0x19004');
    assert.equal(vars.lookup(regs, 'Interrupts'), null, 'a group is not memory');
    // The same variable keeps its reference while stopped.
    assert.equal(at(vars, regs, 'Doorbells').variablesReference, bells);
    vars.reset();
    assert.deepEqual(vars.variables(bells), []);
    assert.match(vars.setVariable(bells, 'SDBIC0', '1') as string, /gone/);
  } finally {
    rt.dispose();
  }
});

// ---- custom requests ---------------------------------------------------------------------------

test('mic/cards: name, state, shutdown_status, stepping, device id, BARs, post code, card OS state', async () => {
  const rt = await bootedRuntime({ cards: 2 });
  try {
    const r = handleCustomRequest({ rt }, 'mic/cards', undefined) as { cards: Record<string, unknown>[] };
    assert.equal(r.cards.length, 2);
    const c = r.cards[1] as {
      name: string;
      index: number;
      state: string;
      shutdownStatus: string;
      stepping: string;
      deviceId: number;
      bar0: { address: number; size: number; memoryReference: string };
      bar4: { address: number; size: number };
      postCode: { text: string };
      cardOsState: string;
    };
    const dev = rt.machine.mics[1];
    assert.equal(c.name, 'mic1');
    assert.equal(c.index, 1);
    assert.equal(c.state, 'online');
    assert.equal(c.shutdownStatus, 'nop');
    assert.equal(c.stepping, 'C0');
    assert.equal(c.deviceId, 0x2250);
    assert.deepEqual(c.bar0, { address: dev.bar0, size: dev.bar0Size, memoryReference: 'mic1.gddr+0x0' });
    assert.equal(c.bar4.size, 0x20000);
    assert.equal(c.bar4.address, dev.bar4);
    assert.equal(c.postCode.text.length, 2);
    assert.equal(c.cardOsState, 'running');
  } finally {
    rt.dispose();
  }
});

test('mic/registers, mic/devicePage, mic/virtqueues, mic/dma, mic/smpt carry what the scopes show', async () => {
  const rt = await bootedRuntime();
  try {
    const m = rt.machine;
    const s = { rt };
    const regs = handleCustomRequest(s, 'mic/registers', { card: 'mic0' }) as {
      groups: {
        name: string;
        registers: {
          name: string;
          value: number;
          hex: string;
          memoryReference: string;
          tooltip: string;
          fields: unknown[];
        }[];
      }[];
    };
    const sice = regs.groups.find((g) => g.name === 'Interrupts')!.registers.find((r) => r.name === 'SICE0')!;
    assert.equal(sice.value, 0xff0f);
    assert.equal(sice.hex, '0x0000ff0f');
    assert.equal(sice.memoryReference, 'mic0.bar4+0x1900c');
    assert.match(sice.tooltip, /SICE0 — BAR4\+0x1900c \(SBOX\+0x900c\)/);

    const page = new Uint8Array(4096);
    m.hostRam.read(m.mics[0].dpHost, page);
    const decoded = decodeDevicePage(page);
    const dpm = handleCustomRequest(s, 'mic/devicePage', { card: 0 }) as {
      bootparam: Record<string, number>;
      devices: Record<string, unknown>[];
    };
    assert.equal(dpm.bootparam.magic, decoded.magic);
    assert.equal(dpm.devices.length, decoded.devices.length);
    decoded.devices.forEach((d, i) => {
      for (const [k, v] of Object.entries(d)) assert.deepEqual(dpm.devices[i][k], v, k);
    });

    const vq = handleCustomRequest(s, 'mic/virtqueues', {}) as {
      cards: { card: number; devices: { queues: { num: number; availIdx: number }[] }[] }[];
    };
    assert.equal(vq.cards.length, 1);
    const views = virtqueueViews(m, 0);
    assert.deepEqual(
      vq.cards[0].devices.map((d) => d.queues.map((q) => [q.num, q.availIdx])),
      views.map((d) => d.queues.map((q) => [q.num, q.availIdx])),
    );

    const dma = handleCustomRequest(s, 'mic/dma', { card: 0 }) as {
      cards: { channels: Record<string, unknown>[] }[];
    };
    const ch0 = dma.cards[0].channels[0];
    const view = m.cards[0].dma.channelView(0);
    for (const k of [
      'DCAR',
      'DHPR',
      'DTPR',
      'DRAR_LO',
      'DRAR_HI',
      'DSTAT',
      'DCHERR',
      'head',
      'tail',
      'owner',
      'ringSize',
    ] as const)
      assert.deepEqual(ch0[k], view[k], k);
    assert.equal((ch0.recent as unknown[]).length, view.recent.length);

    const smpt = handleCustomRequest(s, 'mic/smpt', { card: 0 }) as {
      entries: { refCount: number; hwBase: number }[];
    };
    assert.deepEqual(
      smpt.entries.map((e) => [e.hwBase, e.refCount]),
      smptViews(m, 0).map((e) => [e.hwBase, e.refCount]),
    );
    const pci = handleCustomRequest(s, 'mic/pciConfig', { card: 0 }) as {
      fields: { name: string; value: number }[];
    };
    assert.equal(pci.fields.find((f) => f.name === 'vendor_id')?.value, 0x8086);

    const fs = handleCustomRequest(s, 'mic/debugfs', { card: 0, file: 'dp' }) as {
      text: string;
      path: string;
    };
    assert.equal(fs.text, dp(m, 0));
    assert.equal(fs.path, '/sys/kernel/debug/mic_host/mic0/dp');
    const list = handleCustomRequest(s, 'mic/debugfs', {}) as { files: { name: string }[] };
    assert.ok(list.files.some((f) => f.name === 'mic_dma_reg'));
  } finally {
    rt.dispose();
  }
});

test('custom requests: errors name what is allowed; unknown commands are not ours; no machine', async () => {
  const rt = await bootedRuntime();
  try {
    const s = { rt };
    assert.match(handleCustomRequest(s, 'mic/registers', { card: 3 }) as string, /no card 3.*mic0/);
    assert.match(
      handleCustomRequest(s, 'mic/debugfs', { card: 0, file: 'soft_reset' }) as string,
      /no debugfs file/,
    );
    assert.match(
      handleCustomRequest(s, 'mic/hostCommand', { card: 0, command: 'explode' }) as string,
      /boot, reset, shutdown, suspend, resume/,
    );
    assert.match(handleCustomRequest(s, 'mic/consoleInput', { card: 0, data: '!!' }) as string, /not base64/);
    assert.match(handleCustomRequest(s, 'mic/nothing', {}) as string, /mic\/cards/);
    assert.equal(handleCustomRequest(s, 'somethingElse', {}), undefined);
    assert.equal(handleCustomRequest(s, 'constructor', {}), undefined);
    assert.match(handleCustomRequest({ rt: null }, 'mic/cards', {}) as string, /launch first/);
  } finally {
    rt.dispose();
  }
});

test('mic/consoleInput types at the card shell; mic/hostCommand writes the state file', async () => {
  const rt = await bootedRuntime();
  try {
    let out = '';
    rt.on('console', (_c, b) => (out += new TextDecoder().decode(b)));
    const r = handleCustomRequest({ rt }, 'mic/consoleInput', {
      card: 0,
      data: Buffer.from('echo via-data\n').toString('base64'),
    }) as { bytes: number };
    assert.equal(r.bytes, 14);
    handleCustomRequest({ rt }, 'mic/consoleInput', { card: 'mic0', text: 'echo via-text\n' });
    rt.resume();
    for (let i = 0; i < 200 && !/via-text\r?\n/.test(out.replace(/echo via-text/g, '')); i++) await sleep(10);
    assert.match(out, /via-data\r\n/);
    assert.match(out.replace(/echo via-text/g, ''), /via-text/);

    const states: string[] = [];
    rt.on('state', (_c, st) => states.push(st));
    const h = handleCustomRequest({ rt }, 'mic/hostCommand', { card: 0, command: 'shutdown' }) as {
      state: string;
    };
    assert.equal(h.state, 'online');
    for (let i = 0; i < 300 && !states.includes('shutting_down'); i++) await sleep(10);
    assert.ok(states.includes('shutting_down'), `states: ${states.join(', ')}`);
  } finally {
    rt.dispose();
  }
});
