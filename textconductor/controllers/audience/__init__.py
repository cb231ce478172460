"""The audience conducts: phones on the venue's network join from a QR code and pull the mix.

* `aggregate`: the room as pure functions: phones' pucks -> the crowd's weights, stale phones out;
* `inbox`: what a phone may send, validated and counted (and the per-connection rate limit);
* `server`: the aiohttp web server (the page, the websocket, the room code, the connection cap)
  and its link to the engine over OSC (`/tc/crowd`, `/tc/crowd_points`, `/tc/prime`);
* `page/`: the one plain HTML/JS page a phone opens (no build step, no CDN).

aiohttp is imported only by `server`, and only `textconductor audience` (or `play --audience`)
imports that: nothing else pays for it.
"""
