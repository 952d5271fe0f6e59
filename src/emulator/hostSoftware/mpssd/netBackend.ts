// mpssd's virtio-net back-end (reference §6.3) with a virtual host endpoint instead of a TAP
// device: nothing here touches a real network. The endpoint is the host side of the card's
// point-to-point link, 172.31.<N>.254/24 (Gen-1 mpssd's tap_configure for micN) with MAC
// 02:00:00:00:NN:fe. It answers ARP requests
// for its address, ICMP echo requests, and UDP datagrams to port 7 (echo); other UDP ports get
// ICMP port unreachable, as a Linux host without a listener would answer.
//
// Card → host: COPY_DESC on queue 1 into [10-byte virtio_net_hdr, 65600-byte buffer], frame =
// out_len − 10; NEEDS_CSUM is honoured by finishing the checksum at csum_start + csum_offset.
// Host → card: COPY_DESC on queue 0 with [hdr with DATA_VALID, frame] and update_used. Frames
// wait in a queue while the card has no receive buffer posted, and go on a later poll wake-up
// (the card kicks when it re-posts buffers), as the console back-end does with typed input.
//
// Every frame that crosses the link, both ways, goes to the pcap file if one is configured.
// Fault injection (MachineConfig.netDropEvery = N > 0): frames are numbered 1, 2, 3 … over both
// directions in the order the endpoint sees them — a card→host frame when COPY_DESC takes it
// off queue 1, a host→card frame when the endpoint puts it on the link (before it may wait for
// a receive buffer) — and every Nth is dropped: it is not answered, not delivered and not in
// the pcap (it never crossed the link), but logged in the host kernel log (a 'log' event) and
// listed in `dropped`.

import { call, frame, type Routine } from '../../sim/scheduler.ts';
import { VIRTIO_ID_NET } from '../../virtio/virtioIds.ts';
import type { MicDevice } from '../micHost/micDevice.ts';
import type { DeviceDescImage, HostVdev } from '../micHost/vop.ts';
import { PcapWriter, type PcapCapture } from '../pcap.ts';
import { BackendPoll, type VirtioBackend } from './backend.ts';
import {
  ARPOP_REPLY,
  ARPOP_REQUEST,
  BROADCAST_MAC,
  ETH_HLEN,
  ETH_P_ARP,
  ETH_P_IP,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  ICMP_PORT_UNREACH,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GSO,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_HDR,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  ZERO_MAC,
  buildArp,
  buildEth,
  buildIcmp,
  buildIpv4,
  buildUdp,
  completePartialChecksum,
  decodeNetHdr,
  describeFrame,
  encodeNetHdr,
  ethType,
  hostEndpointMac,
  ipToString,
  macEquals,
  macToString,
  parseArp,
  parseIcmp,
  parseIpv4,
  parseUdp,
} from '../../net/wire.ts';

/** mpssd's transmit buffer: [hdr, 65600 bytes] (§6.3). */
export const NET_RX_BUF = 65600;
/** sizeof(struct virtio_net_config) of the mpssd era: mac[6], status, max_virtqueue_pairs. */
export const VIRTIO_NET_CONFIG_LEN = 10;
export const UDP_ECHO_PORT = 7;
/**
 * Virtual time the endpoint takes to answer: what a real host's TAP read, network stack and TAP
 * write add (tens of µs). Bus accesses cost no virtual time in the emulator, so without it a
 * ping would show 0.000 ms.
 */
export const ENDPOINT_LATENCY_NS = 40_000;
/** The inbox keeps the newest frames only. */
export const INBOX_MAX = 256;

/**
 * Gen-1 mpssd's virtnet host_features (GSO_ENABLED): CSUM, GSO, GUEST_TSO4, GUEST_TSO6,
 * GUEST_ECN and GUEST_UFO = 0x7c1. (The later samples/mic/mpssd copy drops GUEST_UFO: 0x3c1.)
 */
export const NET_HOST_FEATURES =
  (1 << VIRTIO_NET_F_CSUM) |
  (1 << VIRTIO_NET_F_GSO) |
  (1 << VIRTIO_NET_F_GUEST_TSO4) |
  (1 << VIRTIO_NET_F_GUEST_TSO6) |
  (1 << VIRTIO_NET_F_GUEST_ECN) |
  (1 << VIRTIO_NET_F_GUEST_UFO);

