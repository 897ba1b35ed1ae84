"""The Pusher Channels protocol: the realtime server on ``websockets``, its Redis backplane,
channel names and the request and subscription signatures the API checks."""
