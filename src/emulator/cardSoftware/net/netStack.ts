// The card's tiny IPv4 stack over one Ethernet link (eth0, the virtio-net device) and a
// loopback (lo): ARP with a neighbour cache (request, 3 tries 1 s apart, queued packets,
// failure reported to the sockets as "Destination Host Unreachable"), IPv4 without options or
// fragmentation, ICMP echo (the card answers pings; ping sockets get replies and errors), and
// UDP sockets. Checksums are verified on receive unless the device said DATA_VALID; UDP
// checksums are left to the device (NEEDS_CSUM) when it offers VIRTIO_NET_F_CSUM.
// Everything runs as card routines: sending yields through the driver's bus accesses.

import { E } from '../../errno.ts';
import { call, type Routine, type Scheduler, sleep, waitOn, WaitQueue } from '../../sim/scheduler.ts';
import {
  ARPOP_REPLY,
  ARPOP_REQUEST,
  BROADCAST_MAC,
  ETH_HLEN,
  ETH_MTU,
  ETH_P_ARP,
  ETH_P_IP,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  IPV4_HLEN,
  UDP_HLEN,
  ZERO_MAC,
  buildArp,
  buildEth,
  buildIcmp,
  buildIpv4,
  buildUdp,
  ethType,
  ipToString,
  macEquals,
  macToString,
  parseArp,
  parseIcmp,
  parseIpv4,
  parseUdp,
  prefixToMask,
} from '../../net/wire.ts';

/** What the stack needs from the network device driver. */
export interface NetLink {
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** The device finishes checksums marked partial (VIRTIO_NET_F_CSUM negotiated). */
  readonly csumOffload: boolean;
  /** Transmit one Ethernet frame; `partial` asks the device to finish a checksum. 0 or −errno. */
  xmit(frame: Uint8Array, partial?: { start: number; offset: number } | null): Routine<number>;
}

export interface NetStackPorts {
  readonly sched: Scheduler;
  /** Run a kernel task (ARP resolution timers). */
  spawn(name: string, r: Routine<unknown>): void;
  printk(text: string): void;
}

export interface NetConfig {
  address: number;
  prefix: number;
}

const { ENETUNREACH, EMSGSIZE, ENETDOWN, EADDRINUSE } = E;

/** Linux neighbour defaults: mcast_solicit 3, retrans_time 1 s, unres_qlen (packets) 3. */
export const ARP_TRIES = 3;
export const ARP_RETRANS_NS = 1_000_000_000;
export const ARP_QUEUE_LEN = 3;
const LOOPBACK_DELAY_NS = 5_000;

export type NeighState = 'INCOMPLETE' | 'REACHABLE' | 'FAILED';

export interface Neighbour {
  ip: number;
  mac: Uint8Array | null;
  state: NeighState;
  queue: Uint8Array[];
  resolved: WaitQueue;
}

/** An ICMP "ping" socket: echo replies and errors for one identifier. */
export interface IcmpSocket {
  id: number;
  /** An echo reply for this id arrived (IP header fields and the ICMP message). */
  onReply(from: number, ttl: number, seq: number, data: Uint8Array, icmpLen: number): void;
  /** An echo request of ours could not be delivered. */
  onError(from: number, seq: number, reason: string): void;
}

export interface UdpSocket {
  port: number;
  onDatagram(from: number, sport: number, data: Uint8Array): void;
  onError?(from: number, reason: string): void;
}

export interface IfStats {
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  txDropped: number;
}

function newStats(): IfStats {
  return {
    rxPackets: 0,
    rxBytes: 0,
    rxErrors: 0,
    rxDropped: 0,
    txPackets: 0,
    txBytes: 0,
    txErrors: 0,
    txDropped: 0,
  };
}

export class NetStack {
  readonly address: number;
  readonly prefix: number;
  readonly mask: number;
  readonly neigh = new Map<number, Neighbour>();
  readonly icmpSockets = new Set<IcmpSocket>();
  readonly udpSockets = new Map<number, UdpSocket>();
  readonly eth0 = newStats();
  readonly lo = newStats();
  /** The link is up (the driver reached DRIVER_OK and is not removed). */
  link: NetLink | null = null;
  private ipId = 0;
  private nextEphemeral = 32768;

  constructor(
    readonly p: NetStackPorts,
    cfg: NetConfig,
  ) {
    this.address = cfg.address >>> 0;
    this.prefix = cfg.prefix;
    this.mask = prefixToMask(cfg.prefix);
  }

  get network(): number {
    return (this.address & this.mask) >>> 0;
  }
  get broadcast(): number {
    return (this.address | ~this.mask) >>> 0;
  }

  isLocal(ip: number): boolean {
    return ip === this.address || ip >>> 24 === 127;
  }

