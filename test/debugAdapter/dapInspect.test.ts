// Inspection over the real protocol (DebugClient against dist/debugAdapter.js): readMemory of
// BAR4 shows what the Registers scope shows, writeMemory rings a doorbell, setVariable writes a
// register, the Debug Console's dp matches the Device Page scope, and the mic/… custom requests
// answer in the shapes docs/custom-requests.md documents.

import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DebugProtocol } from '@vscode/debugprotocol';

import { buildAdapter, Dap, le32, removeAdapterCopy, resultNumber, u32 } from '../helpers/dap.ts';

const T = { timeout: 60_000 };

let adapter: string;
let d: Dap | null = null;

before(() => {
  adapter = buildAdapter();
});
after(() => removeAdapterCopy());
afterEach(async () => {
  await d?.close();
  d = null;
});

/** A booted card, paused: returns the top frame of the stopped thread. */
async function bootedAndPaused(): Promise<{ dap: Dap; frameId: number }> {
  d = Dap.stdio(adapter);
  await d.launchBooted({});
  const stop = await d.pause();
  assert.equal(stop.reason, 'pause');
  const [top] = await d.frames(stop.threadId!);
  return { dap: d, frameId: top.id };
}

/** name → variable, for the children of `ref`. */
async function byName(dap: Dap, ref: number): Promise<Map<string, DebugProtocol.Variable>> {
  return new Map((await dap.variables(ref)).map((v) => [v.name, v]));
}