/** The device image; `extraFeatures` are offered on top (tests: e.g. VIRTIO_RING_F_INDIRECT_DESC). */
export function netDeviceImage(extraFeatures = 0): DeviceDescImage {
  const hostFeatures = new Uint8Array(4);
  new DataView(hostFeatures.buffer).setUint32(0, (NET_HOST_FEATURES | extraFeatures) >>> 0, true);
  return {
    type: VIRTIO_ID_NET,
    numVq: 2,
    featureLen: 4,
    configLen: VIRTIO_NET_CONFIG_LEN, // zeroed: no MAC feature, the card picks its own
    num: [128, 128],
    hostFeatures,
    config: new Uint8Array(VIRTIO_NET_CONFIG_LEN),
  };
}

/** The host endpoint's address on card N's link: 172.31.<N>.254 (Gen-1 tap_configure). */
export function hostEndpointIp(card: number): number {
  return ((172 << 24) | (31 << 16) | (card << 8) | 254) >>> 0;
}
/** The card's address by Gen-1 mpssd's convention (set_cmdline): 172.31.<N>.1. */
export function cardDefaultIp(card: number): number {
  return ((172 << 24) | (31 << 16) | (card << 8) | 1) >>> 0;
}

export type LinkDirection = 'card→host' | 'host→card';

export interface DroppedFrame {
  /** The frame's number on the link (both directions counted). */
  n: number;
  time: number;
  direction: LinkDirection;
  summary: string;
}

export interface NetLinkStats {
  framesFromCard: number;
  bytesFromCard: number;
  framesToCard: number;
  bytesToCard: number;
  dropped: number;
  /** frames the endpoint could not use (bad checksum, malformed, not for it) */
  ignored: number;
}

export class NetBackend implements VirtioBackend {
  readonly kind = 'net';
  vdev: HostVdev | null = null;
  readonly mac: Uint8Array;
  readonly ip: number;
  /** The card's MAC, learned from its frames (the host never needs it to answer). */
  cardMac: Uint8Array | null = null;
  readonly pcap: PcapWriter | null;
  readonly stats: NetLinkStats = {
    framesFromCard: 0,
    bytesFromCard: 0,
    framesToCard: 0,
    bytesToCard: 0,
    dropped: 0,
    ignored: 0,
  };
  readonly dropped: DroppedFrame[] = [];
  /** Frames from the card the endpoint does not answer itself (e.g. replies to its own pings). */
  readonly inbox: Uint8Array[] = [];
  /** Frames on the link, both directions: the numbering netDropEvery counts. */
  linkFrames = 0;
  private readonly toCard: { frame: Uint8Array; readyAt: number }[] = [];
  /** IP packets for the card waiting for its MAC (an ARP request is out). */
  private readonly awaitingArp: Uint8Array[] = [];
  private readonly poll: BackendPoll;
  private ipId = 0;

  constructor(
    readonly dev: MicDevice,
    pcapPath: string | PcapCapture | null,
    readonly dropEvery = 0,
  ) {
    const n = dev.card.index;
    this.mac = hostEndpointMac(n);
    this.ip = hostEndpointIp(n);
    this.poll = new BackendPoll(dev.sched, `${dev.name} net back-end`);
    this.pcap = pcapPath ? new PcapWriter(pcapPath, (msg) => this.log(msg)) : null;
  }

  get initiator(): string {
    return `host.${this.dev.name}.net`;
  }

  /** The card's address by convention (the endpoint answers whoever asks, though). */
  get cardIp(): number {
    return cardDefaultIp(this.dev.card.index);
  }

  /** Host features offered on top of Gen-1 mpssd's (none by default; tests set some). */
  extraHostFeatures = 0;

  deviceImage(): DeviceDescImage {
    return netDeviceImage(this.extraHostFeatures);
  }

  attach(vdev: HostVdev): void {
    this.vdev = vdev;
    this.poll.watch(vdev);
  }

  close(): void {
    this.pcap?.close();
  }

  /** Frames waiting for a card receive buffer. */
  get pendingToCard(): number {
    return this.toCard.length;
  }

  private log(text: string): void {
    this.dev.kernel.printk(`mpssd: ${this.dev.name}: net: ${text}`);
  }