  onLink(ip: number): boolean {
    return (ip & this.mask) >>> 0 === this.network;
  }

  /** An identifier for a new ping socket (iputils uses its pid). */
  allocIdent(): number {
    return 0x1000 + this.icmpSockets.size;
  }

  /** A free ephemeral UDP port (32768–60999, as ip_local_port_range). */
  bindUdp(sock: Omit<UdpSocket, 'port'>, port = 0): UdpSocket | number {
    let p = port;
    if (p === 0) {
      for (let i = 0; i < 28232; i++) {
        const cand = this.nextEphemeral;
        this.nextEphemeral = cand >= 60999 ? 32768 : cand + 1;
        if (!this.udpSockets.has(cand)) {
          p = cand;
          break;
        }
      }
    }
    if (p === 0 || this.udpSockets.has(p)) return -EADDRINUSE;
    const s: UdpSocket = { ...sock, port: p };
    this.udpSockets.set(p, s);
    return s;
  }

  unbindUdp(s: UdpSocket): void {
    if (this.udpSockets.get(s.port) === s) this.udpSockets.delete(s.port);
  }

  // ---- receive ----------------------------------------------------------------------------

  /** netif_receive_skb for eth0. `dataValid`: the device vouches for the checksums. */
  *input(f: Uint8Array, dataValid: boolean): Routine {
    const link = this.link;
    if (!link) return;
    this.eth0.rxPackets++;
    this.eth0.rxBytes += f.length;
    if (f.length < ETH_HLEN) {
      this.eth0.rxErrors++;
      return;
    }
    if (!macEquals(f, 0, link.mac) && !macEquals(f, 0, BROADCAST_MAC)) {
      this.eth0.rxDropped++;
      return;
    }
    const type = ethType(f);
    const p = f.subarray(ETH_HLEN);
    if (type === ETH_P_ARP) yield call(this.arpInput(p));
    else if (type === ETH_P_IP) yield call(this.ipInput(p, dataValid, f.subarray(6, 12)));
    else this.eth0.rxDropped++;
  }

  private *arpInput(p: Uint8Array): Routine {
    const a = parseArp(p);
    const link = this.link;
    if (!a || !link) {
      this.eth0.rxErrors++;
      return;
    }
    // Learn (or refresh) the sender if we have an entry or the request is for us (RFC 826).
    const n = this.neigh.get(a.spa);
    if (n || a.tpa === this.address) this.resolve(a.spa, a.sha);
    if (a.op === ARPOP_REQUEST && a.tpa === this.address) {
      const reply = buildArp({ op: ARPOP_REPLY, sha: link.mac, spa: this.address, tha: a.sha, tpa: a.spa });
      yield call(this.xmit(buildEth(a.sha, link.mac, ETH_P_ARP, reply)));
    }
  }

  private resolve(ip: number, mac: Uint8Array): void {
    let n = this.neigh.get(ip);
    if (!n) {
      n = { ip, mac: null, state: 'INCOMPLETE', queue: [], resolved: new WaitQueue(this.p.sched, 'arp') };
      this.neigh.set(ip, n);
    }
    n.mac = mac.slice(0, 6);
    n.state = 'REACHABLE';
    n.resolved.signal();
  }

  private *ipInput(p: Uint8Array, dataValid: boolean, srcMac: Uint8Array | null): Routine {
    const ip = parseIpv4(p);
    if (!ip || (!dataValid && !ip.headerOk)) {
      this.eth0.rxErrors++;
      return;
    }
    if (!this.isLocal(ip.dst) && ip.dst !== this.broadcast) {
      this.eth0.rxDropped++; // not a router
      return;
    }
    if (ip.frag & 0x3fff) {
      this.eth0.rxDropped++; // no reassembly
      return;
    }
    // A frame from a neighbour we know refreshes it (cheap confirmation).
    if (srcMac && this.neigh.get(ip.src)?.state === 'REACHABLE') this.resolve(ip.src, srcMac);
    if (ip.proto === IPPROTO_ICMP) yield call(this.icmpInput(ip.src, ip.dst, ip.ttl, ip.payload, dataValid));
    else if (ip.proto === IPPROTO_UDP) this.udpInput(ip.src, ip.dst, ip.payload, dataValid);
    else this.eth0.rxDropped++;
  }

