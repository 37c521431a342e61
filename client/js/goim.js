// goim.js: the browser client of goim's push service.
//
// A dependency-free ES module (no build step) that speaks goim's binary
// client protocol (docs/protocol.md) over WebSocket binary frames, path
// /sub:
//
//   import { Client } from './goim.js';
//   const c = new Client({
//     nodesURL: '/goim/nodes/weighted',           // or url: 'wss://host:3103/sub'
//     token: { mid: 123, room_id: 'live://1000', rooms: ['chat://7'], platform: 'web', accepts: [1000] },
//   });
//   c.on('message', (m) => console.log(m.op, m.text));
//   c.on('state', (state, info) => console.log(state, info));
//   c.on('online', (n) => console.log('room online', n));
//   c.connect();
//   ...
//   c.close();
//
// Supported now:
//   - auth (op 7) with a token object, string, or function returning one,
//     waiting for the auth reply (op 8);
//   - heartbeats (op 2) at the interval /goim/nodes/weighted advertises (or
//     the heartbeat option), the online count of each reply (op 3) as an
//     'online' event, and a dead-connection check (no packet for heartbeat
//     x heartbeat_max closes and reconnects);
//   - pushes: every inner packet of an op-9 batch, and any other pushed
//     packet (op 5 included, as goim's JavaScript client), as a 'message'
//     event, in arrival order;
//   - reconnect after any loss with the advertised backoff (base_delay,
//     factor, jitter, max_delay), choosing a node from
//     /goim/nodes/weighted again on each attempt;
//   - changeRoom (op 12/13), sub (op 14/15), unsub (op 16/17) and send (an
//     application op, acknowledged with the same op and seq), each
//     returning a promise settled by the server's reply;
//   - several rooms per connection: the token's rooms (besides room_id,
//     the primary room), join(room) (op 20/21) and leave(room) (op 22/23);
//     rooms joined with join() are joined again after each reconnect (a
//     'rejoined' event follows), so a signed token need not change;
//   - close(): stops for good.
//
//   - resuming the primary room (the token's room_id) after a reconnect
//     (docs/protocol.md, "Room sequence numbers and resume"): every room
//     push carries the room's sequence number in its seq; the client keeps
//     roomEpoch and roomSeq, the primary room's epoch and last number, from
//     the auth reply and from room pushes while the connection is in that
//     one room. With the option resume: true and a token object (or a
//     token function returning an object) the client adds "room_seq" and
//     "room_epoch" to the token on every connect; the server answers with
//     a JSON auth reply, kept in client.auth and passed to an 'auth'
//     event ({room_id, room_epoch, room_seq, resumed}; null for goim's
//     empty reply), then sends the missed messages, in order, before the
//     live ones. A token function gets { attempt, roomSeq, roomEpoch } to
//     put them into a signed token itself. When a reconnect could not
//     resume (resumed: false: the room's history no longer covers the gap,
//     or the room restarted) a 'gap' event (the auth reply) tells the app
//     to fetch the room's state from its backend. A connection in several
//     rooms cannot tell which room a push came from (a packet does not say
//     it), so there the numbers are not tracked and a reconnect reports a
//     'gap'; changeRoom starts the numbers again.
//
//   const c = new Client({ nodesURL: '/goim/nodes/weighted', resume: true,
//     token: { mid: 123, key: 'k1', room_id: 'live://1000', accepts: [1000] } });
//   c.on('gap', () => refetchRoom());

/** Operations of the client protocol (docs/protocol.md). */
export const OP = Object.freeze({
  HANDSHAKE: 0,
  HANDSHAKE_REPLY: 1,
  HEARTBEAT: 2,
  HEARTBEAT_REPLY: 3,
  SEND_MSG: 4,
  SEND_MSG_REPLY: 5,
  DISCONNECT_REPLY: 6,
  AUTH: 7,
  AUTH_REPLY: 8,
  RAW: 9,
  CHANGE_ROOM: 12,
  CHANGE_ROOM_REPLY: 13,
  SUB: 14,
  SUB_REPLY: 15,
  UNSUB: 16,
  UNSUB_REPLY: 17,
  JOIN_ROOM: 20,
  JOIN_ROOM_REPLY: 21,
  LEAVE_ROOM: 22,
  LEAVE_ROOM_REPLY: 23,
});

