// A plain WebSocket chat relay on the `ws` package: what a Node developer writes instead of
// Confab when nothing has to be stored. In memory only: rooms are sets of open sockets, a message
// goes to every member socket of its room (the sender's own copy is its acknowledgement), and
// nothing survives a restart or reaches a socket that was not connected when it was sent.
//
//   node ws-relay.js PORT_FILE      listens on 127.0.0.1, an ephemeral port, written to PORT_FILE
//
// Protocol (JSON text frames; docs/performance.md, "Side by side"):
//   -> {"op":"join","user":"u7","rooms":["r1","r2"]}        <- {"type":"joined","rooms":2}
//   -> {"op":"send","id":5,"room":"r1","text":"..."}       to every member of r1, the sender too:
//                                                           <- {"type":"msg","room":"r1","from":"u7","id":5,"text":"..."}
//   a bad frame, a send before join or into a room not joined:
//                                                           <- {"type":"error","id":5,"error":"not_member"}
'use strict';
const fs = require('fs');
const { WebSocketServer } = require('ws');

const portFile = process.argv[2];
if (!portFile) {
  console.error('usage: node ws-relay.js PORT_FILE');
  process.exit(2);
}

const rooms = new Map();  // room name -> Set of sockets
const maxRooms = 1000;    // per socket: a bound on what one client can make us hold

function fail(ws, id, error) {
  ws.send(JSON.stringify({ type: 'error', id: Number.isSafeInteger(id) ? id : null, error }));
}

function onMessage(ws, data, isBinary) {
  let m;
  try {
    m = JSON.parse(isBinary ? '' : data.toString());
  } catch {
    return fail(ws, null, 'bad_json');
  }
  if (m === null || typeof m !== 'object') return fail(ws, null, 'bad_frame');
  if (m.op === 'join') {
    if (ws.user !== undefined) return fail(ws, null, 'already_joined');
    if (typeof m.user !== 'string' || !Array.isArray(m.rooms) || m.rooms.length > maxRooms ||
        !m.rooms.every((r) => typeof r === 'string')) {
      return fail(ws, null, 'bad_join');
    }
    ws.user = m.user;
    ws.rooms = new Set(m.rooms);
    for (const r of ws.rooms) {
      let set = rooms.get(r);
      if (!set) rooms.set(r, (set = new Set()));
      set.add(ws);
    }
    return ws.send(JSON.stringify({ type: 'joined', rooms: ws.rooms.size }));
  }
  if (m.op === 'send') {
    if (ws.user === undefined || typeof m.room !== 'string' || !ws.rooms.has(m.room)) return fail(ws, m.id, 'not_member');
    if (!Number.isSafeInteger(m.id) || typeof m.text !== 'string') return fail(ws, m.id, 'bad_send');
    // Serialized once, the same string written to every member.
    const frame = JSON.stringify({ type: 'msg', room: m.room, from: ws.user, id: m.id, text: m.text });
    for (const peer of rooms.get(m.room)) peer.send(frame);
    return undefined;
  }
  return fail(ws, m.id, 'unknown_op');
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => onMessage(ws, data, isBinary));
  ws.on('error', () => {});  // a reset peer: 'close' follows
  ws.on('close', () => {
    if (!ws.rooms) return;
    for (const r of ws.rooms) {
      const set = rooms.get(r);
      set.delete(ws);
      if (set.size === 0) rooms.delete(r);
    }
  });
});
wss.on('listening', () => fs.writeFileSync(portFile, String(wss.address().port)));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
