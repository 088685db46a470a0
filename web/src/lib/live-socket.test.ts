import { FakeSocket } from '@/testing/fake-socket';
import { CLOSE_TOO_SLOW, LiveSocket, type SocketEvent } from './live-socket';
import { liveStatusStore } from './live-status';

const MINUTE = 60_000;

function openSocket(random = 0) {
  let tickets = 0;
  const events: SocketEvent[] = [];
  const socket = new LiveSocket({
    getTicket: async () => ({ ticket: `t${++tickets}`, expires_in: 30, url: 'ws://127.0.0.1:8001/ws/notifications/' }),
    onEvent: (event) => events.push(event),
    onResync: () => undefined,
    createSocket: (url) => new FakeSocket(url) as unknown as WebSocket,
    random: () => random,
  });
  socket.start();
  return { socket, events };
}

/** Lets the ticket request resolve and the socket open. */
const settle = () => vi.advanceTimersByTimeAsync(0);
const afterSeq = (s: FakeSocket) => new URL(s.url).searchParams.get('after_seq');

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a socket closed 4429', () => {
  it('before hello (too many sockets): polls over REST and tries again only after a minute', async () => {
    const { socket } = openSocket();
    await settle();
    expect(FakeSocket.instances).toHaveLength(1);

    FakeSocket.latest().drop(CLOSE_TOO_SLOW);
    expect(liveStatusStore.get()).toBe('polling');
    await vi.advanceTimersByTimeAsync(MINUTE - 1);
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(new URL(FakeSocket.latest().url).searchParams.get('ticket')).toBe('t2');

    // Refused again: another minute, not the backoff of a dropped connection.
    FakeSocket.latest().drop(CLOSE_TOO_SLOW);
    expect(liveStatusStore.get()).toBe('polling');
    await vi.advanceTimersByTimeAsync(MINUTE - 1);
    expect(FakeSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(3);

    FakeSocket.latest().receive({ type: 'hello', seq: 4 });
    expect(liveStatusStore.get()).toBe('live');
    socket.stop();
  });

  it('before hello, after a resume: waits with jitter up to 75 s and then resumes after the last seq', async () => {
    const { socket, events } = openSocket(1);
    await settle();
    FakeSocket.latest().receive({ type: 'hello', seq: 2 });
    FakeSocket.latest().receive({ type: 'transfer.updated', seq: 3 });
    FakeSocket.latest().drop(1006);
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeSocket.instances).toHaveLength(2);

    FakeSocket.latest().drop(CLOSE_TOO_SLOW);
    await vi.advanceTimersByTimeAsync(75_000 - 1);
    expect(FakeSocket.instances).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.instances).toHaveLength(3);
    expect(afterSeq(FakeSocket.latest())).toBe('3');
    expect(events.map((e) => e.seq)).toEqual([3]);
    socket.stop();
  });

  it('after hello (client too slow): resumes at once with after_seq, as after any drop', async () => {
    const { socket, events } = openSocket();
    await settle();
    FakeSocket.latest().receive({ type: 'hello', seq: 7 });
    FakeSocket.latest().receive({ type: 'balance.updated', seq: 8 });

    FakeSocket.latest().drop(CLOSE_TOO_SLOW);
    expect(liveStatusStore.get()).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(250);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(afterSeq(FakeSocket.latest())).toBe('8');

    FakeSocket.latest().receive({ type: 'hello', seq: 9 });
    FakeSocket.latest().receive({ type: 'balance.updated', seq: 9 });
    expect(events.map((e) => e.seq)).toEqual([8, 9]);
    expect(liveStatusStore.get()).toBe('live');
    socket.stop();
    expect(liveStatusStore.get()).toBe('offline');
  });
});
