/**
 * Replies to pipelined commands (RFC 2920: MAIL, RCPT, DATA sent in one packet) that are ready in the
 * same turn of the event loop leave in one socket write, as Postfix sends them: one syscall and one
 * segment instead of one per reply. On loopback each write also runs the receiver's side in the kernel,
 * so this is most of what a reply costs.
 *
 * The socket is corked at the first reply of a turn and uncorked in setImmediate(), after every reply
 * of that turn. Replies that precede a change of the socket (220: the STARTTLS handshake follows; 221,
 * 421: the connection closes) are never held: what is held is written first, then they go at once.
 */
import type { Socket } from "node:net";
import { setImmediate } from "node:timers";

interface Sender {
  _socket: Socket;
  send(code: number, data?: string | string[], context?: string | false): void;
}

const IMMEDIATE = new Set([220, 221, 421]);

export function batchReplies(connection: Sender): void {
  const send = connection.send.bind(connection);
  let corked: Socket | null = null;
  const flush = () => {
    const socket = corked;
    corked = null;
    if (socket && !socket.destroyed) socket.uncork();
  };
  connection.send = (code, data, context) => {
    const socket = connection._socket;
    if (IMMEDIATE.has(code) || !socket || socket.destroyed) {
      flush();
      return send(code, data, context);
    }
    if (corked !== socket) {
      flush();
      socket.cork();
      corked = socket;
      setImmediate(flush);
    }
    send(code, data, context);
  };
}
