import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

import {
  bootedMachine,
  devicePageBytes,
  recordEvents,
  typeLine,
  type TestMachine,
} from '../helpers/machine.ts';
import type { NetBackend } from '../../src/emulator/hostSoftware/mpssd/netBackend.ts';
import { PcapWriter } from '../../src/emulator/hostSoftware/pcap.ts';
import { BOOTPARAM, DEVICE_DESC, entryLayout, totalSize } from '../../src/emulator/virtio/devicePage.ts';
import { VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_ID_NET } from '../../src/emulator/virtio/virtioIds.ts';
import {
  ARPOP_REPLY,
  ARPOP_REQUEST,
  ETH_HLEN,
  ETH_P_ARP,
  ETH_P_IP,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  IPPROTO_ICMP,
  IPPROTO_UDP,
  cardMac,
  ethType,
  inetChecksum,
  macToString,
  parseArp,
  parseIcmp,
  parseIpv4,
  parseUdp,
} from '../../src/emulator/net/wire.ts';

// ---- helpers ------------------------------------------------------------------------------------

function tmpDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'mic-net-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A booted machine writing card N's link to DIR/micN.pcap; disposed (pcap closed) after the test. */
function netMachine(t: TestContext, cfg: { cards?: number; netDropEvery?: number } = {}) {
  const dir = tmpDir(t);
  const path = (card: number) => join(dir, `mic${card}.pcap`);
  const tm = bootedMachine({ ...cfg, pcap: path });
  t.after(() => tm.m.dispose());
  return { tm, path };
}

function netBackend(tm: TestMachine, card = 0): NetBackend {
  const b = tm.m.mpssd[card].backend<NetBackend>('net');
  assert.ok(b, 'mpssd has a net back-end');
  return b;
}

function noErrors(tm: TestMachine): void {
  assert.deepEqual(tm.m.internalErrors, []);
  assert.deepEqual(tm.m.spine.protocolErrors, []);
}

interface PcapFile {
  magic: number;
  major: number;
  minor: number;
  thiszone: number;
  sigfigs: number;
  snaplen: number;
  linktype: number;
  frames: { tsSec: number; tsUsec: number; inclLen: number; origLen: number; data: Uint8Array }[];
}

/** Parse a classic little-endian pcap file, checking every record fits the file. */
function parsePcap(bytes: Uint8Array): PcapFile {
  assert.ok(bytes.length >= 24, 'global header present');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f: PcapFile = {
    magic: dv.getUint32(0, true),
    major: dv.getUint16(4, true),
    minor: dv.getUint16(6, true),
    thiszone: dv.getInt32(8, true),
    sigfigs: dv.getUint32(12, true),
    snaplen: dv.getUint32(16, true),
    linktype: dv.getUint32(20, true),
    frames: [],
  };
  let off = 24;
  while (off < bytes.length) {
    assert.ok(off + 16 <= bytes.length, `record header at ${off} is complete`);
    const inclLen = dv.getUint32(off + 8, true);
    const rec = {
      tsSec: dv.getUint32(off, true),
      tsUsec: dv.getUint32(off + 4, true),
      inclLen,
      origLen: dv.getUint32(off + 12, true),
      data: bytes.slice(off + 16, off + 16 + inclLen),
    };
    assert.equal(rec.data.length, inclLen, `record at ${off} holds incl_len bytes`);
    f.frames.push(rec);
    off += 16 + inclLen;
  }
  return f;
}

function readPcap(path: string): PcapFile {
  return parsePcap(new Uint8Array(readFileSync(path)));
}