/**
 * Statuses of a join or leave reply (its first body byte, then the room
 * id); docs/protocol.md, "Several rooms per connection".
 */
export const ROOM_STATUS = Object.freeze({
  OK: 0, // in the room (join) or out of it (leave), also when it already was
  LIMIT: 1, // join refused: the connection is in as many rooms as the server allows
  BAD_ID: 2, // the room id is empty or longer than 256 bytes
  NOT_MEMBER: 3, // leave of a room the connection is not in
});

const roomStatusText = ['ok', 'too many rooms', 'bad room id', 'not in room'];

/** RoomError: the server refused a join or leave; status is a ROOM_STATUS value. */
export class RoomError extends Error {
  constructor(room, status) {
    super(`goim: room ${room}: ${roomStatusText[status] ?? 'status ' + status}`);
    this.name = 'RoomError';
    this.room = room;
    this.status = status;
  }
}

/** Length of a packet header; the only headerLen allowed. */
export const HEADER_LEN = 16;

/** Protocol version this client sends. */
export const VERSION = 1;

/** States of a Client, in the order a connection goes through them. */
export const STATE = Object.freeze({
  IDLE: 'idle', // created, connect() not called yet
  CONNECTING: 'connecting', // choosing a node, opening the socket, authenticating
  OPEN: 'open', // authenticated: pushes arrive
  RECONNECTING: 'reconnecting', // lost; waiting for the backoff delay
  CLOSED: 'closed', // close() was called; final
});

