import { z } from 'zod';
import { liveStatusStore } from './live-status';

// One notification socket per tab: ask for a single-use ticket, open the ticket's url, and on
// any drop reconnect with exponential backoff and after_seq so no event is missed. Events go
// to `onEvent` in seq order, each once. A socket refused for having too many open (4429
// before `hello`) is not retried quickly: the data polls over REST meanwhile (README,
// "Realtime").

export const TicketSchema = z.object({ ticket: z.string(), expires_in: z.number(), url: z.string() });
export type Ticket = z.infer<typeof TicketSchema>;

const MessageSchema = z.looseObject({ type: z.string(), seq: z.number().int().nonnegative().optional() });
export type SocketEvent = z.infer<typeof MessageSchema> & { seq: number };

export const CLOSE_BAD_TICKET = 4401;
export const CLOSE_BAD_AFTER_SEQ = 4400;
export const CLOSE_TOO_FAR_BEHIND = 4410;
/** After `hello`: this socket fell behind or sent too much. Before it: too many sockets. */
export const CLOSE_TOO_SLOW = 4429;

export type LiveSocketOptions = {
  getTicket: () => Promise<Ticket>;
  onEvent: (event: SocketEvent) => void;
  /** Events may have been missed (first connect, or the server could not replay): reload over REST. */
  onResync: () => void;
  createSocket?: (url: string) => WebSocket;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The least wait before trying again after the server refused a socket as one too many. */
  tooManySocketsRetryMs?: number;
  pingIntervalMs?: number;
  random?: () => number;
};

export class LiveSocket {
  private socket: WebSocket | null = null;
  private lastSeq: number | null = null;
  private attempt = 0;
  /** Whether the current socket got its `hello`. */
  private greeted = false;
  private stopped = true;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private readonly opts: Required<Omit<LiveSocketOptions, 'createSocket'>> & Pick<LiveSocketOptions, 'createSocket'>;

  constructor(options: LiveSocketOptions) {
    this.opts = {
      baseDelayMs: 500,
      maxDelayMs: 15000,
      tooManySocketsRetryMs: 60000,
      pingIntervalMs: 25000,
      random: Math.random,
      ...options,
    };
  }

  get seq(): number | null {
    return this.lastSeq;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    liveStatusStore.set('connecting');
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.clearPinger();
    const s = this.socket;
    this.socket = null;
    if (s && s.readyState <= 1) s.close(1000, 'bye');
    liveStatusStore.set('offline');
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let ticket: Ticket;
    try {
      ticket = await this.opts.getTicket();
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const url = new URL(ticket.url, window.location.href);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    url.searchParams.set('ticket', ticket.ticket);
    if (this.lastSeq !== null) url.searchParams.set('after_seq', String(this.lastSeq));
    let socket: WebSocket;
    try {
      socket = this.opts.createSocket ? this.opts.createSocket(url.toString()) : new WebSocket(url.toString());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.greeted = false;
    socket.onmessage = (m) => this.handleMessage(m.data);
    socket.onclose = (e) => this.handleClose(socket, e.code);
    socket.onerror = () => {
      // onclose follows and does the work
    };
  }

  private handleMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    const parsed = MessageSchema.safeParse(json);
    if (!parsed.success) return;
    const message = parsed.data;
    if (message.type === 'hello') {
      this.greeted = true;
      this.attempt = 0;
      liveStatusStore.set('live');
      this.startPinger();
      const first = this.lastSeq === null;
      if (first) {
        // Nothing replayed on a first connect: what came before is in the REST data.
        this.lastSeq = message.seq ?? 0;
        this.opts.onResync();
      }
      return;
    }
    if (message.type === 'pong' || message.seq === undefined) return;
    if (this.lastSeq !== null && message.seq <= this.lastSeq) return; // already applied
    this.lastSeq = message.seq;
    this.opts.onEvent(message as SocketEvent);
  }

  private handleClose(socket: WebSocket, code: number): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.clearPinger();
    if (this.stopped) return;
    if (code === CLOSE_TOO_SLOW && !this.greeted) {
      // Refused before anything was sent: the user has as many sockets open as allowed. A
      // quick retry would be refused too; poll over REST (any status but live) for a while.
      // Nothing was replayed, so lastSeq still says where to resume.
      liveStatusStore.set('polling');
      const wait = this.opts.tooManySocketsRetryMs;
      this.retryIn(wait + (wait / 4) * this.opts.random());
      return;
    }
    if (code === CLOSE_TOO_FAR_BEHIND || code === CLOSE_BAD_AFTER_SEQ) {
      // The server cannot replay from our seq: start over from REST.
      this.lastSeq = null;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    liveStatusStore.set('reconnecting');
    const exp = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    this.retryIn(exp / 2 + (exp / 2) * this.opts.random());
  }

  private retryIn(delay: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, delay);
  }

  private startPinger(): void {
    this.clearPinger();
    this.pinger = setInterval(() => {
      if (this.socket?.readyState === 1) this.socket.send(JSON.stringify({ type: 'ping' }));
    }, this.opts.pingIntervalMs);
  }

  private clearPinger(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
  }
}