/** Every frame is well-formed Ethernet carrying ARP or IPv4 with correct checksums. */
function assertWellFormed(f: PcapFile): void {
  for (const [i, r] of f.frames.entries()) {
    assert.equal(r.inclLen, r.origLen, `frame ${i + 1} is not cut`);
    assert.ok(r.tsUsec < 1_000_000, `frame ${i + 1} ts_usec < 10^6`);
    const type = ethType(r.data);
    if (type === ETH_P_ARP) {
      assert.ok(parseArp(r.data.subarray(ETH_HLEN)), `frame ${i + 1}: ARP parses`);
      continue;
    }
    assert.equal(type, ETH_P_IP, `frame ${i + 1}: IPv4 or ARP`);
    const ip = parseIpv4(r.data.subarray(ETH_HLEN));
    assert.ok(ip, `frame ${i + 1}: IPv4 header parses`);
    assert.ok(ip.headerOk, `frame ${i + 1}: IPv4 header checksum`);
    assert.equal(ETH_HLEN + ip.totalLen, r.data.length, `frame ${i + 1}: total length matches the frame`);
    if (ip.proto === IPPROTO_ICMP) {
      assert.equal(inetChecksum(ip.payload, 0, ip.payload.length), 0, `frame ${i + 1}: ICMP checksum`);
    } else if (ip.proto === IPPROTO_UDP) {
      const u = parseUdp(ip.payload, ip.src, ip.dst);
      assert.ok(u && u.checksumOk, `frame ${i + 1}: UDP checksum`);
    }
  }
  for (let i = 1; i < f.frames.length; i++) {
    const a = f.frames[i - 1];
    const b = f.frames[i];
    assert.ok(
      b.tsSec > a.tsSec || (b.tsSec === a.tsSec && b.tsUsec >= a.tsUsec),
      `timestamps never go back (frame ${i + 1})`,
    );
  }
}

function icmpOf(data: Uint8Array) {
  const ip = parseIpv4(data.subarray(ETH_HLEN));
  if (!ip || ip.proto !== IPPROTO_ICMP) return null;
  const ic = parseIcmp(ip.payload);
  return ic ? { ip, ic } : null;
}

const REPLY_LINE = /^64 bytes from 172\.31\.0\.254: icmp_seq=(\d+) ttl=64 time=\d+\.\d{3} ms\r$/gm;

// ---- ping and the capture ------------------------------------------------------------------------

test('ping -c 5 172.31.0.254: five echo replies in iputils format and a clean summary', (t) => {
  const { tm } = netMachine(t);
  const out = typeLine(tm, 'ping -c 5 172.31.0.254');
  assert.match(out, /^PING 172\.31\.0\.254 \(172\.31\.0\.254\) 56\(84\) bytes of data\.\r$/m);
  const seqs = [...out.matchAll(REPLY_LINE)].map((m) => Number(m[1]));
  assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
  assert.match(out, /\r\n\r\n--- 172\.31\.0\.254 ping statistics ---\r\n/);
  assert.match(out, /^5 packets transmitted, 5 received, 0% packet loss, time 4\d{3}ms\r$/m);
  assert.match(out, /^rtt min\/avg\/max\/mdev = \d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3}\/\d+\.\d{3} ms\r$/m);
  assert.match(out, /\[root@mic0 ~\]# $/, 'the prompt comes back when ping ends');
  noErrors(tm);
});

test('the pcap is a classic libpcap file: ARP resolution first, then 5 echo requests and 5 replies', (t) => {
  const { tm, path } = netMachine(t);
  typeLine(tm, 'ping -c 5 172.31.0.254');
  const f = readPcap(path(0));
  assert.equal(f.magic, 0xa1b2c3d4);
  assert.equal(f.major, 2);
  assert.equal(f.minor, 4);
  assert.equal(f.thiszone, 0);
  assert.equal(f.sigfigs, 0);
  assert.equal(f.snaplen, 65535);
  assert.equal(f.linktype, 1, 'LINKTYPE_ETHERNET');
  assertWellFormed(f);
  assert.equal(f.frames.length, 12, '2 ARP + 10 ICMP');

  const mac = cardMac(0);
  const [req, rep] = f.frames.slice(0, 2).map((r) => parseArp(r.data.subarray(ETH_HLEN))!);
  assert.equal(req.op, ARPOP_REQUEST, 'first frame: who-has 172.31.0.254');
  assert.equal(macToString(f.frames[0].data), 'ff:ff:ff:ff:ff:ff', 'the request is broadcast');
  assert.equal(macToString(req.sha), macToString(mac));
  assert.equal(rep.op, ARPOP_REPLY, 'second frame: the host endpoint is-at 02:00:00:00:00:fe');
  assert.equal(macToString(rep.sha), '02:00:00:00:00:fe');

  const icmp = f.frames.slice(2).map((r) => icmpOf(r.data)!);
  for (let i = 0; i < 5; i++) {
    const q = icmp[2 * i];
    const a = icmp[2 * i + 1];
    assert.equal(q.ic.type, ICMP_ECHO, `frame ${3 + 2 * i} is echo request ${i + 1}`);
    assert.equal(a.ic.type, ICMP_ECHOREPLY, `frame ${4 + 2 * i} is echo reply ${i + 1}`);
    assert.equal(q.ic.seq, i + 1);
    assert.equal(a.ic.seq, i + 1);
    assert.equal(a.ic.id, q.ic.id, 'same identifier');
    assert.deepEqual(a.ic.data, q.ic.data, 'same payload');
    assert.equal(q.ic.data.length, 56);
    assert.equal(q.ip.src, a.ip.dst);
    assert.equal(a.ip.ttl, 64);
  }
  // Virtual timestamps: the requests go out one virtual second apart.
  const t1 = f.frames[2].tsSec + f.frames[2].tsUsec / 1e6;
  const t5 = f.frames[10].tsSec + f.frames[10].tsUsec / 1e6;
  assert.ok(Math.abs(t5 - t1 - 4) < 0.001, `4 s between request 1 and 5 (got ${t5 - t1})`);
  noErrors(tm);
});