test(
  'readMemory of BAR4 returns the values the Registers scope shows (SICE0, SPAD14/15, every register)',
  T,
  async () => {
    const { dap, frameId } = await bootedAndPaused();
    const regs = await dap.scope(frameId, 'Registers');
    assert.equal(
      (await dap.scopes(frameId)).find((s) => s.variablesReference === regs.ref)?.presentationHint,
      'registers',
    );

    const sice0 = await dap.find(regs.ref, 'SICE0');
    assert.ok(sice0);
    assert.equal(sice0.variable.value, '0x0000ff0f');
    assert.equal(sice0.variable.memoryReference, 'mic0.bar4+0x1900c');
    assert.equal(u32(await dap.readMemory('mic0.bar4+0x1900c', 4)), 0x0000ff0f);
    // The same bytes through readMemory's offset, and through the host-physical address of BAR4.
    assert.equal(u32(await dap.readMemory('mic0.bar4', 4, 0x1900c)), 0xff0f);
    const cards = await dap.custom('mic/cards');
    const bar4: number = cards.cards[0].bar4.address;
    assert.equal(u32(await dap.readMemory(`0x${(bar4 + 0x1900c).toString(16)}`, 4)), 0xff0f);

    // SPAD14/15 hold the device page's MIC address (low/high), as the card found it.
    const spad14 = await dap.find(regs.ref, 'SPAD14');
    const spad15 = await dap.find(regs.ref, 'SPAD15');
    assert.ok(spad14 && spad15);
    const lo = u32(await dap.readMemory(spad14.variable.memoryReference!, 4));
    const hi = u32(await dap.readMemory(spad15.variable.memoryReference!, 4));
    assert.equal(resultNumber(spad14.variable.value), lo);
    assert.equal(resultNumber(spad15.variable.value), hi);
    assert.equal(hi * 2 ** 32 + lo, cards.cards[0].devicePage.mic);

    // Every register of every group: the value shown is the dword at its memoryReference.
    let checked = 0;
    for (const group of regs.vars) {
      const stack = [group.variablesReference];
      while (stack.length) {
        for (const v of await dap.variables(stack.pop()!)) {
          if (!v.memoryReference?.startsWith('mic0.bar4+')) {
            if (v.variablesReference) stack.push(v.variablesReference); // a subgroup (DMA channel n)
            continue;
          }
          const raw = u32(await dap.readMemory(v.memoryReference, 4));
          assert.equal(resultNumber(v.value), raw, `${v.name} at ${v.memoryReference}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 150, `${checked} registers compared`);
  },
);

test('writeMemory of 0x80000000 at SDBIC0 rings c2h doorbell 0 and sends a memory event', T, async () => {
  d = Dap.stdio(adapter);
  const dap = d;
  await dap.launchBooted({});
  // The machine runs (idle): the debugger's write is a bus transaction like any other.
  const [bp] = (await dap.dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'doorbell c2h 0' }] }))
    .body.breakpoints;
  const since = dap.mark();
  const w = await dap.writeMemory('mic0.bar4+0x1cc90', le32(0x8000_0000));
  assert.equal(w.bytesWritten, 4);
  const mem = await dap.waitFor('memory', () => true, since);
  assert.deepEqual(mem.body, { memoryReference: 'mic0.bar4+0x1cc90', offset: 0, count: 4 });
  const stop = await dap.stopped(since);
  assert.equal(stop.reason, 'function breakpoint');
  assert.equal(stop.text, 'doorbell c2h 0 (c2h_shutdown_db on mic0) written by debugger');
  assert.deepEqual(stop.hitBreakpointIds, [bp.id]);
  assert.equal((await dap.threads()).find((t) => t.id === stop.threadId)?.name, 'debugger');
  const [top] = await dap.frames(stop.threadId!);
  assert.equal((await dap.evaluate('dir', top.id)).result, '"c2h"');
  assert.equal(resultNumber((await dap.evaluate('db', top.id)).result), 0);
  // DBREQ self-clears: the register reads 0 again.
  assert.equal(u32(await dap.readMemory('mic0.bar4+0x1cc90', 4)), 0);
});

test('setVariable on SPAD0 writes the register: readMemory then shows the new value', T, async () => {
  const { dap, frameId } = await bootedAndPaused();
  const regs = await dap.scope(frameId, 'Registers');
  const spad0 = await dap.find(regs.ref, 'SPAD0');
  assert.ok(spad0);
  assert.match(spad0.variable.type ?? '', /^rw /);
  const since = dap.mark();
  const r = await dap.dc.setVariableRequest({
    variablesReference: spad0.container,
    name: 'SPAD0',
    value: '0x12345678',
  });
  assert.equal(r.body.value, '0x12345678');
  assert.equal(u32(await dap.readMemory('mic0.bar4+0x1ab20', 4)), 0x12345678);
  const mem = await dap.waitFor('memory', () => true, since);
  assert.equal(mem.body.memoryReference, 'mic0.bar4+0x1ab20');
  // The Variables view, refreshed, agrees.
  assert.equal((await byName(dap, spad0.container)).get('SPAD0')?.value, '0x12345678');
  assert.equal((await dap.evaluate('SPAD0', frameId)).result, '0x12345678');

  // The Debug Console writes registers the same way, and says so.
  const at = dap.mark();
  const w = await dap.evaluate('SPAD0 = 0x1234', frameId);
  assert.equal(
    w.result,
    'wrote 0x1234 to mic0.SPAD0 (mic0.bar4+0x1ab20, read/write); now SPAD0 = 0x00001234',
  );
  assert.equal(w.memoryReference, 'mic0.bar4+0x1ab20');
  assert.ok(!('memoryEvent' in w), 'only DAP fields in the response body');
  assert.equal((await dap.waitFor('memory', () => true, at)).body.memoryReference, 'mic0.bar4+0x1ab20');
  assert.equal(u32(await dap.readMemory('mic0.bar4+0x1ab20', 4)), 0x1234);

  // A decoded device-page field is not a register: refused with the reason.
  const dp = await dap.scope(frameId, 'Device Page');
  const bootparam = dp.vars.find((v) => v.name === 'bootparam')!;
  await assert.rejects(
    dap.dc.setVariableRequest({
      variablesReference: bootparam.variablesReference,
      name: 'magic',
      value: '0',
    }),
    /decoded from memory, not a register/,
  );
});

test('evaluate dp matches the Device Page scope and the bytes; help, state and x answer', T, async () => {
  const { dap, frameId } = await bootedAndPaused();
  const text: string = (await dap.evaluate('dp', frameId)).result;
  const scope = await dap.scope(frameId, 'Device Page');
  const top = new Map(scope.vars.map((v) => [v.name, v]));
  const bootparam = await byName(dap, top.get('bootparam')!.variablesReference);

  // Bootparam: every line of dp equals the scope's field.
  const magic = /^Bootparam: magic (0x[0-9a-f]+)$/m.exec(text);
  assert.ok(magic, text);
  assert.equal(magic[1], '0xc0ffee00');
  assert.equal(bootparam.get('magic')?.value, '0xc0ffee00');
  assert.equal(u32(await dap.readMemory(bootparam.get('magic')!.memoryReference!, 4)), 0xc0ffee00);
  for (const f of [
    'h2c_shutdown_db',
    'h2c_config_db',
    'c2h_shutdown_db',
    'shutdown_status',
    'shutdown_card',
  ]) {
    const m = new RegExp(`^Bootparam: ${f} (-?\\d+)$`, 'm').exec(text);
    assert.ok(m, `${f} in dp`);
    assert.equal(resultNumber(bootparam.get(f)!.value), Number(m[1]), f);
  }

  // Devices: dp's "c2h doorbell N h2c doorbell M" lines, in order, against each entry's device_ctrl.
  const dbLines = [...text.matchAll(/^c2h doorbell (-?\d+) h2c doorbell (-?\d+)$/gm)];
  const types = [...text.matchAll(/^Type (\d+) Num VQ (\d+)/gm)];
  const entries = scope.vars.filter((v) => /^\[\d+\] /.test(v.name));
  assert.deepEqual(
    entries.map((e) => e.name),
    ['[0] virtio-console', '[1] virtio-net', '[2] virtio-block'],
  );
  assert.equal(dbLines.length, entries.length);
  assert.equal(types.length, entries.length);
  for (let i = 0; i < entries.length; i++) {
    const fields = await byName(dap, entries[i].variablesReference);
    assert.equal(resultNumber(fields.get('type')!.value), Number(types[i][1]));
    assert.equal(resultNumber(fields.get('num_vq')!.value), Number(types[i][2]));
    const ctrl = await byName(dap, fields.get('device_ctrl')!.variablesReference);
    assert.equal(
      resultNumber(ctrl.get('c2h_vdev_db')!.value),
      Number(dbLines[i][1]),
      `${entries[i].name} c2h`,
    );
    assert.equal(
      resultNumber(ctrl.get('h2c_vdev_db')!.value),
      Number(dbLines[i][2]),
      `${entries[i].name} h2c`,
    );
  }
  // The console's h2c_vdev_db is the one the host rings for it, also in mic/devicePage.
  const model = await dap.custom('mic/devicePage', { card: 0 });
  assert.equal(Number(dbLines[0][2]), model.devices[0].ctrl.h2c_vdev_db);
  assert.equal(model.bootparam.magic, 0xc0ffee00);

  const help: string = (await dap.evaluate('help')).result;
  for (const cmd of [
    'dp [micN]',
    'vdev_info',
    'smpt',
    'mic_dma_reg',
    'post_code',
    'log_buf',
    'state',
    'x ADDRESS [LEN]',
  ])
    assert.ok(help.includes(cmd), `help lists ${cmd}`);
  assert.match(help, /Event fields: kind, space, address/);

  assert.match(
    (await dap.evaluate('state')).result,
    /^mic0: online \(shutdown_status nop, card OS running, stepping C0/,
  );
  await assert.rejects(dap.evaluate('state bogus'), /state takes a command/);

  // x: a hexdump of SPAD0..3 whose bytes are what readMemory returns.
  const x = await dap.evaluate('x mic0.bar4+0x1ab20 16');
  assert.equal(x.memoryReference, 'mic0.bar4+0x1ab20');
  const lines: string[] = x.result.split('\n');
  assert.equal(lines[0], 'mic0.bar4+0x1ab20, 16 bytes');
  const bytes = await dap.readMemory('mic0.bar4+0x1ab20', 16);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
  assert.equal(
    lines[1],
    `0001ab20  ${hex.slice(0, 8).join(' ')}  ${hex.slice(8).join(' ')}  |${'.'.repeat(16)}|`,
  );
  assert.equal(lines[2], '0001ab30');
  // SPAD2 (at +8) holds the firmware's ready word: bit 0 set.
  assert.equal(bytes.readUInt32LE(8) & 1, 1);
});

test(
  'mic/cards and mic/virtqueues answer in the documented shapes; unknown mic/ requests list the known ones',
  T,
  async () => {
    d = Dap.stdio(adapter);
    const dap = d;
    // Before launch there is no machine.
    await dap.dc.initializeRequest();
    await assert.rejects(dap.custom('mic/cards'), /no machine: launch first/);
    await dap.waitFor('initialized');
    const launched = dap.dc.launchRequest({ type: 'mic', request: 'launch', name: 'MIC' } as never);
    await dap.dc.configurationDoneRequest();
    await launched;
    await dap.waitConsole(/# $/);

    const cards = await dap.custom('mic/cards');
    assert.equal(cards.cards.length, 1);
    const c = cards.cards[0];
    assert.deepEqual(Object.keys(c).sort(), [
      'bar0',
      'bar4',
      'cardOsState',
      'deviceId',
      'devicePage',
      'family',
      'index',
      'name',
      'postCode',
      'revision',
      'shutdownStatus',
      'shutdownStatusCode',
      'state',
      'stepping',
      'vendorId',
    ]);
    assert.equal(c.name, 'mic0');
    assert.equal(c.state, 'online');
    assert.equal(c.shutdownStatus, 'nop');
    assert.equal(c.vendorId, 0x8086);
    assert.equal(c.deviceId, 0x2250);
    assert.equal(c.stepping, 'C0');
    assert.equal(c.bar0.memoryReference, 'mic0.gddr+0x0');
    assert.equal(c.bar0.size, 8192 * 2 ** 20);
    assert.equal(c.bar4.memoryReference, 'mic0.bar4+0x0');
    assert.equal(c.bar4.size, 128 * 1024);
    assert.equal(c.cardOsState, 'running');
    assert.equal(typeof c.devicePage.host, 'number');

    const vq = await dap.custom('mic/virtqueues');
    assert.equal(vq.cards.length, 1, 'without card: every card');
    assert.deepEqual(await dap.custom('mic/virtqueues', { card: 'mic0' }), vq);
    const devices = vq.cards[0].devices;
    assert.deepEqual(
      devices.map((x: { short: string }) => x.short),
      ['console', 'net', 'block'],
    );
    const console_ = devices[0];
    assert.equal(console_.device, 'virtio-console');
    assert.deepEqual(
      console_.queues.map((q: { id: string }) => q.id),
      ['console.rx', 'console.tx'],
    );
    for (const q of console_.queues) {
      for (const k of ['num', 'availIdx', 'usedIdx', 'infoAvailIdx', 'hostLastAvail', 'cardAvailIdx'])
        assert.equal(typeof q[k], 'number', `${q.id}.${k}`);
      assert.match(q.ringMemoryReference, /^host\+0x[0-9a-f]+$/);
      assert.match(q.usedMemoryReference, /^mic0\.gddr\+0x[0-9a-f]+$/);
      assert.ok(Array.isArray(q.inFlight));
    }
    // rx: the card posted receive buffers the host has not filled.
    const rx = console_.queues[0];
    assert.equal(rx.inFlight.length, rx.availIdx - rx.hostLastAvail);
    const desc = rx.inFlight[0].descs[0];
    assert.equal(desc.flagsText, 'WRITE');
    assert.equal(desc.memoryReference, `mic0.gddr+0x${desc.addr.toString(16)}`);
    // The numbers are the ones the card's used ring and the host ring hold.
    const availIdx = (await dap.readMemory(rx.ringMemoryReference, 4, 16 * rx.num)).readUInt16LE(2);
    assert.equal(availIdx, rx.availIdx);

    await assert.rejects(dap.custom('mic/virtqueues', { card: 3 }), /no card 3: this machine has mic0/);
    await assert.rejects(
      dap.custom('mic/nothing'),
      /unknown request 'mic\/nothing': the mic\/ requests are mic\/cards, /,
    );
  },
);