  private *icmpInput(src: number, dst: number, ttl: number, p: Uint8Array, dataValid: boolean): Routine {
    const ic = parseIcmp(p);
    if (!ic || (!dataValid && !ic.checksumOk)) {
      this.eth0.rxErrors++;
      return;
    }
    if (ic.type === ICMP_ECHO) {
      // icmp_echo: same id, sequence and data back to the sender.
      const reply = buildIcmp(ICMP_ECHOREPLY, 0, ic.id, ic.seq, ic.data);
      yield call(this.sendIp(src, IPPROTO_ICMP, reply, { from: this.isLocal(dst) ? dst : this.address }));
      return;
    }
    if (ic.type === ICMP_ECHOREPLY) {
      for (const s of this.icmpSockets) if (s.id === ic.id) s.onReply(src, ttl, ic.seq, ic.data, p.length);
      return;
    }
    if (ic.type === ICMP_DEST_UNREACH) {
      // The quoted datagram says whose packet it was.
      const q = parseIpv4Quote(ic.data);
      if (!q) return;
      const reason = UNREACH_TEXT[ic.code] ?? `Dest Unreachable, Bad Code: ${ic.code}`;
      if (q.proto === IPPROTO_ICMP && q.l4.length >= 8 && q.l4[0] === ICMP_ECHO) {
        const id = (q.l4[4] << 8) | q.l4[5];
        const seq = (q.l4[6] << 8) | q.l4[7];
        for (const s of this.icmpSockets) if (s.id === id) s.onError(src, seq, reason);
      } else if (q.proto === IPPROTO_UDP && q.l4.length >= 4) {
        const sport = (q.l4[0] << 8) | q.l4[1];
        this.udpSockets.get(sport)?.onError?.(src, reason);
      }
    }
  }

  private udpInput(src: number, dst: number, p: Uint8Array, dataValid: boolean): void {
    const u = parseUdp(p, src, dst);
    if (!u || (!dataValid && !u.checksumOk)) {
      this.eth0.rxErrors++;
      return;
    }
    const s = this.udpSockets.get(u.dport);
    if (!s) {
      this.eth0.rxDropped++;
      return;
    }
    s.onDatagram(src, u.sport, u.data);
  }

  // ---- send --------------------------------------------------------------------------------

  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /**
   * ip_queue_xmit: route, build the header, resolve the neighbour. Returns 0 once the packet is
   * sent or queued for ARP, or −errno (−ENETUNREACH off-link: there is no default route;
   * −EMSGSIZE beyond the MTU: no fragmentation; −ENETDOWN without a link).
   */
  *sendIp(
    dst: number,
    proto: number,
    payload: Uint8Array,
    opts: { from?: number; partial?: { offset: number } | null } = {},
  ): Routine<number> {
    if (this.isLocal(dst)) {
      const src = dst >>> 24 === 127 ? dst : this.address;
      const pkt = buildIpv4(
        { src: opts.from ?? src, dst, proto, ttl: 64, id: this.nextId(), df: true },
        payload,
      );
      this.lo.txPackets++;
      this.lo.txBytes += pkt.length;
      this.p.spawn('net_rx_action lo', this.loopback(pkt));
      return 0;
    }
    const link = this.link;
    if (!link) return -ENETDOWN;
    if (!this.onLink(dst) && dst !== 0xffffffff) return -ENETUNREACH;
    if (IPV4_HLEN + payload.length > Math.min(link.mtu, ETH_MTU)) return -EMSGSIZE;
    const pkt = buildIpv4(
      { src: opts.from ?? this.address, dst, proto, ttl: 64, id: this.nextId(), df: true },
      payload,
    );
    const partial =
      opts.partial && link.csumOffload ? { start: ETH_HLEN + IPV4_HLEN, offset: opts.partial.offset } : null;
    if (dst === this.broadcast || dst === 0xffffffff)
      return yield call(this.xmit(buildEth(BROADCAST_MAC, link.mac, ETH_P_IP, pkt), partial));
    const n = this.neigh.get(dst);
    if (n && n.state === 'REACHABLE' && n.mac)
      return yield call(this.xmit(buildEth(n.mac, link.mac, ETH_P_IP, pkt), partial));
    // Unresolved: queue (the oldest goes when the queue is full) and make sure a probe runs.
    if (partial) fixPartialInSoftware(pkt, proto); // queued packets are checksummed here
    if (n && n.state === 'INCOMPLETE') {
      n.queue.push(pkt);
      if (n.queue.length > ARP_QUEUE_LEN) this.unreachable(n.queue.shift()!);
      return 0;
    }
    const fresh: Neighbour = {
      ip: dst,
      mac: null,
      state: 'INCOMPLETE',
      queue: [pkt],
      resolved: new WaitQueue(this.p.sched, `arp ${ipToString(dst)}`),
    };
    this.neigh.set(dst, fresh);
    this.p.spawn(`arp_solicit ${ipToString(dst)}`, this.solicit(fresh));
    return 0;
  }

  private *loopback(pkt: Uint8Array): Routine {
    yield sleep(LOOPBACK_DELAY_NS);
    this.lo.rxPackets++;
    this.lo.rxBytes += pkt.length;
    yield call(this.ipInput(pkt, true, null));
  }

