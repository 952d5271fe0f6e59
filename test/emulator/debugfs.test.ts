// The debugfs files (mic_host/micN/* and mic_x100_dma/*/mic_dma_reg): the kernel's labels in the
// kernel's order with this machine's values, and reading them changes nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bootedMachine, devicePageBytes, newMachine } from '../helpers/machine.ts';
import { R } from '../../src/emulator/card/sboxRegisters.ts';
import { decodeDevicePage, MIC_MAGIC, type DecodedVqConfig } from '../../src/emulator/virtio/devicePage.ts';
import { VIRTIO_ID_CONSOLE } from '../../src/emulator/virtio/virtioIds.ts';
import { virtqueueViews } from '../../src/emulator/inspect/virtqueues.ts';
import { LOG_BUF_LEN } from '../../src/emulator/cardSoftware/cardOs.ts';
import { smptViews } from '../../src/emulator/inspect/smptView.ts';
import {
  DEBUGFS_FILES,
  MIC_NUM_OFFSETS,
  dp,
  logBuf,
  micDmaReg,
  msiIrqInfo,
  msiIrqNumber,
  postCode,
  readDebugfs,
  smpt,
  vdevInfo,
} from '../../src/emulator/inspect/debugfs.ts';

/** Lines of `text` that start with one of `labels`, reduced to the label. */
function labelOrder(text: string, labels: string[]): string[] {
  return text
    .split('\n')
    .map((l) => labels.find((p) => l.startsWith(p)))
    .filter((x): x is string => x !== undefined);
}

const hex = (v: number) => v.toString(16);

test('dp: layout-A bootparam in the kernel order, then the console entry with its vqconfigs and ctrl', () => {
  const { m } = bootedMachine();
  const page = decodeDevicePage(devicePageBytes(m));
  const text = dp(m, 0);
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 6), [
    `Bootparam: magic 0x${hex(MIC_MAGIC)}`,
    `Bootparam: h2c_shutdown_db ${page.h2c_shutdown_db}`,
    `Bootparam: h2c_config_db ${page.h2c_config_db}`,
    `Bootparam: c2h_shutdown_db ${page.c2h_shutdown_db}`,
    `Bootparam: shutdown_status ${page.shutdown_status}`,
    `Bootparam: shutdown_card ${page.shutdown_card}`,
  ]);
  assert.equal(lines[0], 'Bootparam: magic 0xc0ffee00');

  const con = page.devices.find((d) => d.type === VIRTIO_ID_CONSOLE);
  assert.ok(con, 'the console is on the device page');
  const start = lines.indexOf(`Type 3 Num VQ 2 Feature Len ${con.feature_len}`);
  assert.ok(start > 5, 'console entry header');
  const entry = lines.slice(start, start + 2 + 2 + 1 + con.config_len + 5);
  assert.equal(entry[1], `Config Len ${con.config_len} Shutdown Status ${con.status}`);
  for (let k = 0; k < 2; k++) {
    const q: DecodedVqConfig = con.vqconfig[k];
    assert.equal(q.num, 128);
    assert.ok(q.used_address !== 0, 'the card relocated its used rings');
    assert.equal(
      entry[2 + k],
      `vqconfig[${k}]: address 0x${hex(q.address)} num 128 used address 0x${hex(q.used_address)}`,
    );
  }
  assert.match(entry[4], /^Features: Host 0x[0-9a-f]+ Guest 0x[0-9a-f]+$/);
  for (let k = 0; k < con.config_len; k++) assert.equal(entry[5 + k], `config[${k}]=${con.config[k]}`);
  const c = con.ctrl;
  assert.deepEqual(entry.slice(5 + con.config_len), [
    'Device control:',
    `Config Change ${c.config_change} Vdev reset ${c.vdev_reset}`,
    `Guest Ack ${c.guest_ack} Host ack ${c.host_ack}`,
    `Used address updated ${c.used_address_updated} Vdev 0x${hex(c.vdev)}`,
    `c2h doorbell ${c.c2h_vdev_db} h2c doorbell ${c.h2c_vdev_db}`,
  ]);
  assert.ok(c.c2h_vdev_db >= 0 && c.h2c_vdev_db >= 0, 'both doorbells assigned');

  // Every entry prints its parts in the kernel's order.
  const order = labelOrder(text, [
    'Type ',
    'Config Len ',
    'vqconfig[',
    'Features: ',
    'Device control:',
    'Config Change ',
    'Guest Ack ',
    'Used address updated ',
    'c2h doorbell ',
  ]);
  const one = [
    'Type ',
    'Config Len ',
    'vqconfig[',
    'vqconfig[',
    'Features: ',
    'Device control:',
    'Config Change ',
    'Guest Ack ',
    'Used address updated ',
    'c2h doorbell ',
  ];
  assert.deepEqual(
    order,
    page.devices.flatMap(() => one),
  );
  assert.ok(text.endsWith('\n'));
});

