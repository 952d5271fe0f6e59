// The card's virtio_net driver (drivers/net/virtio_net.c of the MPSS era, legacy virtio, no
// MRG_RXBUF, one queue pair): queue 0 receiveq, queue 1 transmitq (§6.3), and eth0 on top of it
// for the card's tiny IP stack (net/netStack.ts).
//
// Features: Gen-1 mpssd offers CSUM, GSO, GUEST_TSO4, GUEST_TSO6, GUEST_ECN and GUEST_UFO. We
// accept only CSUM (the host finishes checksums we mark NEEDS_CSUM; our UDP sends use it). The
// GUEST_* bits would let the host hand us 64 KiB TSO/UFO frames, and GSO would let us send them;
// our stack does no segmentation or large receive, so we decline them and keep every frame
// ≤ 1514 bytes.
// No MAC feature: the card picks a "random" locally administered MAC — here a deterministic
// hash of the card index (wire.ts cardMac), because the emulator must replay identically.
//
// Buffers are 2 KiB blocks in GDDR, one per chain: the 10-byte virtio_net_hdr at +0 and the
// frame at +64 (two descriptors, like add_recvbuf_small), so the frame is 64-byte aligned and
// the host's copy engine can move it with DMA. Receive chains are [hdr W, 1514 W]; transmit
// chains are [hdr R, frame R]. Like Linux, transmit completions do not interrupt (avail flags
// NO_INTERRUPT on the transmitq): used transmit buffers are reclaimed at the next xmit.

import { E } from '../errno.ts';
import { call, frame, type Routine, sleep, waitOn, WaitQueue } from '../sim/scheduler.ts';
import { storeAvailFlags } from '../virtio/vring.ts';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_ID_NET,
  VRING_AVAIL_F_NO_INTERRUPT,
} from '../virtio/virtioIds.ts';
import type { CardOs } from './cardOs.ts';
import type { CardVdev, VirtioDriver } from './cardVirtio.ts';
import { NetStack, type NetConfig, type NetLink } from './net/netStack.ts';
import {
  ETH_FRAME_MAX,
  ETH_HLEN,
  ETH_MTU,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_HDR,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  cardMac,
  decodeNetHdr,
  encodeNetHdr,
  ipToString,
  macToString,
  maskToPrefix,
  parseIp,
} from '../net/wire.ts';

/** One GDDR block per chain: header at +0, frame at +NET_BUF_DATA. */
export const NET_BUF_SIZE = 2048;
export const NET_BUF_DATA = 64;
/** Features the card driver accepts of those offered (see the header comment). */
export const VIRTIO_NET_DRIVER_FEATURES = 1 << VIRTIO_NET_F_CSUM;

const { ENETDOWN, EMSGSIZE, ENOMEM, EBUSY } = E;
/** How long xmit waits for the host to give transmit buffers back (like a stopped queue). */
const TX_WAIT_STEP_NS = 10_000;
const TX_WAIT_STEPS = 10_000;

/**
 * The card's address from the kernel command line mpssd writes
 * (`ifcfg=static;address,172.31.N.1;netmask,255.255.255.0`), else 172.31.<index>.1/24, the
 * address Gen-1 mpssd gives micN.
 */
export function parseIfcfg(cmdline: string, cardIndex: number): NetConfig {
  const m = /(?:^|\s)ifcfg=static;address,([0-9.]+);netmask,([0-9.]+)/.exec(cmdline);
  const addr = m ? parseIp(m[1]) : null;
  const mask = m ? parseIp(m[2]) : null;
  if (addr !== null && mask !== null) return { address: addr, prefix: maskToPrefix(mask) };
  return { address: ((172 << 24) | (31 << 16) | (cardIndex << 8) | 1) >>> 0, prefix: 24 };
}

export interface NetDevStats {
  rxFrames: number;
  rxLengthErrors: number;
  txFrames: number;
  txBusy: number;
}

export class VirtioNet implements VirtioDriver, NetLink {
  readonly mtu = ETH_MTU;
  csumOffload = false;
  ready = false;
  readonly stats: NetDevStats = { rxFrames: 0, rxLengthErrors: 0, txFrames: 0, txBusy: 0 };
  private txFree: number[] = [];
  private txLocked = false;
  private readonly txWait: WaitQueue;
  private inPoll = false;
  private pollAgain = false;

