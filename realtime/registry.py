"""The open sockets of each user, counted across every socket-server process, in Redis.

Each user has a hash `socket id -> server id`. Each server process refreshes a heartbeat key
every HEARTBEAT_SECONDS that expires after SERVER_TTL_SECONDS; a hash entry whose server's
heartbeat has expired belongs to a server that died (SIGKILL, a lost machine) and is purged
at the next count, so a dead server's sockets stop counting within SERVER_TTL_SECONDS.

Counting and adding happen in one Lua script: two handshakes of one user racing on two
servers cannot both take the last place. The script reads the heartbeat keys of the servers it
finds in the hash, which it cannot declare in advance: fine on a single Redis (or a replicated
one), not on Redis Cluster.
"""

from redis import asyncio as aioredis

HEARTBEAT_SECONDS = 2.0
SERVER_TTL_SECONDS = 10
# A user's hash lives this long after their last handshake: entries of a dead server are
# purged at the user's next count, and this bounds the hash of a user who never comes back.
USER_TTL_SECONDS = 86_400
KEY_PREFIX = "vaultpay:sockets:"
SERVER_KEY_PREFIX = KEY_PREFIX + "server:"

_REGISTER = """
redis.call('SET', KEYS[2], '1', 'EX', ARGV[4])
local entries = redis.call('HGETALL', KEYS[1])
local alive = {}
local count = 0
for i = 1, #entries, 2 do
    local server = entries[i + 1]
    if alive[server] == nil then
        alive[server] = redis.call('EXISTS', ARGV[6] .. server) == 1
    end
    if alive[server] then
        count = count + 1
    else
        redis.call('HDEL', KEYS[1], entries[i])
    end
end
if count >= tonumber(ARGV[3]) then
    return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


def _user_key(user_id: str) -> str:
    return f"{KEY_PREFIX}user:{user_id}"


def _server_key(server_id: str) -> str:
    return SERVER_KEY_PREFIX + server_id


async def socket_register(
    *, redis: aioredis.Redis, user_id: str, socket_id: str, server_id: str, limit: int
) -> bool:
    """Adds the socket to its user's, unless the user already has `limit` sockets open on
    live servers; True when added. Also refreshes this server's heartbeat. One round trip."""
    added = await redis.eval(
        _REGISTER,
        2,
        _user_key(user_id),
        _server_key(server_id),
        socket_id,
        server_id,
        limit,
        SERVER_TTL_SECONDS,
        USER_TTL_SECONDS,
        SERVER_KEY_PREFIX,
    )
    return added == 1


async def server_heartbeat(
    *, redis: aioredis.Redis, server_id: str, closed: list[tuple[str, str]]
) -> None:
    """Keeps this server's sockets counted for another SERVER_TTL_SECONDS, and removes the
    `closed` (user id, socket id) pairs. One round trip."""
    pipeline = redis.pipeline(transaction=False)
    pipeline.set(_server_key(server_id), "1", ex=SERVER_TTL_SECONDS)
    for user_id, socket_id in closed:
        pipeline.hdel(_user_key(user_id), socket_id)
    await pipeline.execute()


async def sockets_unregister(*, redis: aioredis.Redis, sockets: list[tuple[str, str]]) -> None:
    """Removes the (user id, socket id) pairs. One round trip."""
    pipeline = redis.pipeline(transaction=False)
    for user_id, socket_id in sockets:
        pipeline.hdel(_user_key(user_id), socket_id)
    await pipeline.execute()


async def server_forget(*, redis: aioredis.Redis, server_id: str) -> None:
    """Drops this server's heartbeat: whatever it still had registered stops counting now."""
    await redis.delete(_server_key(server_id))