/** ProtocolError: bytes from the server that break the protocol. */
export class ProtocolError extends Error {
  constructor(message) {
    super('goim: protocol error: ' + message);
    this.name = 'ProtocolError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** toBytes returns body (string, ArrayBuffer, typed array, or null) as bytes. */
function toBytes(body) {
  if (body == null) return new Uint8Array(0);
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('goim: body must be a string, ArrayBuffer or typed array');
}

/**
 * encodePacket returns the bytes of one packet: the 16-byte big-endian
 * header {packLen, headerLen 16, ver, op, seq} and the body.
 */
export function encodePacket(op, seq, body, ver = VERSION) {
  const b = toBytes(body);
  const out = new Uint8Array(HEADER_LEN + b.length);
  const v = new DataView(out.buffer);
  v.setInt32(0, out.length);
  v.setInt16(4, HEADER_LEN);
  v.setInt16(6, ver);
  v.setInt32(8, op);
  v.setInt32(12, seq);
  out.set(b, HEADER_LEN);
  return out;
}

/**
 * decodePackets decodes the packets back to back in data (one WebSocket
 * message) and returns them in order as {ver, op, seq, body} with body a
 * Uint8Array view of data. The packets of an op-9 batch's body are
 * returned in its place. It throws ProtocolError on a bad header or a
 * truncated packet.
 */
export function decodePackets(data) {
  const bytes = toBytes(data);
  const out = [];
  for (const p of splitPackets(bytes)) {
    if (p.op === OP.RAW) out.push(...splitPackets(p.body));
    else out.push(p);
  }
  return out;
}

/** splitPackets decodes the packets back to back in bytes, without unpacking batches. */
function splitPackets(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  for (let off = 0; off < bytes.length; ) {
    if (bytes.length - off < HEADER_LEN) {
      throw new ProtocolError(`${bytes.length - off} bytes left, less than a header`);
    }
    const packLen = v.getInt32(off);
    const headerLen = v.getInt16(off + 4);
    if (headerLen !== HEADER_LEN) throw new ProtocolError(`headerLen ${headerLen}, want 16`);
    if (packLen < HEADER_LEN || packLen > bytes.length - off) {
      throw new ProtocolError(`packLen ${packLen} with ${bytes.length - off} bytes left`);
    }
    out.push({
      ver: v.getInt16(off + 6),
      op: v.getInt32(off + 8),
      seq: v.getInt32(off + 12),
      body: bytes.subarray(off + HEADER_LEN, off + packLen),
    });
    off += packLen;
  }
  return out;
}

/** Message is a pushed packet, as handed to 'message' listeners. */
export class Message {
  constructor(p) {
    /** The packet's operation (the push's operation). */
    this.op = p.op;
    /** The packet's seq: a room push's room sequence number, else 0 (see resume in the header comment). */
    this.seq = p.seq;
    /** The packet's protocol version. */
    this.ver = p.ver;
    /** The body, a Uint8Array of its own. */
    this.body = p.body.slice();
  }
  /** text is the body decoded as UTF-8. */
  get text() {
    return decoder.decode(this.body);
  }
  /** json parses the body as JSON. */
  json() {
    return JSON.parse(this.text);
  }
}

/** Defaults of the Client options. */
export const DEFAULTS = Object.freeze({
  path: '/sub',
  heartbeat: 30000, // ms, when neither the option nor /goim/nodes/weighted says
  heartbeatMax: 3,
  connectTimeout: 10000, // ms: socket open and auth reply
  requestTimeout: 10000, // ms: a request's reply
  // seconds, as /goim/nodes/weighted's backoff (goim's values)
  backoff: Object.freeze({ base_delay: 3, factor: 1.8, jitter: 0.3, max_delay: 300 }),
});

/**
 * Client is one logical connection to a goim comet that reconnects by
 * itself until close(). Events (on/off): 'state' (state, info), 'message'
 * (Message), 'online' (count), 'auth' (the auth reply: {room_id,
 * room_epoch, room_seq, resumed}, or null for an empty reply), 'gap' (the
 * auth reply of a reconnect that could not resume the primary room),
 * 'rejoined' (rooms: the rooms joined with join() that the server took
 * back after a reconnect), 'error' (Error; the client carries on).
 */
export class Client {
  /**
   * @param {object} options
   * @param {string} [options.url] WebSocket URL of a comet (ws://host:3102/sub); or
   * @param {string} [options.nodesURL] URL of logic's /goim/nodes/weighted (may be
   *   relative to the page); the platform query parameter defaults to the token's
   *   platform, else "web". Its heartbeat, heartbeat_max and backoff are used
   *   unless the options below set them.
   * @param {object|string|function} options.token auth token: an object (sent as
   *   JSON), a JSON string, or a function ({attempt, roomSeq, roomEpoch}) =>
   *   object|string called on every (re)connect.
   * @param {boolean} [options.resume] add room_seq and room_epoch to a token
   *   object on every connect, resuming the primary room; default false.
   * @param {boolean} [options.secure] wss:// and wss_port for nodes; default: the
   *   page is https.
   * @param {string} [options.path] WebSocket path for nodes; default /sub.
   * @param {number} [options.heartbeat] heartbeat interval in ms.
   * @param {number} [options.heartbeatMax] replies that may be missed before the
   *   connection counts as dead.
   * @param {object} [options.backoff] {base_delay, factor, jitter, max_delay}, seconds.
   * @param {boolean} [options.reconnect] reconnect after a loss; default true.
   * @param {number} [options.connectTimeout] ms for the socket to open and auth to be answered.
   * @param {number} [options.requestTimeout] ms for a request's reply.
   */
  constructor(options) {
    if (!options || (!options.url && !options.nodesURL)) {
      throw new TypeError('goim: options.url or options.nodesURL is required');
    }
    if (options.token == null) throw new TypeError('goim: options.token is required');
    this._opt = { ...options };
    this._listeners = new Map();
    this._state = STATE.IDLE;
    this._ws = null;
    this._seq = 0;
    this._pending = new Map(); // seq -> {replyOp, resolve, reject, timer}
    this._timers = new Set();
    this._attempt = 0; // failed attempts since the last successful auth
    this._nodes = null; // last /goim/nodes/weighted answer
    this._nodeIndex = 0;
    this._lastRecv = 0;
    /** Online count of the last heartbeat reply (-1 before the first). */
    this.online = -1;
    /** Last room sequence number of the primary room; 0: none known. */
    this.roomSeq = 0;
    /** Epoch of roomSeq (docs/protocol.md); 0: none known. */
    this.roomEpoch = 0;
    /** The last auth reply: {room_id, room_epoch, room_seq, resumed}, or null. */
    this.auth = null;
    this._opened = 0; // successful auths so far
    this._tokenRooms = 0; // rooms besides room_id in the token last sent
    this._joined = new Set(); // rooms joined with join() and not left: joined again on reconnect
  }

  /** joinedRooms returns the rooms joined with join() and not left since. */
  get joinedRooms() {
    return [...this._joined];
  }

  /** state is the current state (a STATE value). */
  get state() {
    return this._state;
  }

  /** on adds a listener for event and returns this. */
  on(event, fn) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(fn);
    return this;
  }

  /** off removes a listener added with on and returns this. */
  off(event, fn) {
    this._listeners.get(event)?.delete(fn);
    return this;
  }

  _emit(event, ...args) {
    for (const fn of this._listeners.get(event) ?? []) {
      try {
        fn(...args);
      } catch (e) {
        console.error('goim: a', event, 'listener threw', e);
      }
    }
  }

  _setState(state, info = {}) {
    this._state = state;
    this._emit('state', state, info);
  }

  /** connect starts connecting (once; later calls do nothing) and returns this. */
  connect() {
    if (this._state === STATE.IDLE) this._dial();
    return this;
  }

  /** close closes the connection for good and rejects pending requests. */
  close() {
    if (this._state === STATE.CLOSED) return;
    this._state = STATE.CLOSED;
    for (const t of this._timers) clearTimeout(t);
    this._timers.clear();
    this._drop('closed by the client');
    this._emit('state', STATE.CLOSED, { reason: 'closed by the client' });
  }

  _after(ms, fn) {
    const t = setTimeout(() => {
      this._timers.delete(t);
      fn();
    }, ms);
    this._timers.add(t);
    return t;
  }

  _cancel(t) {
    clearTimeout(t);
    this._timers.delete(t);
  }

  // ---- connecting

  async _dial() {
    this._setState(STATE.CONNECTING, { attempt: this._attempt });
    let url;
    try {
      url = await this._chooseURL();
    } catch (e) {
      this._emit('error', e);
      this._attempt++;
      this._retry('no node: ' + e.message);
      return;
    }
    if (this._state !== STATE.CONNECTING) return; // closed meanwhile
    this._open(url);
  }

  // _chooseURL returns the WebSocket URL of this attempt.
  async _chooseURL() {
    const o = this._opt;
    if (o.url) return o.url;
    try {
      this._nodes = await this._fetchNodes();
      this._nodeIndex = 0;
    } catch (e) {
      if (!this._nodes || !this._nodes.nodes?.length) throw e;
      this._emit('error', e); // use the last answer's next node
      this._nodeIndex = (this._nodeIndex + 1) % this._nodes.nodes.length;
    }
    const n = this._nodes;
    if (!n.nodes || n.nodes.length === 0) throw new Error('goim: /goim/nodes/weighted listed no node');
    const secure = o.secure ?? globalThis.location?.protocol === 'https:';
    let host = n.nodes[this._nodeIndex];
    if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`; // IPv6
    const port = secure ? n.wss_port : n.ws_port;
    return `${secure ? 'wss' : 'ws'}://${host}:${port}${o.path ?? DEFAULTS.path}`;
  }

  async _fetchNodes() {
    const base = globalThis.location?.href;
    const u = base ? new URL(this._opt.nodesURL, base) : new URL(this._opt.nodesURL);
    if (!u.searchParams.has('platform')) {
      const tok = typeof this._opt.token === 'object' ? this._opt.token : null;
      u.searchParams.set('platform', tok?.platform || 'web');
    }
    const ctl = new AbortController();
    const t = this._after(this._opt.connectTimeout ?? DEFAULTS.connectTimeout, () => ctl.abort());
    try {
      const resp = await fetch(u, { signal: ctl.signal });
      const r = await resp.json();
      if (!resp.ok || r.code !== 0 || !r.data) {
        throw new Error(`goim: ${u.pathname}: HTTP ${resp.status}, code ${r.code}: ${r.message}`);
      }
      return r.data;
    } finally {
      this._cancel(t);
    }
  }

  _token() {
    let tok = this._opt.token;
    if (typeof tok === 'function') {
      tok = tok({ attempt: this._attempt, roomSeq: this.roomSeq, roomEpoch: this.roomEpoch });
    }
    if (typeof tok !== 'string' && this._opt.resume) {
      tok = { ...tok, room_seq: this.roomSeq, room_epoch: this.roomEpoch };
    }
    const s = typeof tok === 'string' ? tok : JSON.stringify(tok);
    this._tokenRooms = 0;
    try {
      const rooms = JSON.parse(s)?.rooms;
      if (Array.isArray(rooms)) this._tokenRooms = rooms.length;
    } catch {
      // not JSON (a signed token): its rooms are unknown here
    }
    return s;
  }

  // _oneRoom reports whether the connection is in its primary room only,
  // so that a room push's seq is the primary room's number.
  _oneRoom() {
    return this._tokenRooms === 0 && this._joined.size === 0;
  }

  // _authReply reads the auth reply's body: JSON with the primary room's
  // epoch and number when the token asked to resume, else empty.
  _authReply(body) {
    let r = null;
    if (body.length > 0) {
      try {
        r = JSON.parse(decoder.decode(body));
      } catch (e) {
        this._emit('error', new ProtocolError('auth reply: ' + e.message));
      }
    }
    if (r && typeof r.room_epoch === 'number') {
      this.roomEpoch = r.room_epoch;
      // Resumed: the missed messages follow and advance roomSeq one by
      // one. Not resumed: live messages follow the reply's number.
      if (!r.resumed) this.roomSeq = r.room_seq;
    } else {
      r = null;
    }
    this.auth = r;
    return r;
  }

  _open(url) {
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      this._emit('error', e);
      this._attempt++;
      this._retry('bad URL ' + url);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this._ws = ws;
    this._seq = 0;
    const authTimer = this._after(this._opt.connectTimeout ?? DEFAULTS.connectTimeout, () => {
      if (this._ws === ws && this._state === STATE.CONNECTING) this._lost(ws, 'no auth reply in time');
    });
    ws.onopen = () => {
      if (this._ws !== ws) return;
      this._lastRecv = Date.now();
      let tok;
      try {
        tok = this._token();
      } catch (e) {
        this._emit('error', e);
        this._lost(ws, 'token: ' + e.message);
        return;
      }
      ws.send(encodePacket(OP.AUTH, this._nextSeq(), tok));
    };
    ws.onmessage = (ev) => {
      if (this._ws !== ws) return;
      if (!(ev.data instanceof ArrayBuffer)) {
        this._emit('error', new ProtocolError('text message'));
        return;
      }
      let packets;
      try {
        packets = decodePackets(ev.data);
      } catch (e) {
        this._emit('error', e);
        this._lost(ws, e.message);
        return;
      }
      this._lastRecv = Date.now();
      for (const p of packets) {
        if (p.op === OP.AUTH_REPLY && this._state === STATE.CONNECTING) {
          this._cancel(authTimer);
          this._authed(url, this._authReply(p.body));
        } else {
          this._packet(p);
        }
      }
    };
    ws.onclose = (ev) => {
      if (this._ws !== ws) return;
      this._cancel(authTimer);
      const why = this._state === STATE.CONNECTING ? 'closed before the auth reply (token refused?)' : 'closed by the server';
      this._lost(ws, `${why}: code ${ev.code}${ev.reason ? ' ' + ev.reason : ''}`);
    };
    ws.onerror = () => {}; // onclose follows with the code
  }

  _nextSeq() {
    this._seq = this._seq === 0x7fffffff ? 1 : this._seq + 1;
    return this._seq;
  }

  _authed(url, reply) {
    this._attempt = 0;
    const reconnect = this._opened++ > 0;
    const n = this._nodes ?? {};
    const hb = this._opt.heartbeat ?? (n.heartbeat > 0 ? n.heartbeat * 1000 : DEFAULTS.heartbeat);
    const misses = this._opt.heartbeatMax ?? (n.heartbeat_max > 0 ? n.heartbeat_max : DEFAULTS.heartbeatMax);
    this._setState(STATE.OPEN, { url });
    this._beat(this._ws, hb, misses);
    this._emit('auth', reply);
    if (reconnect && this._opt.resume && !reply?.resumed) this._emit('gap', reply);
    this._rejoin();
  }

  // _rejoin joins again, on a new connection, the rooms joined with
  // join(), then emits 'rejoined' with those the server took.
  _rejoin() {
    const rooms = [...this._joined];
    if (rooms.length === 0) return;
    const ws = this._ws;
    Promise.allSettled(rooms.map((r) => this._request(OP.JOIN_ROOM, r, OP.JOIN_ROOM_REPLY))).then((results) => {
      if (this._ws !== ws) return; // lost again meanwhile: the next connection rejoins
      const ok = [];
      results.forEach((res, i) => {
        if (res.status === 'fulfilled') ok.push(rooms[i]);
        else this._emit('error', res.reason);
      });
      this._emit('rejoined', ok);
    });
  }

  // _beat sends a heartbeat now and every hb ms while ws is current, and
  // gives ws up when nothing arrived for hb x misses.
  _beat(ws, hb, misses) {
    if (this._ws !== ws || this._state !== STATE.OPEN) return;
    if (Date.now() - this._lastRecv > hb * misses) {
      this._lost(ws, `nothing received for ${hb * misses} ms`);
      return;
    }
    ws.send(encodePacket(OP.HEARTBEAT, this._nextSeq(), null));
    this._after(hb, () => this._beat(ws, hb, misses));
  }

  // ---- packets

  _packet(p) {
    if (p.op === OP.HEARTBEAT_REPLY) {
      if (p.body.length >= 4) {
        this.online = new DataView(p.body.buffer, p.body.byteOffset, 4).getInt32(0);
        this._emit('online', this.online);
      }
      return;
    }
    const req = p.seq !== 0 ? this._pending.get(p.seq) : undefined;
    if (req && req.replyOp === p.op) {
      this._pending.delete(p.seq);
      this._cancel(req.timer);
      if (p.op === OP.JOIN_ROOM_REPLY || p.op === OP.LEAVE_ROOM_REPLY) {
        this._roomReply(p, req);
        return;
      }
      req.resolve({ op: p.op, seq: p.seq });
      return;
    }
    if (p.seq !== 0) {
      if (this._oneRoom()) {
        this.roomSeq = p.seq >>> 0; // room numbers are unsigned
      } else {
        this.roomSeq = this.roomEpoch = 0; // which room's number it is is unknown
      }
    }
    this._emit('message', new Message(p));
  }

  // _roomReply settles req with the join or leave reply p: a status byte,
  // then the room id.
  _roomReply(p, req) {
    const status = p.body.length > 0 ? p.body[0] : -1;
    const room = decoder.decode(p.body.subarray(1));
    const leave = p.op === OP.LEAVE_ROOM_REPLY;
    if (status === ROOM_STATUS.OK || (leave && status === ROOM_STATUS.NOT_MEMBER)) {
      req.resolve({ op: p.op, seq: p.seq, status, room });
    } else {
      req.reject(new RoomError(room, status));
    }
  }

  // ---- requests

  _request(op, body, replyOp) {
    if (this._state !== STATE.OPEN) {
      return Promise.reject(new Error(`goim: not connected (state ${this._state})`));
    }
    const seq = this._nextSeq();
    const pkt = encodePacket(op, seq, body);
    return new Promise((resolve, reject) => {
      const timer = this._after(this._opt.requestTimeout ?? DEFAULTS.requestTimeout, () => {
        this._pending.delete(seq);
        reject(new Error(`goim: no reply to op ${op} seq ${seq} in time`));
      });
      this._pending.set(seq, { replyOp, resolve, reject, timer });
      this._ws.send(pkt);
    });
  }

  /** changeRoom moves the connection to room ('' leaves it); resolves on op 13. */
  changeRoom(room) {
    return this._request(OP.CHANGE_ROOM, room, OP.CHANGE_ROOM_REPLY).then((r) => {
      this.roomSeq = this.roomEpoch = 0; // a new primary room, numbered afresh
      return r;
    });
  }

  /**
   * join joins room besides the rooms the connection is in (op 20);
   * resolves on op 21 with {op, seq, status, room}, or rejects with a
   * RoomError (too many rooms, bad room id). The room is joined again
   * after each reconnect until leave(room).
   */
  join(room) {
    if (typeof room !== 'string' || room === '') {
      return Promise.reject(new TypeError('goim: join needs a room id'));
    }
    return this._request(OP.JOIN_ROOM, room, OP.JOIN_ROOM_REPLY).then((r) => {
      this._joined.add(room);
      return r;
    });
  }

  /**
   * leave leaves room, the primary room or one joined (op 22); resolves on
   * op 23 with {op, seq, status, room}, status NOT_MEMBER when the
   * connection was not in it. The room is not joined again on reconnect.
   */
  leave(room) {
    if (typeof room !== 'string' || room === '') {
      return Promise.reject(new TypeError('goim: leave needs a room id'));
    }
    this._joined.delete(room);
    return this._request(OP.LEAVE_ROOM, room, OP.LEAVE_ROOM_REPLY);
  }

  /** sub adds push operations to the accept set; resolves on op 15. */
  sub(...ops) {
    return this._request(OP.SUB, ops.flat().join(','), OP.SUB_REPLY);
  }

  /** unsub removes push operations from the accept set; resolves on op 17. */
  unsub(...ops) {
    return this._request(OP.UNSUB, ops.flat().join(','), OP.UNSUB_REPLY);
  }

  /**
   * send sends body with application operation op (forwarded to logic);
   * resolves on the server's acknowledgement (same op and seq).
   */
  send(op, body) {
    const reserved = [OP.HEARTBEAT, OP.AUTH, OP.CHANGE_ROOM, OP.SUB, OP.UNSUB, OP.JOIN_ROOM, OP.LEAVE_ROOM];
    if (!Number.isInteger(op) || reserved.includes(op)) {
      return Promise.reject(new TypeError(`goim: op ${op} cannot be sent with send`));
    }
    return this._request(op, body, op);
  }

  // ---- losing and reconnecting

  // _drop closes the current socket and rejects the pending requests.
  _drop(reason) {
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    }
    for (const [, req] of this._pending) {
      this._cancel(req.timer);
      req.reject(new Error('goim: connection lost: ' + reason));
    }
    this._pending.clear();
  }