test('vdev_info: per device state and counters, per vring indices and every desc/avail/used row', () => {
  const { m } = bootedMachine();
  const text = vdevInfo(m, 0);
  const views = virtqueueViews(m, 0);
  const vdevs = m.mics[0].vop.vdevs;
  const lines = text.split('\n');
  assert.equal(lines.filter((l) => l.startsWith('VDEV ')).length, vdevs.length);

  const v = vdevs.findIndex((x) => x.desc.type === VIRTIO_ID_CONSOLE);
  const view = views[v];
  const head = `VDEV type 3 state UP in ${vdevs[v].inBytes} out ${vdevs[v].outBytes}`;
  let at = lines.indexOf(head);
  assert.ok(at >= 0, head);
  at++;
  for (const q of view.queues) {
    const num = q.num;
    assert.equal(num, 128);
    assert.equal(
      lines[at++],
      `vring i ${q.queue} avail_idx ${q.infoAvailIdx & (num - 1)} vring i ${q.queue} avail_idx ${q.infoAvailIdx}`,
    );
    assert.equal(
      lines[at++],
      `vrh i ${q.queue} weak_barriers 0 last_avail_idx ${q.hostLastAvail} last_used_idx ${q.hostLastUsed} completed ${q.hostCompleted}`,
    );
    for (let j = 0; j < num; j++)
      assert.match(
        lines[at++],
        new RegExp(`^desc\\[${j}\\] addr 0x[0-9a-f]+ len -?\\d+ flags 0x[0-9a-f]+ next \\d+$`),
      );
    assert.equal(lines[at++], `avail flags 0x${hex(q.availFlags)} idx ${q.availIdx & (num - 1)}`);
    assert.equal(lines[at++], `avail flags 0x${hex(q.availFlags)} idx ${q.availIdx}`);
    for (let j = 0; j < num; j++) assert.match(lines[at++], new RegExp(`^avail ring\\[${j}\\] \\d+$`));
    assert.equal(lines[at++], `used flags 0x${hex(q.usedFlags)} idx ${q.usedIdx & (num - 1)}`);
    assert.equal(lines[at++], `used flags 0x${hex(q.usedFlags)} idx ${q.usedIdx}`);
    // The used ring is the card's relocated one, in GDDR at used_address.
    const gddr = m.cards[0].gddr;
    for (let j = 0; j < num; j++) {
      const id = gddr.read32(q.usedAddress + 4 + 8 * j) | 0;
      const len = gddr.read32(q.usedAddress + 8 + 8 * j) | 0;
      assert.equal(lines[at++], `used ring[${j}] id ${id} len ${len}`);
    }
  }
  // tx carried console output: its first used element has a length, and vdev_info shows it.
  const tx = view.queues[1];
  assert.ok(tx.usedIdx > 0);
  const txLen = m.cards[0].gddr.read32(tx.usedAddress + 8);
  assert.ok(txLen > 0);
  assert.ok(lines.includes(`used ring[0] id ${m.cards[0].gddr.read32(tx.usedAddress + 4)} len ${txLen}`));
});

test('vdev_info: descriptors come from the host ring block as the card wrote them', () => {
  const { m } = bootedMachine();
  const vr = m.mics[0].vop.vdevs.find((x) => x.desc.type === VIRTIO_ID_CONSOLE)!.vrings[0];
  const line = vdevInfo(m, 0)
    .split('\n')
    .find((l) => l.startsWith('desc[0] '));
  const addr = m.hostRam.read64(vr.blockHost);
  const len = m.hostRam.read32(vr.blockHost + 8);
  const flags = m.hostRam.read16(vr.blockHost + 12);
  const next = m.hostRam.read16(vr.blockHost + 14);
  assert.equal(line, `desc[0] addr 0x${hex(addr)} len ${len | 0} flags 0x${hex(flags)} next ${next}`);
});

test('smpt: the kernel header and rule, 32 rows, refcounts > 0 for the slots in use', () => {
  const { m } = bootedMachine();
  const lines = smpt(m, 0).split('\n');
  assert.equal(lines[0], 'MIC 0  |SMPT entry| SW DMA addr    RefCount  ');
  assert.equal(lines[1], '='.repeat(52));
  assert.equal(lines[34], '='.repeat(52));
  assert.equal(lines[35], '');
  const rows = lines.slice(2, 34);
  assert.equal(rows.length, 32);
  const views = smptViews(m, 0);
  const used = views.filter((e) => e.refCount > 0);
  assert.ok(used.length > 0, 'the device page and rings are mapped');
  rows.forEach((row, i) => {
    const base = views[i].swBase === 0 ? '0' : `0x${hex(views[i].swBase)}`;
    assert.equal(
      row,
      `${' '.repeat(9)}|${String(i).padEnd(10)}| ${base.padEnd(14)} ${String(views[i].refCount).padEnd(10)}`,
    );
  });
  for (const e of used) assert.match(rows[e.index], new RegExp(`\\| (0|0x[0-9a-f]+)\\s+${e.refCount}\\s*$`));
  // C's %#llx prints a zero base as "0", not "0x0".
  assert.match(rows[0], /^ {9}\|0 {9}\| 0 {13} /);
});

