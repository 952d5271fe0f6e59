// Network commands of the card shell: `ip` (iproute2-like addr/link/route/neigh), `ping`
// (iputils output format, virtual time) and `udp-echo` (send one datagram, print the echo).
// ping and udp-echo are asynchronous: they return a routine the card OS runs as a task, and
// they poll sh.interrupted so Ctrl-C stops them.
//
// Differences from the real tools, on purpose:
// - ping without -c sends 4 packets, not forever: a scripted console (tests, the CLI) has no
//   reliable way to stop it. Ctrl-C still ends it early with the summary.
// - ping refuses sizes that would need IP fragmentation (> 1472 bytes of data): the card's
//   stack does not fragment.
// - Only numeric addresses and `localhost` are understood (no resolver on the card).

import { E, strerror } from '../../errno.ts';
import { call, type Routine, waitOn, WaitQueue } from '../../sim/scheduler.ts';
import type { CardNet } from '../virtioNet.ts';
import type { IcmpSocket, NetStack, UdpSocket } from '../net/netStack.ts';
import {
  ICMP_ECHO,
  IPPROTO_ICMP,
  IPV4_HLEN,
  buildIcmp,
  ipToString,
  macToString,
  parseIp,
} from '../../net/wire.ts';
import type { Shell, ShellCommand } from './shell.ts';

/** How often a waiting command looks at Ctrl-C (virtual time). */
const POLL_NS = 10_000_000;
const ICMP_HLEN = 8;
/** iputils: the longest wait for missing replies after the last packet when none came back. */
const PING_LINGER_NS = 10_000_000_000;
export const PING_DEFAULT_COUNT = 4;
export const UDP_ECHO_TIMEOUT_NS = 2_000_000_000;

export function netCommands(net: CardNet): Record<string, ShellCommand> {
  return {
    ip: {
      help: 'show network state: ip addr | link | route | neigh',
      run: (args, sh) => cmdIp(net, args, sh),
    },
    ping: {
      help: 'ping [-c COUNT] [-s SIZE] [-i SECONDS] [-q] HOST  (ICMP echo; 4 packets unless -c)',
      run: (args, sh) => cmdPing(net, args, sh),
    },
    'udp-echo': {
      help: 'udp-echo HOST PORT TEXT  (send TEXT in a UDP datagram, print the reply; 2 s timeout)',
      run: (args, sh) => cmdUdpEcho(net, args, sh),
    },
  };
}

// ---- ip -----------------------------------------------------------------------------------------

function linkLines(net: CardNet): string[][] {
  const lo = [
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000',
    '    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
  ];
  const out = [lo];
  if (net.driver) {
    const up = net.up;
    out.push([
      `2: eth0: <BROADCAST,MULTICAST${up ? ',UP,LOWER_UP' : ''}> mtu ${net.driver.mtu} qdisc pfifo_fast state ${up ? 'UP' : 'DOWN'} group default qlen 1000`,
      `    link/ether ${macToString(net.mac)} brd ff:ff:ff:ff:ff:ff`,
    ]);
  }
  return out;
}

function cmdIp(net: CardNet, args: string[], sh: Shell): number {
  const obj = args[0] ?? '';
  const rest = args.slice(1);
  const is = (full: string) => obj.length > 0 && full.startsWith(obj);
  const s = net.stack;
  if (obj === '') {
    sh.print(
      'Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\nwhere  OBJECT := { link | address | route | neigh }\n',
    );
    return 255;
  }
  // `ip addr show dev eth0`, `ip a s eth0`: an optional device filter.
  const words = rest.filter((w) => !['show', 's', 'list', 'ls', 'dev'].includes(w));
  const dev = words[0];
  if (dev !== undefined && dev !== 'lo' && !(dev === 'eth0' && net.driver)) {
    sh.print(`Device "${dev}" does not exist.\n`);
    return 1;
  }
  const want = (name: string) => dev === undefined || dev === name;
  if (is('address') || obj === 'a' || obj === 'addr') {
    const [lo, eth] = linkLines(net);
    let text = '';
    if (want('lo')) {
      text += lo.join('\n') + '\n';
      text += '    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n';
    }
    if (eth && want('eth0')) {
      text += eth.join('\n') + '\n';
      if (s) {
        text += `    inet ${ipToString(s.address)}/${s.prefix} brd ${ipToString(s.broadcast)} scope global eth0\n`;
        text += '       valid_lft forever preferred_lft forever\n';
      }
    }
    sh.print(text);
    return 0;
  }
  if (is('link')) {
    const [lo, eth] = linkLines(net);
    let text = '';
    if (want('lo')) text += lo.join('\n') + '\n';
    if (eth && want('eth0')) text += eth.join('\n') + '\n';
    sh.print(text);
    return 0;
  }
  if (is('route')) {
    if (s && net.up)
      sh.print(
        `${ipToString(s.network)}/${s.prefix} dev eth0 proto kernel scope link src ${ipToString(s.address)}\n`,
      );
    return 0;
  }
  if (is('neighbour') || is('neighbor')) {
    const lines = s ? s.neighLines() : [];
    sh.print(lines.map((l) => l + '\n').join(''));
    return 0;
  }
  sh.print(`Object "${obj}" is unknown, try "ip help".\n`);
  return 1;
}