  _lost(ws, reason) {
    if (this._ws !== ws || this._state === STATE.CLOSED) return;
    const wasOpen = this._state === STATE.OPEN;
    this._drop(reason);
    if (!wasOpen) this._attempt++;
    this._retry(reason);
  }

  // _retry waits for the backoff delay of the current attempt, then dials.
  _retry(reason) {
    if (this._state === STATE.CLOSED) return;
    if (this._opt.reconnect === false) {
      this._state = STATE.CLOSED;
      this._emit('state', STATE.CLOSED, { reason });
      return;
    }
    const delay = this.backoffDelay(this._attempt);
    this._setState(STATE.RECONNECTING, { attempt: this._attempt, delay, reason });
    this._after(delay, () => {
      if (this._state === STATE.RECONNECTING) this._dial();
    });
  }

  /**
   * backoffDelay returns the wait in ms before reconnect attempt n (0 after
   * a connection that was open): base_delay x factor^n, at most max_delay,
   * spread by ±jitter.
   */
  backoffDelay(n) {
    const b = { ...DEFAULTS.backoff, ...(this._nodes?.backoff ?? {}), ...(this._opt.backoff ?? {}) };
    const d = Math.min(b.base_delay * Math.pow(b.factor, n), b.max_delay);
    return Math.max(0, d * (1 + b.jitter * (Math.random() * 2 - 1))) * 1000;
  }
}
