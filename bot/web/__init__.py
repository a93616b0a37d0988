"""The web side of Meedoen: each part (the moderators' dashboard, webhooks, health) is an
aiohttp sub-application of its own, mounted by the composition root."""