  *run(): Routine {
    const v = this.vdev;
    for (;;) {
      // This thread serves the device it was started for; a re-added one gets a new thread.
      if (!v || v.removed || this.vdev !== v) return;
      // Sleep until a poll wake-up, or until the next answer is due.
      const due = this.toCard[0]?.readyAt ?? -1;
      const now = this.dev.sched.now;
      const ready: boolean = yield call(this.poll.next(this.dev, v, due > now ? due - now : -1));
      if (!ready) {
        // The card's driver is gone or not up yet: what was on its way is lost, as on a
        // link that went down.
        this.toCard.length = 0;
        continue;
      }
      yield call(frame(this.dev.sched, 'mpssd.virtio_net_tx', undefined, this.drainTransmit(v)));
      yield call(frame(this.dev.sched, 'mpssd.virtio_net_rx', undefined, this.pushToCard(v)));
    }
  }

  // ---- card → host -------------------------------------------------------------------------

  private *drainTransmit(v: HostVdev): Routine {
    for (;;) {
      const hdr = new Uint8Array(VIRTIO_NET_HDR.SIZE);
      const buf = new Uint8Array(NET_RX_BUF);
      const n: number = yield call(
        this.dev.vop.copyDesc(
          v,
          [
            { buf: hdr, len: hdr.length },
            { buf, len: NET_RX_BUF },
          ],
          1,
          true,
        ),
      );
      if (n <= 0) return;
      if (n <= VIRTIO_NET_HDR.SIZE) {
        this.stats.ignored++;
        this.log(`transmit chain of ${n} bytes has no frame after the virtio_net_hdr; ignored`);
        continue;
      }
      const f = buf.slice(0, n - VIRTIO_NET_HDR.SIZE);
      const h = decodeNetHdr(hdr);
      if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM && !completePartialChecksum(f, h.csumStart, h.csumOffset)) {
        this.log(
          `NEEDS_CSUM with csum_start ${h.csumStart} + csum_offset ${h.csumOffset} outside the ${f.length}-byte frame; checksum left as is`,
        );
      }
      this.fromCard(f);
    }
  }

  private fromCard(f: Uint8Array): void {
    const n = ++this.linkFrames;
    if (this.shouldDrop(n, 'card→host', f)) return;
    this.stats.framesFromCard++;
    this.stats.bytesFromCard += f.length;
    this.pcap?.write(this.dev.sched.now, f);
    this.handle(f);
  }

  private shouldDrop(n: number, direction: LinkDirection, f: Uint8Array): boolean {
    if (!(this.dropEvery > 0 && n % this.dropEvery === 0)) return false;
    const d: DroppedFrame = { n, time: this.dev.sched.now, direction, summary: describeFrame(f) };
    this.dropped.push(d);
    this.stats.dropped++;
    this.log(
      `netDropEvery ${this.dropEvery}: dropped frame #${n} (${direction}, ${f.length} bytes): ${d.summary}`,
    );
    return true;
  }

  /** The host endpoint: answer what is addressed to it. */
  private handle(f: Uint8Array): void {
    if (f.length < ETH_HLEN) return this.ignore();
    const toUs = macEquals(f, 0, this.mac) || macEquals(f, 0, BROADCAST_MAC);
    if (!toUs) return this.ignore();
    const type = ethType(f);
    const payload = f.subarray(ETH_HLEN);
    if (type === ETH_P_ARP) return this.handleArp(payload);
    if (type === ETH_P_IP) return this.handleIp(f, payload);
    this.ignore();
  }

  private ignore(): void {
    this.stats.ignored++;
  }

  private learn(mac: Uint8Array): void {
    this.cardMac = mac.slice(0, 6);
    while (this.awaitingArp.length > 0) this.sendIp(this.awaitingArp.shift()!);
  }

  private handleArp(p: Uint8Array): void {
    const a = parseArp(p);
    if (!a) return this.ignore();
    if (a.op === ARPOP_REQUEST && a.tpa === this.ip) {
      this.learn(a.sha);
      const reply = buildArp({ op: ARPOP_REPLY, sha: this.mac, spa: this.ip, tha: a.sha, tpa: a.spa });
      this.toLink(buildEth(a.sha, this.mac, ETH_P_ARP, reply));
    } else if (a.op === ARPOP_REPLY && a.tpa === this.ip) {
      this.learn(a.sha);
    } else this.ignore();
  }

  private handleIp(f: Uint8Array, p: Uint8Array): void {
    const ip = parseIpv4(p);
    if (!ip || !ip.headerOk || ip.dst !== this.ip) return this.ignore();
    if (ip.frag & 0x3fff) {
      this.log(`fragment from ${ipToString(ip.src)} ignored (the endpoint does not reassemble)`);
      return this.ignore();
    }
    const srcMac = f.slice(6, 12);
    if (ip.proto === IPPROTO_ICMP) {
      const ic = parseIcmp(ip.payload);
      if (!ic || !ic.checksumOk) return this.ignore();
      if (ic.type === ICMP_ECHO) {
        const reply = buildIcmp(ICMP_ECHOREPLY, 0, ic.id, ic.seq, ic.data);
        this.reply(srcMac, ip.src, IPPROTO_ICMP, reply);
        return;
      }
      this.toInbox(f);
      return;
    }
    if (ip.proto === IPPROTO_UDP) {
      const u = parseUdp(ip.payload, ip.src, ip.dst);
      if (!u || !u.checksumOk) return this.ignore();
      if (u.dport === UDP_ECHO_PORT) {
        const back = buildUdp(this.ip, ip.src, u.dport, u.sport, u.data, 'full');
        this.reply(srcMac, ip.src, IPPROTO_UDP, back);
        return;
      }
      // No listener: ICMP port unreachable quoting the IP header and 8 bytes, as Linux does.
      const quote = p.subarray(0, Math.min(p.length, ip.ihl + 8));
      this.reply(srcMac, ip.src, IPPROTO_ICMP, buildIcmp(ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, 0, quote));
      return;
    }
    this.toInbox(f);
  }

  private toInbox(f: Uint8Array): void {
    this.inbox.push(f);
    if (this.inbox.length > INBOX_MAX) this.inbox.shift();
  }

  private reply(dstMac: Uint8Array, dst: number, proto: number, payload: Uint8Array): void {
    const pkt = buildIpv4({ src: this.ip, dst, proto, ttl: 64, id: this.nextId() }, payload);
    this.toLink(buildEth(dstMac, this.mac, ETH_P_IP, pkt));
  }

  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  // ---- host → card --------------------------------------------------------------------------

  /** Put a frame on the link towards the card (it may wait there for a receive buffer). */
  private toLink(f: Uint8Array): void {
    const n = ++this.linkFrames;
    if (this.shouldDrop(n, 'host→card', f)) return;
    this.toCard.push({ frame: f, readyAt: this.dev.sched.now + ENDPOINT_LATENCY_NS });
    this.poll.kick();
  }

  /** Send an IP packet to the card; asks for the card's MAC first if the host does not know it. */
  sendIp(packet: Uint8Array): void {
    if (this.cardMac) {
      this.toLink(buildEth(this.cardMac, this.mac, ETH_P_IP, packet));
      return;
    }
    this.awaitingArp.push(packet);
    if (this.awaitingArp.length === 1) {
      const req = buildArp({
        op: ARPOP_REQUEST,
        sha: this.mac,
        spa: this.ip,
        tha: ZERO_MAC,
        tpa: this.cardIp,
      });
      this.toLink(buildEth(BROADCAST_MAC, this.mac, ETH_P_ARP, req));
    }
  }

  /**
   * Ping the card from the host endpoint (an external input, like typing `ping 172.31.0.1` on
   * the host). The reply lands in `inbox`.
   */
  sendEchoRequest(id: number, seq: number, data: Uint8Array = new Uint8Array(56)): void {
    const icmp = buildIcmp(ICMP_ECHO, 0, id, seq, data);
    this.sendIp(buildIpv4({ src: this.ip, dst: this.cardIp, proto: IPPROTO_ICMP, id: this.nextId() }, icmp));
  }

  private *pushToCard(v: HostVdev): Routine {
    while (this.toCard.length > 0 && this.toCard[0].readyAt <= this.dev.sched.now) {
      const f = this.toCard[0].frame;
      const hdr = encodeNetHdr({ flags: VIRTIO_NET_HDR_F_DATA_VALID });
      const n: number = yield call(
        this.dev.vop.copyDesc(
          v,
          [
            { buf: hdr, len: hdr.length },
            { buf: f, len: f.length },
          ],
          0,
          true,
        ),
      );
      if (n <= 0) return; // no receive buffer posted yet: wait for the card's next kick
      this.toCard.shift();
      if (n < hdr.length + f.length) {
        this.log(
          `receive buffer of the card held ${n} of ${hdr.length + f.length} bytes; frame truncated (${describeFrame(f)})`,
        );
      }
      this.stats.framesToCard++;
      this.stats.bytesToCard += f.length;
      this.pcap?.write(this.dev.sched.now, f);
    }
  }

  /** For views and logs: `02:00:00:00:00:fe 172.31.0.254`. */
  describe(): string {
    return `${macToString(this.mac)} ${ipToString(this.ip)}`;
  }
}