  /** Send ARP requests until the neighbour answers or ARP_TRIES are used up. */
  private *solicit(n: Neighbour): Routine {
    for (let i = 0; i < ARP_TRIES && n.state === 'INCOMPLETE'; i++) {
      const link = this.link;
      if (!link) break;
      const req = buildArp({ op: ARPOP_REQUEST, sha: link.mac, spa: this.address, tha: ZERO_MAC, tpa: n.ip });
      yield call(this.xmit(buildEth(BROADCAST_MAC, link.mac, ETH_P_ARP, req)));
      if (n.state !== 'INCOMPLETE') break;
      yield waitOn(n.resolved, ARP_RETRANS_NS);
    }
    if (n.state === 'REACHABLE' && n.mac && this.link) {
      const link = this.link;
      const mac = n.mac;
      while (n.queue.length > 0) yield call(this.xmit(buildEth(mac, link.mac, ETH_P_IP, n.queue.shift()!)));
      return;
    }
    // FAILED: every queued packet gets its "Destination Host Unreachable"; the entry goes so
    // the next packet probes again.
    n.state = 'FAILED';
    if (this.neigh.get(n.ip) === n) this.neigh.delete(n.ip);
    for (const pkt of n.queue.splice(0)) this.unreachable(pkt);
  }

  /** Report a packet that could not be delivered to the socket that sent it (ip_error). */
  private unreachable(pkt: Uint8Array): void {
    this.eth0.txDropped++;
    const ip = parseIpv4(pkt);
    if (!ip) return;
    const reason = UNREACH_TEXT[1];
    if (ip.proto === IPPROTO_ICMP && ip.payload[0] === ICMP_ECHO && ip.payload.length >= 8) {
      const id = (ip.payload[4] << 8) | ip.payload[5];
      const seq = (ip.payload[6] << 8) | ip.payload[7];
      for (const s of this.icmpSockets) if (s.id === id) s.onError(this.address, seq, reason);
    } else if (ip.proto === IPPROTO_UDP && ip.payload.length >= 2) {
      const sport = (ip.payload[0] << 8) | ip.payload[1];
      this.udpSockets.get(sport)?.onError?.(this.address, reason);
    }
  }

  private *xmit(f: Uint8Array, partial: { start: number; offset: number } | null = null): Routine<number> {
    const link = this.link;
    if (!link) return -ENETDOWN;
    const rc: number = yield call(link.xmit(f, partial));
    if (rc < 0) {
      this.eth0.txErrors++;
      return rc;
    }
    this.eth0.txPackets++;
    this.eth0.txBytes += f.length;
    return 0;
  }

  /** udp_sendmsg from a bound socket. */
  *sendUdp(sock: UdpSocket, dst: number, dport: number, data: Uint8Array): Routine<number> {
    const local = this.isLocal(dst);
    const offload = !local && this.link?.csumOffload === true;
    const src = local && dst >>> 24 === 127 ? dst : this.address;
    const u = buildUdp(src, dst, sock.port, dport, data, offload ? 'partial' : 'full');
    return yield call(this.sendIp(dst, IPPROTO_UDP, u, { partial: offload ? { offset: 6 } : null }));
  }

  /** `ip neigh` lines. */
  neighLines(): string[] {
    const out: string[] = [];
    for (const n of this.neigh.values()) {
      const ll = n.mac ? ` lladdr ${macToString(n.mac)}` : '';
      out.push(`${ipToString(n.ip)} dev eth0${ll} ${n.state}`);
    }
    return out;
  }

  /** The largest UDP payload / ICMP echo data that fits the link without fragmentation. */
  get maxPayload(): number {
    return Math.min(this.link?.mtu ?? ETH_MTU, ETH_MTU) - IPV4_HLEN - UDP_HLEN;
  }
}

const UNREACH_TEXT: Record<number, string> = {
  0: 'Destination Net Unreachable',
  1: 'Destination Host Unreachable',
  2: 'Destination Protocol Unreachable',
  3: 'Destination Port Unreachable',
  4: 'Frag needed and DF set',
};

function parseIpv4Quote(q: Uint8Array): { proto: number; l4: Uint8Array } | null {
  if (q.length < IPV4_HLEN || q[0] >> 4 !== 4) return null;
  const ihl = (q[0] & 0x0f) * 4;
  return { proto: q[9], l4: q.subarray(ihl) };
}

/** A queued packet cannot keep a partial checksum for long: finish it in software. */
function fixPartialInSoftware(pkt: Uint8Array, proto: number): void {
  if (proto !== IPPROTO_UDP) return;
  const ip = parseIpv4(pkt);
  if (!ip) return;
  const u = ip.payload;
  const full = buildUdp(ip.src, ip.dst, (u[0] << 8) | u[1], (u[2] << 8) | u[3], u.subarray(UDP_HLEN), 'full');
  pkt.set(full, ip.ihl);
}
