"""The WhatsApp Cloud API channel, as transport-level parts with clean seams.

- `render`: a `Reply` as one or more Cloud API message payloads (pure).
- `inbound`: webhook signature, the verification handshake, and webhook bodies parsed into
  `Inbound` messages and delivery status events (pure).
- `client`: sends one payload to the Graph API over aiohttp and turns failures into typed
  errors.
- `templates`: the 24-hour rule and the message templates for outside it.
- `channel`: the parts wired to the inbox and the outbox deliverer (`WhatsAppChannel`).

Only `channel` touches storage, and nothing here retries: the web server stores each
webhook body in the inbox before answering 200, and the outbox deliverer calls `client` in
order per recipient, with retries and pacing. See the README section "WhatsApp".
"""
