// Wire formats of the virtio-net link, as pure functions over bytes: the 10-byte
// virtio_net_hdr (reference §6.3), Ethernet II, ARP, IPv4, ICMP and UDP (RFC 826, 791, 792,
// 768), the Internet checksum (RFC 1071), and a tcpdump-like one-line summary of a frame.
// One codec for both ends of the link: the card's tiny IP stack and the host endpoint of the
// net back-end use it, as both virtio drivers share src/emulator/virtio/vring.ts.
// Addresses are kept as plain numbers (IPv4, unsigned 32-bit) and 6-byte arrays (MAC).

// ---- virtio_net_hdr (legacy, no num_buffers: MRG_RXBUF is not offered) -------------------

export const VIRTIO_NET_HDR = {
  flags: 0,
  gso_type: 1,
  hdr_len: 2,
  gso_size: 4,
  csum_start: 6,
  csum_offset: 8,
  SIZE: 10,
} as const;
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
export const VIRTIO_NET_HDR_GSO_NONE = 0;

/** Feature bits of virtio-net that mpssd offers (§6.3). */
export const VIRTIO_NET_F_CSUM = 0;
export const VIRTIO_NET_F_GSO = 6;
export const VIRTIO_NET_F_GUEST_TSO4 = 7;
export const VIRTIO_NET_F_GUEST_TSO6 = 8;
export const VIRTIO_NET_F_GUEST_ECN = 9;
export const VIRTIO_NET_F_GUEST_UFO = 10;