// ---- shared helpers -------------------------------------------------------------------------------

function resolveHost(name: string): number | null {
  if (name === 'localhost') return 0x7f000001;
  return parseIp(name);
}

/** The stack, or a message why there is no route to `dst` (as connect() would fail). */
function routeCheck(net: CardNet, dst: number): NetStack | string {
  const s = net.stack;
  if (s && s.isLocal(dst)) return s;
  if (!s || !net.up || (!s.onLink(dst) && dst !== s.broadcast)) return 'Network is unreachable';
  return s;
}

function errText(rc: number): string {
  // The driver's xmit answers -EBUSY when the host keeps every transmit buffer; a socket
  // sees that as ENOBUFS.
  if (rc === -E.EBUSY) return strerror(E.ENOBUFS);
  if (rc === -E.ENETUNREACH || rc === -E.ENETDOWN || rc === -E.EMSGSIZE) return strerror(rc);
  return `error ${rc}`;
}

/** %g with 6 significant digits, as printf prints the packet loss. */
function g(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** iputils' reply time: three significant decimals for short times, fewer for long ones. */
function fmtMs(ns: number): string {
  const ms = ns / 1e6;
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

// ---- ping -----------------------------------------------------------------------------------------

interface PingOpts {
  host: string;
  dst: number;
  count: number;
  size: number;
  intervalNs: number;
  quiet: boolean;
}

function parsePing(args: string[]): PingOpts | string {
  let count = PING_DEFAULT_COUNT;
  let size = 56;
  let intervalNs = 1_000_000_000;
  let quiet = false;
  let host: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-') && a.length > 1) {
      const flag = a[1];
      if (flag === 'q') {
        quiet = true;
        continue;
      }
      if (!'csi'.includes(flag)) return `ping: invalid option -- '${flag}'\n${PING_USAGE}`;
      const v = a.length > 2 ? a.slice(2) : args[++i];
      if (v === undefined) return `ping: option requires an argument -- '${flag}'\n${PING_USAGE}`;
      const n = Number(v);
      if (flag === 'c') {
        if (!Number.isInteger(n) || n < 1) return 'ping: bad number of packets to transmit.';
        count = n;
      } else if (flag === 's') {
        if (!Number.isInteger(n) || n < 0) return `ping: illegal packet size ${v}.`;
        if (n > 65507) return `ping: packet size ${n} is too large. Maximum is 65507`;
        size = n;
      } else {
        if (!Number.isFinite(n) || n <= 0) return 'ping: bad timing interval';
        intervalNs = Math.round(n * 1e9);
      }
    } else if (host === undefined) host = a;
    else return `ping: extra operand '${a}'\n${PING_USAGE}`;
  }
  if (host === undefined) return 'ping: usage error: Destination address required';
  const dst = resolveHost(host);
  if (dst === null) return `ping: ${host}: Name or service not known`;
  return { host, dst, count, size, intervalNs, quiet };
}

const PING_USAGE = 'Usage: ping [-q] [-c count] [-i interval] [-s packetsize] destination';

