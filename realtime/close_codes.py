"""Close codes of the notifications socket; what each asks of the client is in
docs/socket-protocol.md."""

# The ticket is missing, unknown, used or expired, or the user was deactivated.
BAD_TICKET = 4401
# `after_seq` is malformed or beyond the latest seq.
BAD_AFTER_SEQ = 4400
# `after_seq` is too far behind or past retention: reload over REST.
TOO_OLD = 4410
# Before `hello`: the user has too many sockets open (poll, retry after a minute). After
# `hello`: the socket fell too far behind, or its client sent too many messages.
TOO_MANY = 4429
# The server is stopping, or lost Redis: reconnect (elsewhere) with `after_seq`.
SERVICE_RESTART = 1012
# Redis or PostgreSQL cannot be reached right now: reconnect with `after_seq` after a pause.
TRY_AGAIN_LATER = 1013
