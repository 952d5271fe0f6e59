// dist/debugAdapter.js: the MIC debug adapter on stdio, or on a loopback TCP port with
// --server=PORT (one session per connection), for VS Code and any other DAP client.

import { createServer, type Socket } from 'node:net';
import { MicDebugSession } from './session.ts';

const serverArg = process.argv.slice(2).find((a) => a.startsWith('--server='));
if (serverArg) {
  const port = Number(serverArg.slice('--server='.length));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`mic debug adapter: --server=${serverArg.slice(9)} is not a port number\n`);
    process.exit(2);
  }
  const server = createServer((socket: Socket) => {
    // DAP messages are small and come in request/response/event bursts: without this, Nagle's
    // algorithm holds each second message for the client's delayed ACK (~40 ms a round trip).
    socket.setNoDelay(true);
    const session = new MicDebugSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  }).listen(port, '127.0.0.1', () => {
    const a = server.address();
    process.stderr.write(
      `mic debug adapter listening on 127.0.0.1:${typeof a === 'object' && a ? a.port : port}\n`,
    );
  });
} else {
  const session = new MicDebugSession();
  process.on('SIGTERM', () => session.shutdown());
  session.start(process.stdin, process.stdout);
}