function cmdPing(net: CardNet, args: string[], sh: Shell): number | Routine<number> {
  const o = parsePing(args);
  if (typeof o === 'string') {
    sh.print(o + '\n');
    return 2;
  }
  const s = routeCheck(net, o.dst);
  if (typeof s === 'string') {
    sh.print(`ping: connect: ${s}\n`);
    return 2;
  }
  const maxData = Math.min(s.link?.mtu ?? 1500, 1500) - IPV4_HLEN - ICMP_HLEN;
  if (!s.isLocal(o.dst) && o.size > maxData) {
    sh.print(
      `ping: packet size ${o.size} needs IP fragmentation, which the card's stack does not do (largest: ${maxData})\n`,
    );
    return 2;
  }
  return pingRoutine(net, s, o, sh);
}

type PingEvent =
  | { kind: 'reply'; from: number; ttl: number; seq: number; len: number; time: number }
  | { kind: 'error'; from: number; seq: number; reason: string };

/** The echo data iputils sends: a struct timeval (if it fits), then bytes i & 0xff. */
function pingPayload(size: number, nowNs: number): Uint8Array {
  const d = new Uint8Array(size);
  for (let i = 0; i < size; i++) d[i] = i & 0xff;
  if (size >= 16) {
    const dv = new DataView(d.buffer);
    dv.setBigUint64(0, BigInt(Math.floor(nowNs / 1e9)), true);
    dv.setBigUint64(8, BigInt(Math.floor((nowNs % 1e9) / 1000)), true);
  }
  return d;
}

function* pingRoutine(net: CardNet, s: NetStack, o: PingOpts, sh: Shell): Routine<number> {
  const sched = net.os.sched;
  const target = ipToString(o.dst);
  sh.print(`PING ${o.host} (${target}) ${o.size}(${o.size + IPV4_HLEN + ICMP_HLEN}) bytes of data.\n`);
  const events: PingEvent[] = [];
  const wq = new WaitQueue(sched, 'ping');
  const sock: IcmpSocket = {
    id: s.allocIdent(),
    onReply: (from, ttl, seq, _data, len) => {
      events.push({ kind: 'reply', from, ttl, seq, len, time: sched.now });
      wq.signal();
    },
    onError: (from, seq, reason) => {
      events.push({ kind: 'error', from, seq, reason });
      wq.signal();
    },
  };
  s.icmpSockets.add(sock);
  const start = sched.now;
  let last = start;
  let transmitted = 0;
  let received = 0;
  let errors = 0;
  let dups = 0;
  const sentAt = new Map<number, number>();
  const seen = new Set<number>();
  const rtts: number[] = [];
  let nextSend = start;
  let exitAt = Infinity;
  const timed = o.size >= 16;
  try {
    for (;;) {
      while (events.length > 0) {
        const e = events.shift()!;
        if (e.kind === 'error') {
          errors++;
          if (!o.quiet) sh.print(`From ${ipToString(e.from)} icmp_seq=${e.seq} ${e.reason}\n`);
          continue;
        }
        const t0 = sentAt.get(e.seq);
        if (t0 === undefined) continue; // not one of ours (an old id reused)
        last = Math.max(last, e.time);
        const dup = seen.has(e.seq);
        if (dup) dups++;
        else {
          seen.add(e.seq);
          received++;
        }
        const rtt = e.time - t0;
        if (!dup && timed) rtts.push(rtt);
        if (!o.quiet) {
          const time = timed ? ` time=${fmtMs(rtt)} ms` : '';
          sh.print(
            `${e.len} bytes from ${ipToString(e.from)}: icmp_seq=${e.seq} ttl=${e.ttl}${time}${dup ? ' (DUP!)' : ''}\n`,
          );
        }
      }
      if (sh.interrupted) break;
      if (received + errors >= o.count) break;
      if (sched.now >= exitAt) break;
      if (transmitted < o.count && sched.now >= nextSend) {
        const seq = transmitted + 1;
        const msg = buildIcmp(ICMP_ECHO, 0, sock.id, seq & 0xffff, pingPayload(o.size, sched.now));
        sentAt.set(seq, sched.now);
        last = sched.now;
        transmitted++;
        const rc: number = yield call(s.sendIp(o.dst, IPPROTO_ICMP, msg));
        if (rc < 0) {
          errors++;
          sh.print(`ping: sendmsg: ${errText(rc)}\n`);
        }
        nextSend += o.intervalNs;
        if (transmitted === o.count) {
          // iputils schedule_exit: twice the longest rtt (at least the interval) if replies came,
          // else the 10 s linger.
          const maxRtt = rtts.length > 0 ? Math.max(...rtts) : 0;
          exitAt = sched.now + (received > 0 ? Math.max(2 * maxRtt, o.intervalNs) : PING_LINGER_NS);
        }
        continue;
      }
      const until = transmitted < o.count ? nextSend : exitAt;
      yield waitOn(wq, Math.max(0, Math.min(until - sched.now, POLL_NS)));
    }
  } finally {
    s.icmpSockets.delete(sock);
  }
  let summary = `\n--- ${o.host} ping statistics ---\n${transmitted} packets transmitted, ${received} received`;
  if (dups > 0) summary += `, +${dups} duplicates`;
  if (errors > 0) summary += `, +${errors} errors`;
  if (transmitted > 0) {
    summary += `, ${g(((transmitted - received) * 100) / transmitted)}% packet loss`;
    summary += `, time ${Math.floor((last - start) / 1e6)}ms`;
  }
  summary += '\n';
  if (rtts.length > 0) {
    const n = rtts.length;
    const avg = rtts.reduce((a, b) => a + b, 0) / n;
    const sq = rtts.reduce((a, b) => a + b * b, 0) / n;
    const mdev = Math.sqrt(Math.max(0, sq - avg * avg));
    const ms = (ns: number) => (ns / 1e6).toFixed(3);
    summary += `rtt min/avg/max/mdev = ${ms(Math.min(...rtts))}/${ms(avg)}/${ms(Math.max(...rtts))}/${ms(mdev)} ms\n`;
  }
  sh.print(summary);
  return received > 0 ? 0 : 1;
}

