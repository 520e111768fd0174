// The same in-memory relay on socket.io (4.x: Engine.IO protocol 4, Socket.IO protocol 5), the
// library most Node chat servers are built on, used as its documentation shows: rooms are
// socket.io rooms, a message is `io.to(room).emit(...)`, which reaches every member socket, the
// sender too (its own copy is its acknowledgement). WebSocket transport only (no HTTP
// long-polling), so a client connects to /socket.io/?EIO=4&transport=websocket. Nothing is stored.
//
//   node socketio-relay.js PORT_FILE   listens on 127.0.0.1, an ephemeral port, written to PORT_FILE
//
// Events (docs/performance.md, "Side by side"):
//   "join" {user, rooms: [names]} with an ack             ack: number of rooms joined
//   "send" {id, room, text}                               every member gets "msg" {room, from, id, text}
//   a send before join or into a room not joined          the sender gets "send_error" {id, error}
'use strict';
const fs = require('fs');
const http = require('http');
const { Server } = require('socket.io');

const portFile = process.argv[2];
if (!portFile) {
  console.error('usage: node socketio-relay.js PORT_FILE');
  process.exit(2);
}
const maxRooms = 1000;

const server = http.createServer();
const io = new Server(server, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 64 * 1024 });
io.on('connection', (socket) => {
  socket.on('join', (m, ack) => {
    if (typeof ack !== 'function') return;
    if (socket.data.user !== undefined || m === null || typeof m !== 'object' || typeof m.user !== 'string' ||
        !Array.isArray(m.rooms) || m.rooms.length > maxRooms || !m.rooms.every((r) => typeof r === 'string')) {
      ack({ error: 'bad_join' });
      return;
    }
    socket.data.user = m.user;
    socket.join(m.rooms);
    ack(m.rooms.length);
  });
  socket.on('send', (m) => {
    const id = m !== null && typeof m === 'object' && Number.isSafeInteger(m.id) ? m.id : null;
    if (socket.data.user === undefined || id === null || typeof m.room !== 'string' || typeof m.text !== 'string' ||
        m.room === socket.id || !socket.rooms.has(m.room)) {
      socket.emit('send_error', { id, error: 'not_member' });
      return;
    }
    io.to(m.room).emit('msg', { room: m.room, from: socket.data.user, id, text: m.text });
  });
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