test('post_code: the two characters of BAR4+0x242C, "FF" after boot, no newline', () => {
  const { m } = bootedMachine();
  assert.equal(postCode(m, 0), 'FF');
  assert.equal(m.cards[0].reg(R.POST_CODE) & 0xffff, 0x4646);
});

test('M6 msi_irq_info: all 8 enabled vectors with IRQ, entry, MXAR and the 32-position source map', () => {
  const { m } = bootedMachine();
  const text = msiIrqInfo(m, 0);
  const blocks = text.split('\n\n').filter((b) => b.length);
  assert.equal(blocks.length, 8, 'the DMA-era Gen-1 driver enables MIC_MIN_MSIX = 8 vectors');
  const offsetRow =
    'offset:   ' +
    Array.from({ length: MIC_NUM_OFFSETS }, (_, k) => `${String(MIC_NUM_OFFSETS - 1 - k).padStart(4)} `).join(
      '',
    );
  const reqs = m.mics[0].intr.requests;
  const names = reqs.map((r) => r.name);
  assert.ok(names.includes('mic_shutdown_db'), 'the shutdown doorbell was requested');
  assert.ok(
    names.some((n) => n.startsWith('virtio-console')),
    'the console doorbell was requested',
  );
  blocks.forEach((b, v) => {
    const [irq, offsets, counts] = b.split('\n');
    const mxar = m.cards[0].reg(R.MXAR(v));
    assert.equal(
      irq,
      `IRQ: ${String(msiIrqNumber(0, v)).padEnd(10)} Entry: ${String(v).padEnd(10)} MXAR[${v}]: ${mxar.toString(16).toUpperCase().padStart(8, '0')}`,
    );
    assert.equal(msiIrqNumber(0, v), 120 + v);
    assert.equal(msiIrqNumber(1, v), 128 + v, 'the next card starts 8 numbers on');
    assert.equal(offsets, offsetRow);
    const bits = counts.slice(10).trim().split(/\s+/).map(Number).reverse(); // bits[j] = source j
    assert.equal(bits.length, 32);
    const want = new Set(reqs.filter((r) => r.vector === v).map((r) => r.sourceBit));
    for (let j = 0; j < 32; j++) assert.equal(bits[j], want.has(j) ? 1 : 0, `vector ${v} source ${j}`);
  });
  for (const r of reqs) {
    assert.ok(m.cards[0].reg(R.MXAR(r.vector)) & (1 << r.sourceBit), `${r.name}: MXAR has the bit`);
  }
  // With the card online the host DMA channels 0–3 hold their own vectors, sources 8–11.
  for (let ch = 0; ch < 4; ch++) {
    const r = reqs.find((x) => x.sourceBit === 8 + ch);
    assert.ok(r, `DMA channel ${ch} requested its interrupt`);
    assert.equal(reqs.filter((x) => x.vector === r.vector).length, 1, 'a vector of its own');
  }
  assert.ok(text.endsWith('\n\n'));
});

test('msi_irq_info before probe: MSI-X not enabled', () => {
  const { m } = newMachine();
  assert.equal(msiIrqInfo(m, 0), 'MSI/MSIx interrupts not enabled\n');
  assert.equal(dp(m, 0), '', 'no device page before probe');
  assert.equal(vdevInfo(m, 0), '');
});

