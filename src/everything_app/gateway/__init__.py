"""The OpenAI-compatible gateway: `/v1/chat/completions` and `/v1/models` for the user's API
keys, with usage recorded per key and per user (`/api/usage`)."""
