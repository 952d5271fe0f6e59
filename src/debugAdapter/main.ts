// dist/debugAdapter.js: the MIC debug adapter on stdio, or on a loopback TCP port with
// --server=PORT (one session per connection), for VS Code and any other DAP client.
//
// No request ends the process: the session guards every handler (guard.ts), and what still
// escapes (a rejection or exception from a timer) is written to stderr and the process goes on.
// In server mode a session that fails ends alone; SIGTERM/SIGINT end every session (machines
// stopped, disk images flushed and closed) before the process exits.

import { createServer, type Socket } from 'node:net';
import { MicDebugSession } from './session.ts';

function report(kind: string, e: unknown): void {
  process.stderr.write(
    `mic debug adapter: ${kind}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
}
process.on('unhandledRejection', (e) => report('unhandled rejection', e));
process.on('uncaughtException', (e) => report('uncaught exception', e));

/** `--server=PORT`: a decimal port 0–65535 (0: any free port), nothing else. */
export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

const serverArg = process.argv.slice(2).find((a) => a.startsWith('--server='));
if (serverArg) {
  const text = serverArg.slice('--server='.length);
  const port = parsePort(text);
  if (port === null) {
    process.stderr.write(`mic debug adapter: --server=${text} is not a port number (0–65535)\n`);
    process.exit(2);
  }
  const sessions = new Set<MicDebugSession>();
  const server = createServer((socket: Socket) => {
    // DAP messages are small and come in request/response/event bursts: without this, Nagle's
    // algorithm holds each second message for the client's delayed ACK (~40 ms a round trip).
    socket.setNoDelay(true);
    const session = new MicDebugSession();
    session.setRunAsServer(true);
    sessions.add(session);
    socket.on('close', () => sessions.delete(session));
    // A reset connection is this session's end, not the server's.
    socket.on('error', () => undefined);
    session.start(socket, socket);
  }).listen(port, '127.0.0.1', () => {
    const a = server.address();
    process.stderr.write(
      `mic debug adapter listening on 127.0.0.1:${typeof a === 'object' && a ? a.port : port}\n`,
    );
  });
  const stop = () => {
    server.close();
    for (const s of sessions) s.shutdown();
    sessions.clear();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const session = new MicDebugSession();
  process.on('SIGTERM', () => session.shutdown());
  session.start(process.stdin, process.stdout);
}