  constructor(
    readonly vdev: CardVdev,
    readonly mac: Uint8Array,
    readonly stack: NetStack,
  ) {
    this.txWait = new WaitQueue(vdev.p.sched, `${vdev.p.cardName} eth0 tx`);
  }

  private get sched() {
    return this.vdev.p.sched;
  }
  private get io() {
    return this.vdev.io;
  }

  *probe(): Routine<number> {
    return yield call(frame(this.sched, 'virtnet_probe', undefined, this.doProbe()));
  }

  private *doProbe(): Routine<number> {
    const v = this.vdev;
    yield call(v.negotiate(VIRTIO_NET_DRIVER_FEATURES));
    this.csumOffload = (v.features & (1 << VIRTIO_NET_F_CSUM)) !== 0;
    const rc: number = yield call(v.findVqs());
    if (rc < 0) return rc;
    // virtqueue_disable_cb on the transmitq: no interrupt per sent frame.
    yield storeAvailFlags(this.io, v.vqs[1].addrs, VRING_AVAIL_F_NO_INTERRUPT);
    yield call(frame(this.sched, 'try_fill_recv', undefined, this.fillRx()));
    yield call(v.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK));
    this.ready = true;
    this.stack.link = this;
    return 0;
  }

  private *fillRx(): Routine {
    const rx = this.vdev.vqs[0];
    while (rx.numFree >= 2) {
      const buf = this.vdev.p.gddr.alloc(NET_BUF_SIZE, NET_BUF_DATA);
      if (buf < 0) break;
      const head: number = yield call(this.postRx(buf));
      if (head < 0) {
        this.vdev.p.gddr.release(buf, NET_BUF_SIZE);
        break;
      }
    }
    yield call(rx.kick());
  }

  private *postRx(buf: number): Routine<number> {
    return yield call(
      this.vdev.vqs[0].add(
        [
          { addr: buf, len: VIRTIO_NET_HDR.SIZE, write: true },
          { addr: buf + NET_BUF_DATA, len: ETH_FRAME_MAX, write: true },
        ],
        buf,
      ),
    );
  }

  /** skb_recv_done / virtnet_poll for the device's doorbell (both queues). */
  *interrupt(): Routine {
    if (!this.ready) return;
    if (this.inPoll) {
      // Another doorbell while we poll: the running poll goes round once more (NAPI style).
      this.pollAgain = true;
      return;
    }
    this.inPoll = true;
    try {
      do {
        this.pollAgain = false;
        yield call(frame(this.sched, 'virtnet_poll', undefined, this.poll()));
      } while (this.pollAgain && this.ready);
    } finally {
      this.inPoll = false;
    }
  }

  private *poll(): Routine {
    const rx = this.vdev.vqs[0];
    const got: { frame: Uint8Array; dataValid: boolean }[] = [];
    let reposted = false;
    for (;;) {
      const u: { token: number; len: number } | null = yield call(rx.getBuf());
      if (!u) break;
      const buf = u.token;
      const len = u.len - VIRTIO_NET_HDR.SIZE;
      if (len < ETH_HLEN || len > ETH_FRAME_MAX) {
        this.stats.rxLengthErrors++;
        this.vdev.p.printk(`virtio_net: eth0: bad rx length ${u.len} (used len includes the 10-byte header)`);
      } else {
        const hdr: Uint8Array = yield this.io.read(buf, VIRTIO_NET_HDR.SIZE);
        const f: Uint8Array = yield this.io.read(buf + NET_BUF_DATA, len);
        const h = decodeNetHdr(hdr);
        got.push({ frame: f, dataValid: (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) !== 0 });
        this.stats.rxFrames++;
      }
      if (!this.ready) return;
      yield call(this.postRx(buf));
      reposted = true;
    }
    if (reposted) yield call(rx.kick());
    for (const g of got)
      yield call(frame(this.sched, 'netif_receive_skb', undefined, this.stack.input(g.frame, g.dataValid)));
    // Transmit buffers are reclaimed in xmit, under the transmit lock (getBuf is not reentrant).
  }

  /** free_old_xmit_skbs: collect the transmit buffers the host has used. */
  private *reclaimTx(): Routine {
    const tx = this.vdev.vqs[1];
    for (;;) {
      const u: { token: number } | null = yield call(tx.getBuf());
      if (!u) return;
      this.txFree.push(u.token);
    }
  }

  /** start_xmit: [hdr, frame] as two readable descriptors, then kick. 0 or −errno. */
  *xmit(f: Uint8Array, partial: { start: number; offset: number } | null = null): Routine<number> {
    return yield call(frame(this.sched, 'start_xmit', { len: f.length }, this.doXmit(f, partial)));
  }

  private *doXmit(f: Uint8Array, partial: { start: number; offset: number } | null): Routine<number> {
    if (!this.ready) return -ENETDOWN;
    if (f.length > ETH_FRAME_MAX) return -EMSGSIZE;
    while (this.txLocked) yield waitOn(this.txWait);
    this.txLocked = true;
    try {
      const tx = this.vdev.vqs[1];
      yield call(this.reclaimTx());
      for (let i = 0; tx.numFree < 2; i++) {
        if (i >= TX_WAIT_STEPS || !this.ready) {
          this.stats.txBusy++;
          return -EBUSY;
        }
        yield sleep(TX_WAIT_STEP_NS);
        yield call(this.reclaimTx());
      }
      let buf = this.txFree.pop();
      if (buf === undefined) buf = this.vdev.p.gddr.alloc(NET_BUF_SIZE, NET_BUF_DATA);
      if (buf < 0) return -ENOMEM;
      const hdr = partial
        ? encodeNetHdr({
            flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
            csumStart: partial.start,
            csumOffset: partial.offset,
          })
        : encodeNetHdr();
      yield this.io.write(buf, hdr);
      yield this.io.write(buf + NET_BUF_DATA, f);
      const head: number = yield call(
        tx.add(
          [
            { addr: buf, len: VIRTIO_NET_HDR.SIZE, write: false },
            { addr: buf + NET_BUF_DATA, len: f.length, write: false },
          ],
          buf,
        ),
      );
      if (head < 0) {
        this.txFree.push(buf);
        return -EBUSY;
      }
      this.stats.txFrames++;
      yield call(tx.kick());
      return 0;
    } finally {
      this.txLocked = false;
      this.txWait.signal();
    }
  }

  // A routine like every driver hook, though removal frees only card-private memory.
  // eslint-disable-next-line require-yield
  *remove(): Routine {
    this.ready = false;
    if (this.stack.link === this) this.stack.link = null;
    for (const q of this.vdev.vqs)
      for (const b of q.detachUnused()) this.vdev.p.gddr.release(b as number, NET_BUF_SIZE);
    for (const b of this.txFree) this.vdev.p.gddr.release(b, NET_BUF_SIZE);
    this.txFree = [];
  }
}

