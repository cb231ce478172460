"""The audience conducts: phones on the venue's network join from a QR code and pull the mix.

* `aggregate`: the room as pure functions: phones' pucks -> the crowd's weights, stale phones out;
* `inbox`: what a phone may send, validated and counted (and the per-connection rate limit);
* `session`: one room live: the phones' websockets, the connection cap, and the link to the engine
  over OSC (`/tc/crowd`, `/tc/crowd_points`, `/tc/prime`);
* `server`: that room behind the aiohttp web server (the page, the room code, the allow-list);
* `page/`: the one plain HTML/JS page a phone opens (no build step, no CDN).

aiohttp is imported only by `server` and `session`, and only `textconductor audience` (or
`play --audience`) imports those: nothing else pays for it.
"""
