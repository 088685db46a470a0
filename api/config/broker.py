"""kombu's Redis transport, with a channel that finishes closing when the broker is gone
(settings: CELERY_BROKER_TRANSPORT).

Closing a kombu Redis channel first reads the reply of a BRPOP still in flight, so that a
message Redis already popped is not lost on a warm shutdown. When Redis has just died that
read raises a connection error, which leaves the channel half-closed: still open, with its
unacknowledged messages neither restored nor forgotten. A worker that lost the broker then
detaches the transport from its connection and closes that channel a second time; the close
now gets as far as restoring the messages, which needs the detached connection's address,
and raises AttributeError. That is not a connection error, so Celery takes it as fatal and
the whole worker exits instead of reconnecting.
"""

from queue import Empty

from kombu.transport import redis


class Channel(redis.Channel):
    def close(self):
        if self._in_poll:
            try:
                self._brpop_read()
            except (Empty, *self.connection_errors):
                # A dead connection has no reply left to read; the read already dropped it
                # and marked the channel as no longer polling, so the close goes on.
                pass
        super().close()


class Transport(redis.Transport):
    Channel = Channel