/** The card OS's network state: eth0's driver and the stack (null until the device probes). */
export class CardNet {
  driver: VirtioNet | null = null;
  stack: NetStack | null = null;
  readonly mac: Uint8Array;

  constructor(readonly os: CardOs) {
    this.mac = cardMac(os.card.index);
  }

  makeDriver(vdev: CardVdev): VirtioDriver {
    const os = this.os;
    const stack = new NetStack(
      {
        sched: os.sched,
        spawn: (name, r) => {
          os.spawn(name, r);
        },
        printk: (t) => os.printk(t),
      },
      parseIfcfg(os.cmdline, os.card.index),
    );
    const d = new VirtioNet(vdev, this.mac, stack);
    this.driver = d;
    this.stack = stack;
    const probe = d.probe.bind(d);
    d.probe = () => this.afterProbe(d, probe());
    return d;
  }

  private *afterProbe(d: VirtioNet, probe: Routine<number>): Routine<number> {
    const rc: number = yield call(probe);
    if (rc < 0) return rc;
    const s = d.stack;
    this.os.printk(
      `virtio_net: eth0: ${macToString(this.mac)} (random), features 0x${d.vdev.features.toString(16)}${d.csumOffload ? ' (CSUM)' : ''}, mtu ${d.mtu}`,
    );
    this.os.printk(`IPv4: eth0: ${ipToString(s.address)}/${s.prefix} (ifcfg=static), link up`);
    return 0;
  }

  /** eth0 is registered and up. */
  get up(): boolean {
    return this.driver?.ready === true && this.stack?.link === this.driver;
  }
}

/** Register the virtio_net driver (VIRTIO_ID_NET); its shell commands are wired in cardModules.ts. */
export function installVirtioNet(os: CardOs): CardNet {
  const net = new CardNet(os);
  os.extraDrivers.set(VIRTIO_ID_NET, (_os, vdev) => net.makeDriver(vdev));
  return net;
}
