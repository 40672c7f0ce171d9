"""Attachments kept: photos, voice and video residents send, downloaded from WeChat before it
deletes them (fetch.py), in a private folder (store.py)."""
