// The live stream: WebSocket /v1/stream in the binary framing of Spec/protocol.md.
// First frame streamAuth with the session token, then subscriptions; it reconnects by
// itself and sends every open subscription again once the server is ready.

import { Decoder, Encoder, KIND } from './codec.js';

export { KIND };

const SEVERITY_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

export class LiveStream {
  constructor() {
    this.listeners = new Map();
    this.subscriptions = new Map();
    this.nextSubscription = 1;
    this.socket = null;
    this.state = 'idle';
    this.token = null;
    this.role = null;
    this.stopped = true;
    this.backoff = 500;
    this.pingTimer = null;
    this.reconnectTimer = null;
    this.received = 0;
  }

  /** `type` is a message name (`nodeStatus`, `ptyOutput` …) or `state`, `unauthorized`. */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, value) {
    const set = this.listeners.get(type);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(value);
      } catch (error) {
        console.error(`stream listener for ${type} failed`, error);
      }
    }
  }

  start(token) {
    this.token = token;
    this.stopped = false;
    this.backoff = 500;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.token = null;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.subscriptions.clear();
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, 'signed out');
    }
    this.setState('idle');
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  connect() {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/v1/stream`);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    this.encoder = new Encoder();
    const decoder = new Decoder();
    let chain = Promise.resolve();
    this.setState('connecting');

    socket.onopen = () => {
      this.sendNow(socket, { type: 'streamAuth', token: this.token });
    };
    socket.onmessage = (event) => {
      if (!(event.data instanceof ArrayBuffer)) {
        socket.close(1003, 'text message');
        return;
      }
      const bytes = new Uint8Array(event.data);
      // Frames are handled in the order they came, though inflating is asynchronous.
      chain = chain.then(async () => {
        if (this.socket !== socket) return;
        const { messages, error } = await decoder.decodeMessage(bytes);
        for (const message of messages) this.dispatch(socket, message);
        if (error) {
          console.warn('stream: protocol error', error.code, error.message);
          socket.close(error.code === 'frame_too_large' || error.code === 'payload_too_large' ? 1009 : 1002, error.code);
        }
      });
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearInterval(this.pingTimer);
      if (this.stopped) return;
      this.setState('reconnecting');
      this.reconnectTimer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
    socket.onerror = () => {};
  }

  dispatch(socket, message) {
    this.received++;
    switch (message.type) {
      case 'streamReady':
        this.role = message.role;
        this.backoff = 500;
        this.setState('live');
        for (const subscription of this.subscriptions.values()) this.sendNow(socket, subscription.frame());
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send({ type: 'ping', nonce: Date.now() % 1e9 }), 25000);
        break;
      case 'ping':
        this.send({ type: 'pong', nonce: message.nonce });
        break;
      case 'error':
        if (message.code === 'unauthorized') {
          this.stopped = true;
          this.emit('unauthorized', message);
        }
        break;
    }
    this.emit(message.type, message);
  }

  sendNow(socket, message) {
    if (socket.readyState !== WebSocket.OPEN) return false;
    socket.send(this.encoder.encode(message));
    return true;
  }

  /** Sends when live; false otherwise (terminal keystrokes are not queued). */
  send(message) {
    if (!this.socket || this.state !== 'live') return false;
    return this.sendNow(this.socket, message);
  }

  /**
   * A live subscription; `update` replaces its filter (same id), `close` ends it.
   * spec: {kinds, nodes, tags, metrics, minSeverity, text}
   */
  subscribe(spec) {
    const stream = this;
    const subscription = {
      id: this.nextSubscription++,
      spec: normalise(spec),
      frame() {
        return {
          type: 'subscribe',
          subscriptionID: this.id,
          kinds: this.spec.kinds,
          nodes: this.spec.nodes,
          tags: this.spec.tags,
          metrics: this.spec.metrics,
          minSeverity: this.spec.minSeverity,
          text: this.spec.text,
        };
      },
      update(next) {
        const spec = normalise(next);
        if (JSON.stringify(spec) === JSON.stringify(this.spec)) return;
        this.spec = spec;
        if (stream.subscriptions.has(this.id)) stream.send(this.frame());
      },
      close() {
        if (!stream.subscriptions.delete(this.id)) return;
        stream.send({ type: 'unsubscribe', subscriptionID: this.id });
      },
    };
    this.subscriptions.set(subscription.id, subscription);
    this.send(subscription.frame());
    return subscription;
  }
}

function normalise(spec) {
  const severity = spec.minSeverity || 'trace';
  return {
    kinds: spec.kinds || 0,
    nodes: [...(spec.nodes || [])].sort(),
    tags: [...(spec.tags || [])].sort(),
    metrics: [...(spec.metrics || [])].sort(),
    minSeverity: SEVERITY_NAMES.includes(severity) ? severity : 'trace',
    text: spec.text || '',
  };
}