// ---- udp-echo --------------------------------------------------------------------------------------

function cmdUdpEcho(net: CardNet, args: string[], sh: Shell): number | Routine<number> {
  if (args.length < 3) {
    sh.print('usage: udp-echo HOST PORT TEXT\n');
    return 2;
  }
  const [host, portText] = args;
  const dst = resolveHost(host);
  if (dst === null) {
    sh.print(`udp-echo: ${host}: Name or service not known\n`);
    return 2;
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    sh.print(`udp-echo: bad port '${portText}'\n`);
    return 2;
  }
  const s = routeCheck(net, dst);
  if (typeof s === 'string') {
    sh.print(`udp-echo: connect: ${s}\n`);
    return 2;
  }
  const data = new TextEncoder().encode(args.slice(2).join(' '));
  if (data.length > s.maxPayload) {
    sh.print(`udp-echo: ${data.length} bytes of text do not fit one datagram (largest: ${s.maxPayload})\n`);
    return 2;
  }
  return udpEchoRoutine(net, s, host, dst, port, data, sh);
}

function* udpEchoRoutine(
  net: CardNet,
  s: NetStack,
  host: string,
  dst: number,
  port: number,
  data: Uint8Array,
  sh: Shell,
): Routine<number> {
  const sched = net.os.sched;
  const wq = new WaitQueue(sched, 'udp-echo');
  let reply: Uint8Array | null = null;
  let error: string | null = null;
  const bound = s.bindUdp({
    onDatagram: (from, sport, d) => {
      if (from !== dst || sport !== port || reply) return;
      reply = d.slice();
      wq.signal();
    },
    onError: (_from, reason) => {
      error = reason === 'Destination Port Unreachable' ? 'Connection refused' : reason;
      wq.signal();
    },
  });
  if (typeof bound === 'number') {
    sh.print(`udp-echo: bind: ${errText(bound)}\n`);
    return 1;
  }
  const sock: UdpSocket = bound;
  try {
    const rc: number = yield call(s.sendUdp(sock, dst, port, data));
    if (rc < 0) {
      sh.print(`udp-echo: sendto: ${errText(rc)}\n`);
      return 1;
    }
    const deadline = sched.now + UDP_ECHO_TIMEOUT_NS;
    while (reply === null && error === null && !sh.interrupted && sched.now < deadline)
      yield waitOn(wq, Math.min(POLL_NS, deadline - sched.now));
  } finally {
    s.unbindUdp(sock);
  }
  const got = reply as Uint8Array | null;
  if (got) {
    sh.print(new TextDecoder().decode(got) + '\n');
    return 0;
  }
  if (error !== null) {
    sh.print(`udp-echo: ${host}:${port}: ${error as string}\n`);
    return 1;
  }
  if (sh.interrupted) sh.print('\n');
  sh.print(`udp-echo: no reply from ${host}:${port}\n`);
  return 1;
}