export interface VirtioNetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function encodeNetHdr(h: Partial<VirtioNetHdr> = {}): Uint8Array {
  const b = new Uint8Array(VIRTIO_NET_HDR.SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint8(VIRTIO_NET_HDR.flags, h.flags ?? 0);
  dv.setUint8(VIRTIO_NET_HDR.gso_type, h.gsoType ?? 0);
  dv.setUint16(VIRTIO_NET_HDR.hdr_len, h.hdrLen ?? 0, true);
  dv.setUint16(VIRTIO_NET_HDR.gso_size, h.gsoSize ?? 0, true);
  dv.setUint16(VIRTIO_NET_HDR.csum_start, h.csumStart ?? 0, true);
  dv.setUint16(VIRTIO_NET_HDR.csum_offset, h.csumOffset ?? 0, true);
  return b;
}

export function decodeNetHdr(b: Uint8Array): VirtioNetHdr {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (o: number) => (b.length >= o + 2 ? dv.getUint16(o, true) : 0);
  return {
    flags: b[VIRTIO_NET_HDR.flags] ?? 0,
    gsoType: b[VIRTIO_NET_HDR.gso_type] ?? 0,
    hdrLen: u16(VIRTIO_NET_HDR.hdr_len),
    gsoSize: u16(VIRTIO_NET_HDR.gso_size),
    csumStart: u16(VIRTIO_NET_HDR.csum_start),
    csumOffset: u16(VIRTIO_NET_HDR.csum_offset),
  };
}

// ---- addresses ------------------------------------------------------------------------------

export const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
export const ZERO_MAC = new Uint8Array(6);

export function macToString(b: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((b[off + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

/** The host endpoint's MAC on card N's link: 02:00:00:00:NN:fe (locally administered). */
export function hostEndpointMac(card: number): Uint8Array {
  return Uint8Array.of(0x02, 0, 0, 0, card & 0xff, 0xfe);
}

/**
 * The card's MAC. mpssd offers no VIRTIO_NET_F_MAC, so Linux picks a random one
 * (eth_random_addr: unicast, locally administered). The emulator must be deterministic, so the
 * "random" bytes are an FNV-1a hash of the card index, and byte 0 is 0x02 (locally
 * administered, unicast) so a person recognises it as made up: 02:xx:xx:xx:xx:xx.
 */
export function cardMac(card: number): Uint8Array {
  let h = 0x811c9dc5;
  const mac = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    h ^= (card + 1) * 0x9e + i;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= h >>> 13;
    mac[i] = (h >>> 8) & 0xff;
  }
  mac[0] = 0x02;
  return mac;
}

export function ipToString(a: number): string {
  return `${(a >>> 24) & 0xff}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Dotted quad → unsigned 32-bit number, or null if it is not one. */
export function parseIp(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return null;
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function prefixToMask(prefix: number): number {
  return prefix <= 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function maskToPrefix(mask: number): number {
  let n = 0;
  while (n < 32 && mask & (0x80000000 >>> n)) n++;
  return n;
}

// ---- the Internet checksum ---------------------------------------------------------------------

/** Sum of 16-bit big-endian words over b[start, end), added to `init` (not folded). */
export function onesSum(b: Uint8Array, start: number, end: number, init = 0): number {
  let s = init;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

export function foldSum(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** The checksum to store: the complement of the folded sum. */
export function inetChecksum(b: Uint8Array, start: number, end: number, init = 0): number {
  return ~foldSum(onesSum(b, start, end, init)) & 0xffff;
}

/** Sum of the TCP/UDP pseudo header (source, destination, zero+protocol, length). */
export function pseudoHeaderSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

// ---- Ethernet ---------------------------------------------------------------------------------

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
/** Largest frame without FCS for an MTU of 1500. */
export const ETH_FRAME_MAX = 1514;
export const ETH_MTU = 1500;

export function ethType(f: Uint8Array): number {
  return f.length >= ETH_HLEN ? (f[12] << 8) | f[13] : -1;
}

export function buildEth(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + payload.length);
  f.set(dst.subarray(0, 6), 0);
  f.set(src.subarray(0, 6), 6);
  f[12] = type >>> 8;
  f[13] = type & 0xff;
  f.set(payload, ETH_HLEN);
  return f;
}

// ---- ARP (Ethernet/IPv4 only) ----------------------------------------------------------------

export const ARP_LEN = 28;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

export interface Arp {
  op: number;
  sha: Uint8Array;
  spa: number;
  tha: Uint8Array;
  tpa: number;
}

export function parseArp(p: Uint8Array): Arp | null {
  if (p.length < ARP_LEN) return null;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (dv.getUint16(0) !== 1 || dv.getUint16(2) !== ETH_P_IP || p[4] !== 6 || p[5] !== 4) return null;
  return {
    op: dv.getUint16(6),
    sha: p.slice(8, 14),
    spa: dv.getUint32(14),
    tha: p.slice(18, 24),
    tpa: dv.getUint32(24),
  };
}

export function buildArp(a: Arp): Uint8Array {
  const p = new Uint8Array(ARP_LEN);
  const dv = new DataView(p.buffer);
  dv.setUint16(0, 1); // htype Ethernet
  dv.setUint16(2, ETH_P_IP);
  p[4] = 6;
  p[5] = 4;
  dv.setUint16(6, a.op);
  p.set(a.sha.subarray(0, 6), 8);
  dv.setUint32(14, a.spa);
  p.set(a.tha.subarray(0, 6), 18);
  dv.setUint32(24, a.tpa);
  return p;
}

// ---- IPv4 ---------------------------------------------------------------------------------------

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPV4_HLEN = 20;
export const IP_DF = 0x4000;

export interface Ipv4 {
  ihl: number;
  tos: number;
  totalLen: number;
  id: number;
  /** flags and fragment offset as the 16-bit field */
  frag: number;
  ttl: number;
  proto: number;
  checksum: number;
  src: number;
  dst: number;
  /** the header checksum verifies */
  headerOk: boolean;
  /** the payload, trimmed to totalLen */
  payload: Uint8Array;
}

export function parseIpv4(p: Uint8Array): Ipv4 | null {
  if (p.length < IPV4_HLEN || p[0] >> 4 !== 4) return null;
  const ihl = (p[0] & 0x0f) * 4;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const totalLen = dv.getUint16(2);
  if (ihl < IPV4_HLEN || totalLen < ihl || totalLen > p.length) return null;
  return {
    ihl,
    tos: p[1],
    totalLen,
    id: dv.getUint16(4),
    frag: dv.getUint16(6),
    ttl: p[8],
    proto: p[9],
    checksum: dv.getUint16(10),
    src: dv.getUint32(12),
    dst: dv.getUint32(16),
    headerOk: inetChecksum(p, 0, ihl) === 0,
    payload: p.subarray(ihl, totalLen),
  };
}

export interface Ipv4Out {
  src: number;
  dst: number;
  proto: number;
  ttl?: number;
  id?: number;
  tos?: number;
  /** set DF (Linux does for ICMP echo and most traffic with PMTU discovery) */
  df?: boolean;
}

/** A 20-byte header (no options) with its checksum, followed by the payload. */
export function buildIpv4(h: Ipv4Out, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(IPV4_HLEN + payload.length);
  const dv = new DataView(p.buffer);
  p[0] = 0x45;
  p[1] = h.tos ?? 0;
  dv.setUint16(2, p.length);
  dv.setUint16(4, h.id ?? 0);
  dv.setUint16(6, h.df ? IP_DF : 0);
  p[8] = h.ttl ?? 64;
  p[9] = h.proto;
  dv.setUint32(12, h.src >>> 0);
  dv.setUint32(16, h.dst >>> 0);
  dv.setUint16(10, inetChecksum(p, 0, IPV4_HLEN));
  p.set(payload, IPV4_HLEN);
  return p;
}

// ---- ICMP -----------------------------------------------------------------------------------------

export const ICMP_ECHOREPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_ECHO = 8;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PORT_UNREACH = 3;

export interface Icmp {
  type: number;
  code: number;
  checksumOk: boolean;
  /** echo: identifier and sequence number; other types: the "rest of header" word halves */
  id: number;
  seq: number;
  data: Uint8Array;
}

export function parseIcmp(p: Uint8Array): Icmp | null {
  if (p.length < 8) return null;
  return {
    type: p[0],
    code: p[1],
    checksumOk: inetChecksum(p, 0, p.length) === 0,
    id: (p[4] << 8) | p[5],
    seq: (p[6] << 8) | p[7],
    data: p.subarray(8),
  };
}

/** An ICMP message with id/seq in the second word (echo, echo reply) or a zero word. */
export function buildIcmp(type: number, code: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const p = new Uint8Array(8 + data.length);
  p[0] = type;
  p[1] = code;
  p[4] = (id >>> 8) & 0xff;
  p[5] = id & 0xff;
  p[6] = (seq >>> 8) & 0xff;
  p[7] = seq & 0xff;
  p.set(data, 8);
  const c = inetChecksum(p, 0, p.length);
  p[2] = c >>> 8;
  p[3] = c & 0xff;
  return p;
}

// ---- UDP -------------------------------------------------------------------------------------------

export const UDP_HLEN = 8;

export interface Udp {
  sport: number;
  dport: number;
  len: number;
  checksum: number;
  /** zero checksum (none) or a checksum that verifies over the pseudo header */
  checksumOk: boolean;
  data: Uint8Array;
}

export function parseUdp(p: Uint8Array, src: number, dst: number): Udp | null {
  if (p.length < UDP_HLEN) return null;
  const len = (p[4] << 8) | p[5];
  if (len < UDP_HLEN || len > p.length) return null;
  const checksum = (p[6] << 8) | p[7];
  const ok = checksum === 0 || inetChecksum(p, 0, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len)) === 0;
  return {
    sport: (p[0] << 8) | p[1],
    dport: (p[2] << 8) | p[3],
    len,
    checksum,
    checksumOk: ok,
    data: p.subarray(UDP_HLEN, len),
  };
}

/**
 * A UDP datagram. `csum`: 'full' computes the checksum; 'partial' stores the folded pseudo-header
 * sum for a device to finish (CHECKSUM_PARTIAL, virtio NEEDS_CSUM at offset 6); 'none' leaves 0.
 */
export function buildUdp(
  src: number,
  dst: number,
  sport: number,
  dport: number,
  data: Uint8Array,
  csum: 'full' | 'partial' | 'none' = 'full',
): Uint8Array {
  const len = UDP_HLEN + data.length;
  const p = new Uint8Array(len);
  p[0] = sport >>> 8;
  p[1] = sport & 0xff;
  p[2] = dport >>> 8;
  p[3] = dport & 0xff;
  p[4] = len >>> 8;
  p[5] = len & 0xff;
  p.set(data, UDP_HLEN);
  const ph = pseudoHeaderSum(src, dst, IPPROTO_UDP, len);
  let c = 0;
  if (csum === 'full') c = inetChecksum(p, 0, len, ph) || 0xffff;
  else if (csum === 'partial') c = foldSum(ph);
  p[6] = c >>> 8;
  p[7] = c & 0xff;
  return p;
}

/**
 * What a device does for NEEDS_CSUM: checksum frame[start, end) and store the complement at
 * start + offset (a zero result is stored as 0xffff, which means the same and keeps UDP's
 * "no checksum" value free). Returns false if the offsets do not fit the frame.
 */
export function completePartialChecksum(f: Uint8Array, start: number, offset: number): boolean {
  const at = start + offset;
  if (start >= f.length || at + 2 > f.length) return false;
  const c = inetChecksum(f, start, f.length) || 0xffff;
  f[at] = c >>> 8;
  f[at + 1] = c & 0xff;
  return true;
}

// ---- a one-line summary, tcpdump style -------------------------------------------------------

export function describeFrame(f: Uint8Array): string {
  const type = ethType(f);
  const p = f.subarray(ETH_HLEN);
  if (type === ETH_P_ARP) {
    const a = parseArp(p);
    if (!a) return `ARP, malformed, length ${f.length}`;
    if (a.op === ARPOP_REQUEST) return `ARP, Request who-has ${ipToString(a.tpa)} tell ${ipToString(a.spa)}`;
    if (a.op === ARPOP_REPLY) return `ARP, Reply ${ipToString(a.spa)} is-at ${macToString(a.sha)}`;
    return `ARP, op ${a.op}`;
  }
  if (type === ETH_P_IP) {
    const ip = parseIpv4(p);
    if (!ip) return `IP, malformed, length ${f.length}`;
    const hosts = `${ipToString(ip.src)} > ${ipToString(ip.dst)}`;
    if (ip.proto === IPPROTO_ICMP) {
      const ic = parseIcmp(ip.payload);
      if (!ic) return `IP ${hosts}: ICMP, truncated`;
      const what =
        ic.type === ICMP_ECHO
          ? `echo request, id ${ic.id}, seq ${ic.seq}`
          : ic.type === ICMP_ECHOREPLY
            ? `echo reply, id ${ic.id}, seq ${ic.seq}`
            : `type ${ic.type} code ${ic.code}`;
      return `IP ${hosts}: ICMP ${what}, length ${ip.payload.length}`;
    }
    if (ip.proto === IPPROTO_UDP) {
      const u = parseUdp(ip.payload, ip.src, ip.dst);
      if (!u) return `IP ${hosts}: UDP, truncated`;
      return `IP ${ipToString(ip.src)}.${u.sport} > ${ipToString(ip.dst)}.${u.dport}: UDP, length ${u.data.length}`;
    }
    return `IP ${hosts}: protocol ${ip.proto}, length ${ip.payload.length}`;
  }
  return `ethertype 0x${type.toString(16).padStart(4, '0')}, length ${f.length}`;
}