test('mic_dma_reg: SBOX_DCR, the column header, and channel 0 with the host ring in DRAR_HI', () => {
  const { m } = bootedMachine();
  const lines = micDmaReg(m, 0).split('\n');
  assert.equal(lines[0], `SBOX_DCR: 0x${hex(m.cards[0].reg(R.DCR))}`);
  assert.equal(lines[1], 'DMA Channel Registers');
  assert.equal(
    lines[2],
    'Channel   | DCAR       DTPR       DHPR       DRAR_HI    DRAR_LO    DCHERR      DCHERRMSK      DSTAT     ',
  );
  assert.equal(lines.length, 3 + 4 + 1);
  const row = (s: string) => {
    const [ch, rest] = s.split('|');
    return {
      ch: Number(ch),
      cols: rest
        .trim()
        .split(/\s+/)
        .map((x) => Number(x)),
    };
  };
  const r0 = row(lines[3]);
  assert.equal(r0.ch, 0);
  const [dcar, dtpr, dhpr, drarHi, drarLo, dcherr, dcherrmsk, dstat] = r0.cols;
  const c = m.cards[0].dma.channelView(0);
  assert.deepEqual(
    [dcar, dtpr, dhpr, drarHi, drarLo, dcherr, dcherrmsk, dstat],
    [c.DCAR, c.DTPR, c.DHPR, c.DRAR_HI, c.DRAR_LO, c.DCHERR, c.DCHERRMSK, c.DSTAT],
  );
  assert.ok(drarHi & (1 << 26), 'DRAR_HI bit 26: ring in system memory');
  assert.equal((drarHi >>> 4) & 0x1ffff, 128 * 1024 - 4, 'ring size MIC_DMA_DESC_RX_SIZE');
  // Column widths as %-#10x: channel 0's DRAR_HI starts at column 45.
  assert.equal(lines[3].indexOf(`0x${hex(c.DRAR_HI)}`), 45);
  assert.deepEqual(
    lines.slice(3, 7).map((l) => row(l).ch),
    [0, 1, 2, 3],
  );
  assert.deepEqual(
    micDmaReg(m, 0, 'card')
      .split('\n')
      .slice(3, 7)
      .map((l) => row(l).ch),
    [4, 5, 6, 7],
  );
});

test('M7 log_buf: log_buf_len raw bytes of the card kernel log while online, empty once the card is offline', () => {
  const { m } = bootedMachine();
  const dev = m.mics[0];
  assert.ok(dev.sysfs.log_buf_addr && dev.sysfs.log_buf_len, 'mpssd set both sysfs values');
  const log = logBuf(m, 0);
  assert.match(log, /Linux version/);
  const bytes = new TextEncoder().encode(log);
  assert.equal(bytes.length, LOG_BUF_LEN, 'the whole buffer, as ioread32(log_buf_len) says');
  // The emulated card keeps plain text: the log, its terminating NUL, the zero fill after it.
  assert.ok(log.startsWith(m.cardOs[0].dmesg()));
  assert.equal(log.charCodeAt(m.cardOs[0].dmesg().length), 0);
  m.hostCommand(0, 'reset');
  m.run();
  assert.equal(m.mics[0].state, 'offline');
  assert.ok(m.cardOs[0].dmesg().length > 0, 'the text is still in GDDR');
  assert.equal(logBuf(m, 0), '');
});

test('M7 log_buf: nothing without the sysfs log_buf_addr and log_buf_len (mic_log_buf_show)', () => {
  const { m } = bootedMachine();
  const dev = m.mics[0];
  const { log_buf_addr: addr, log_buf_len: len } = dev.sysfs;
  dev.sysfs.log_buf_len = 0;
  assert.equal(logBuf(m, 0), '');
  dev.sysfs.log_buf_len = len;
  dev.sysfs.log_buf_addr = 0;
  assert.equal(logBuf(m, 0), '');
  dev.sysfs.log_buf_addr = addr;
  assert.notEqual(logBuf(m, 0), '');
});

test('DEBUGFS_FILES: the files in driver order, readable by name', () => {
  const { m } = bootedMachine();
  assert.deepEqual(
    DEBUGFS_FILES.map((f) => f.name),
    ['log_buf', 'smpt', 'post_code', 'dp', 'vdev_info', 'msi_irq_info', 'mic_dma_reg'],
  );
  for (const f of DEBUGFS_FILES) {
    assert.ok(f.doc.length > 0 && f.dir.length > 0);
    assert.equal(readDebugfs(m, 0, f.name), f.read(m, 0));
  }
  assert.equal(readDebugfs(m, 0, 'post_code'), 'FF');
  assert.equal(readDebugfs(m, 0, 'soft_reset'), null, 'soft_reset would reset the card: not offered');
});

test('looking changes nothing: no events, no time, same device page', () => {
  const { m } = bootedMachine();
  const seq = m.spine.seq;
  assert.ok(seq > 0, 'booting recorded events');
  const now = m.sched.now;
  const page = devicePageBytes(m).slice();
  const regs = m.cards[0].regs.slice();
  for (let k = 0; k < 2; k++) {
    for (const f of DEBUGFS_FILES) f.read(m, 0);
    micDmaReg(m, 0, 'card');
  }
  assert.equal(m.spine.seq, seq);
  assert.equal(m.sched.now, now);
  assert.deepEqual(devicePageBytes(m), page);
  assert.deepEqual(m.cards[0].regs, regs);
  assert.equal(m.run(), 'idle', 'nothing was scheduled by looking');
  assert.equal(m.spine.seq, seq);
});
