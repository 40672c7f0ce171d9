"""The reference: a bare Flask endpoint that only answers "success" (see webhook.py)."""

from flask import Flask

app = Flask(__name__)


@app.route("/wechat", methods=["GET", "POST"])
def wechat() -> str:
    return "success"
