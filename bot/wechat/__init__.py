"""The WeChat edge: the webhook, its protocol (signatures, crypto, replies) and parsing."""
