from django.dispatch import Signal

# Sent after the commit that deactivated them, with `user_ids`. Realtime closes their open
# sockets; nothing here knows who listens.
users_deactivated = Signal()
