from django.dispatch import Signal

# Sent after the commit that stored them, with `events`: the committed Event rows, in seq
# order per user. Realtime delivery subscribes; nothing here knows who listens.
events_committed = Signal()