test('tshark or tcpdump, if installed, reads the capture', (t) => {
  const tool = ['tshark', 'tcpdump'].find((name) => {
    const r = spawnSync(name, ['--version'], { stdio: 'ignore' });
    return !r.error;
  });
  if (!tool) {
    // CI installs tshark (.ci/run) and must run this check; elsewhere it is optional.
    assert.notEqual(process.env.CI, 'true', 'CI must have tshark installed (.ci/run installs it)');
    t.skip('neither tshark nor tcpdump is installed here; the file is checked by this suite’s own parser');
    return;
  }
  const { tm, path } = netMachine(t);
  typeLine(tm, 'ping -c 2 172.31.0.254');
  tm.m.dispose();
  const r = spawnSync(tool, ['-n', '-r', path(0)], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${tool} -r: ${r.stderr}`);
  assert.match(r.stdout, /ICMP.*echo (\(ping\) )?request/i);
  assert.match(r.stdout, /ICMP.*echo (\(ping\) )?reply/i);
  assert.doesNotMatch(r.stderr, /malformed|bogus|cut short/i);
});

test('ping -s 1400: 1408-byte replies, 1442-byte frames on the link', (t) => {
  const { tm, path } = netMachine(t);
  const out = typeLine(tm, 'ping -c 2 -s 1400 172.31.0.254');
  assert.match(out, /^PING 172\.31\.0\.254 \(172\.31\.0\.254\) 1400\(1428\) bytes of data\.\r$/m);
  assert.equal([...out.matchAll(/^1408 bytes from 172\.31\.0\.254: icmp_seq=\d ttl=64 time=/gm)].length, 2);
  assert.match(out, /2 packets transmitted, 2 received, 0% packet loss/);
  const f = readPcap(path(0));
  assertWellFormed(f);
  const big = f.frames.filter((r) => r.data.length === 14 + 20 + 8 + 1400);
  assert.equal(big.length, 4, 'two requests and two replies of 1442 bytes');
  noErrors(tm);
});

test('ping refuses sizes that need fragmentation and destinations off the /24', (t) => {
  const { tm } = netMachine(t);
  assert.match(typeLine(tm, 'ping -s 2000 172.31.0.254'), /needs IP fragmentation.*largest: 1472/);
  assert.match(typeLine(tm, 'echo $?'), /^2\r$/m);
  assert.match(typeLine(tm, 'ping 10.0.0.1'), /ping: connect: Network is unreachable/);
  assert.match(typeLine(tm, 'ping -x 172.31.0.254'), /ping: invalid option -- 'x'/);
  assert.match(typeLine(tm, 'ping nosuchhost'), /ping: nosuchhost: Name or service not known/);
  noErrors(tm);
});

test('ping without -c sends 4 packets (a scripted console cannot stop an endless ping)', (t) => {
  const { tm } = netMachine(t);
  const out = typeLine(tm, 'ping 172.31.0.254');
  assert.match(out, /4 packets transmitted, 4 received, 0% packet loss, time 3\d{3}ms/);
  noErrors(tm);
});

test('Ctrl-C stops ping early and prints the summary', (t) => {
  const { tm } = netMachine(t);
  tm.take();
  tm.m.consoleInput(0, new TextEncoder().encode('ping -c 100 172.31.0.254\r'));
  assert.ok(tm.m.runUntil(() => (tm.out[0] ?? '').includes('icmp_seq=3 ')));
  tm.m.consoleInput(0, Uint8Array.of(3));
  tm.m.run();
  const out = tm.take();
  assert.match(out, /\^C\r\n--- 172\.31\.0\.254 ping statistics ---\r\n/);
  assert.match(out, /^3 packets transmitted, 3 received, 0% packet loss, time 2\d{3}ms\r$/m);
  assert.match(out, /\[root@mic0 ~\]# $/);
  assert.ok(tm.m.sched.idle, 'nothing left running after the interrupt');
  noErrors(tm);
});

test('the card answers its own address and 127.0.0.1 over loopback, without touching the link', (t) => {
  const { tm, path } = netMachine(t);
  assert.match(typeLine(tm, 'ping -c 2 172.31.0.1'), /2 packets transmitted, 2 received, 0% packet loss/);
  assert.match(typeLine(tm, 'ping -c 1 localhost'), /64 bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64/);
  assert.equal(readPcap(path(0)).frames.length, 0);
  noErrors(tm);
});

test('no answer to ARP: "Destination Host Unreachable" after 3 tries, 100% loss', (t) => {
  const { tm } = netMachine(t);
  const out = typeLine(tm, 'ping -c 2 172.31.0.77');
  assert.match(out, /^From 172\.31\.0\.1 icmp_seq=1 Destination Host Unreachable\r$/m);
  assert.match(out, /2 packets transmitted, 0 received, \+2 errors, 100% packet loss/);
  assert.doesNotMatch(out, /rtt min/);
  const arps = netBackend(tm).stats.framesFromCard;
  assert.equal(arps, 3, 'three ARP requests (mcast_solicit 3), nothing else');
  noErrors(tm);
});

// ---- UDP ------------------------------------------------------------------------------------------

test('udp-echo 172.31.0.254 7 hello prints hello; the host finished the UDP checksum (NEEDS_CSUM)', (t) => {
  const { tm, path } = netMachine(t);
  const out = typeLine(tm, 'udp-echo 172.31.0.254 7 hello');
  assert.match(out, /^hello\r$/m);
  assert.match(typeLine(tm, 'echo $?'), /^0\r$/m);
  const f = readPcap(path(0));
  assertWellFormed(f);
  const udp = f.frames
    .map((r) => parseIpv4(r.data.subarray(ETH_HLEN)))
    .filter((ip) => ip?.proto === IPPROTO_UDP)
    .map((ip) => ({ ip: ip!, u: parseUdp(ip!.payload, ip!.src, ip!.dst)! }));
  assert.equal(udp.length, 2, 'the datagram and its echo');
  assert.equal(udp[0].u.dport, 7);
  assert.equal(udp[1].u.sport, 7);
  assert.equal(udp[1].u.dport, udp[0].u.sport, 'ports swapped');
  assert.notEqual(udp[0].u.checksum, 0, 'the card asked for a checksum and the host computed it');
  assert.equal(new TextDecoder().decode(udp[1].u.data), 'hello');
  noErrors(tm);
});

test('udp-echo to a port without a listener is refused; to a silent host it times out after 2 s', (t) => {
  const { tm } = netMachine(t);
  assert.match(typeLine(tm, 'udp-echo 172.31.0.254 9 hi'), /udp-echo: 172\.31\.0\.254:9: Connection refused/);
  const t0 = tm.m.sched.now;
  const out = typeLine(tm, 'udp-echo 172.31.0.99 7 hi');
  assert.match(out, /^udp-echo: no reply from 172\.31\.0\.99:7\r$/m);
  assert.ok(tm.m.sched.now - t0 >= 2e9, 'waited the 2 s virtual timeout');
  assert.match(typeLine(tm, 'udp-echo 172.31.0.254'), /usage: udp-echo HOST PORT TEXT/);
  noErrors(tm);
});

// ---- fault injection --------------------------------------------------------------------------------

test('netDropEvery 3: every third frame on the link is dropped, logged, and the loss shows in ping', (t) => {
  const { tm, path } = netMachine(t, { netDropEvery: 3 });
  const logs = recordEvents(
    tm.m,
    (e) => e.kind === 'log' && /dropped frame/.test(e.detail),
    () => {
      const out = typeLine(tm, 'ping -c 5 172.31.0.254');
      // Frames: 1 ARP who-has, 2 ARP reply, 3 request 1 (dropped), 4 request 2, 5 reply 2,
      // 6 request 3 (dropped), 7 request 4, 8 reply 4, 9 request 5 (dropped).
      assert.deepEqual(
        [...out.matchAll(REPLY_LINE)].map((m) => Number(m[1])),
        [2, 4],
      );
      assert.match(out, /^5 packets transmitted, 2 received, 60% packet loss, time 4\d{3}ms\r$/m);
    },
  );
  const b = netBackend(tm);
  assert.deepEqual(
    b.dropped.map((d) => [d.n, d.direction]),
    [
      [3, 'card→host'],
      [6, 'card→host'],
      [9, 'card→host'],
    ],
  );
  assert.match(b.dropped[0].summary, /ICMP echo request, id \d+, seq 1, length 64/);
  assert.equal(logs.length, 3, 'one log event per dropped frame');
  assert.match(logs[0].detail, /netDropEvery 3: dropped frame #3 \(card→host, 98 bytes\)/);
  assert.ok(
    tm.m.host.log.some((l) => /dropped frame #9/.test(l.text)),
    'in the host kernel log',
  );
  const f = readPcap(path(0));
  assertWellFormed(f);
  assert.equal(f.frames.length, 9 - 3, 'dropped frames never crossed the link: not in the pcap');
  noErrors(tm);
});

test('netDropEvery 2 drops every ARP reply: 3 tries 1 s apart, then Destination Host Unreachable', (t) => {
  const { tm } = netMachine(t, { netDropEvery: 2 });
  const out = typeLine(tm, 'ping -c 3 172.31.0.254');
  const b = netBackend(tm);
  // Each who-has is an odd frame, so each is-at is an even one.
  assert.deepEqual(
    b.dropped.map((d) => [d.n, d.direction]),
    [
      [2, 'host→card'],
      [4, 'host→card'],
      [6, 'host→card'],
    ],
  );
  assert.match(b.dropped[0].summary, /^ARP, Reply 172\.31\.0\.254 is-at 02:00:00:00:00:fe$/);
  const gap = b.dropped[2].time - b.dropped[0].time;
  assert.ok(Math.abs(gap - 2e9) < 1e6, `the card retries once a second (2 gaps took ${gap} ns)`);
  assert.equal(
    [...out.matchAll(/^From 172\.31\.0\.1 icmp_seq=\d Destination Host Unreachable\r$/gm)].length,
    3,
  );
  assert.match(out, /3 packets transmitted, 0 received, \+3 errors, 100% packet loss/);
  assert.doesNotMatch(typeLine(tm, 'ip neigh'), /172\.31\.0\.254/, 'no entry left after the failure');
  noErrors(tm);
});

// ---- the card's view --------------------------------------------------------------------------------

test('ip addr shows lo and eth0 with the ifcfg address and the card MAC', (t) => {
  const { tm } = netMachine(t);
  const out = typeLine(tm, 'ip addr');
  const mac = macToString(cardMac(0));
  assert.match(mac, /^02(:[0-9a-f]{2}){5}$/, 'locally administered unicast');
  assert.match(out, /^1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 /m);
  assert.match(out, /^ {4}inet 127\.0\.0\.1\/8 scope host lo\r$/m);
  assert.match(out, /^2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 .*state UP/m);
  assert.ok(out.includes(`    link/ether ${mac} brd ff:ff:ff:ff:ff:ff\r\n`));
  assert.match(out, /^ {4}inet 172\.31\.0\.1\/24 brd 172\.31\.0\.255 scope global eth0\r$/m);
  assert.match(
    typeLine(tm, 'ip route'),
    /^172\.31\.0\.0\/24 dev eth0 proto kernel scope link src 172\.31\.0\.1\r$/m,
  );
  assert.match(typeLine(tm, 'ip link'), /^2: eth0: /m);
  assert.match(typeLine(tm, 'ip foo'), /Object "foo" is unknown, try "ip help"\./);
  assert.match(tm.m.cardOs[0].dmesg(), /virtio_net: eth0: .* \(random\), features 0x1 \(CSUM\)/);
  noErrors(tm);
});

test('the host endpoint pings the card and the card answers', (t) => {
  const { tm } = netMachine(t);
  const b = netBackend(tm);
  const data = new TextEncoder().encode('from the host');
  b.sendEchoRequest(0x4d49, 7, data);
  tm.m.run();
  assert.equal(b.inbox.length, 1);
  const r = icmpOf(b.inbox[0])!;
  assert.equal(r.ic.type, ICMP_ECHOREPLY);
  assert.equal(r.ic.id, 0x4d49);
  assert.equal(r.ic.seq, 7);
  assert.deepEqual(r.ic.data, data);
  assert.equal(macToString(b.cardMac!), macToString(cardMac(0)), 'learned by ARP');
  noErrors(tm);
});

test('a second card uses 172.31.1.x, its own MAC and its own host endpoint', (t) => {
  const { tm, path } = netMachine(t, { cards: 2 });
  const addr = typeLine(tm, 'ip addr', 1);
  assert.match(addr, /inet 172\.31\.1\.1\/24 brd 172\.31\.1\.255 scope global eth0/);
  assert.ok(addr.includes(`link/ether ${macToString(cardMac(1))} `));
  assert.notEqual(macToString(cardMac(0)), macToString(cardMac(1)));
  const out = typeLine(tm, 'ping -c 2 172.31.1.254', 1);
  assert.match(out, /64 bytes from 172\.31\.1\.254: icmp_seq=2 ttl=64/);
  assert.match(out, /2 packets transmitted, 2 received, 0% packet loss/);
  assert.match(typeLine(tm, 'ip neigh', 1), /172\.31\.1\.254 dev eth0 lladdr 02:00:00:00:01:fe REACHABLE/);
  assert.equal(readPcap(path(1)).frames.length, 6);
  assert.equal(readPcap(path(0)).frames.length, 0, 'card 0 link stayed quiet');
  assert.match(typeLine(tm, 'ping -c 1 172.31.0.254', 1), /connect: Network is unreachable/);
  noErrors(tm);
});

test('L3 device page: virtio-net entry with type 1, 2 queues, Gen-1 mpssd host features 0x7c1 (GUEST_UFO too), zeroed config', (t) => {
  const { tm } = netMachine(t);
  const dp = devicePageBytes(tm.m);
  let off: number = BOOTPARAM.SIZE;
  let found = -1;
  while (off < 4096 && dp[off] !== 0) {
    if (dp[off] === VIRTIO_ID_NET) found = off;
    off += totalSize(dp[off + 1], dp[off + 2], dp[off + 3]);
  }
  assert.ok(found >= 0, 'a net entry in the device page');
  const nvq = dp[found + DEVICE_DESC.num_vq];
  const fl = dp[found + DEVICE_DESC.feature_len];
  const cl = dp[found + DEVICE_DESC.config_len];
  assert.equal(nvq, 2);
  assert.equal(fl, 4);
  assert.equal(cl, 10, 'sizeof(struct virtio_net_config): mac, status, max_virtqueue_pairs');
  const l = entryLayout(found, nvq, fl, cl);
  const dv = new DataView(dp.buffer);
  const host = dv.getUint32(l.hostFeatures, true);
  // CSUM, GSO, GUEST_TSO4, GUEST_TSO6, GUEST_ECN and GUEST_UFO: Gen-1 mpssd.c with GSO_ENABLED.
  assert.equal(host, (1 << 0) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10));
  assert.equal(host, 0x7c1);
  assert.equal(dv.getUint32(l.guestFeatures, true), 1, 'the card accepts CSUM only');
  assert.deepEqual([...dp.subarray(l.config, l.config + cl)], new Array(cl).fill(0), 'config zeroed');
  assert.ok(dp[found + DEVICE_DESC.status] & VIRTIO_CONFIG_S_DRIVER_OK);
  noErrors(tm);
});

test('two identical runs write byte-identical captures (virtual timestamps)', (t) => {
  const a = netMachine(t);
  const b = netMachine(t);
  typeLine(a.tm, 'ping -c 3 172.31.0.254');
  typeLine(b.tm, 'ping -c 3 172.31.0.254');
  assert.deepEqual(readFileSync(a.path(0)), readFileSync(b.path(0)));
});

// ---- the pcap writer ------------------------------------------------------------------------------

test('pcap writer: header only when empty, close is idempotent, an unwritable path is reported, not thrown', (t) => {
  const dir = tmpDir(t);
  const p = join(dir, 'empty.pcap');
  const w = new PcapWriter(p);
  w.write(1_500_000_123, Uint8Array.of(1, 2, 3));
  w.close();
  w.close();
  w.write(2e9, Uint8Array.of(4)); // after close: ignored
  const f = readPcap(p);
  assert.equal(f.frames.length, 1);
  assert.deepEqual([f.frames[0].tsSec, f.frames[0].tsUsec, f.frames[0].inclLen], [1, 500000, 3]);

  const reports: string[] = [];
  const bad = new PcapWriter(join(dir, 'no', 'such', 'dir', 'x.pcap'), (m) => reports.push(m));
  bad.write(0, Uint8Array.of(1));
  bad.close();
  assert.equal(reports.length, 1);
  assert.match(reports[0], /cannot create the capture file/);
  assert.ok(bad.error);
  assert.ok(!existsSync(join(dir, 'no')));
});
