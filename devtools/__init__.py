"""Development doubles, apart from the production code: what stands in for WeChat and for
real residents while developing, testing and benchmarking.

- fake_wechat.py (with fake_media.py, fake_errors.py): a fake WeChat/WeCom HTTP API on a
  local port (`yishiting fake-wechat`, the tests' `fake` fixture, the benchmarks);
- simulator.py: messages signed (and encrypted) as WeChat signs them (`yishiting simulate`,
  the console's development-mode /simulator, tests and benchmarks);
- demo.py: the demo community (`yishiting init --demo`, `make run`);
- devconfig.py: the development config `make run` writes (`python -m devtools.devconfig`).

Production code reaches these only from the development commands (`fake-wechat`,
`simulate`, `init --demo`) and the development-mode /simulator page, and only inside the
function that needs them (tests/test_layers.py checks it), so a production process never
loads them.
"""
