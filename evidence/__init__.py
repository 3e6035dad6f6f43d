"""Evidence bundles an inspector can take to enforcement (湖北省污染源自动监控管理办法
Art. 26: automatic monitoring data form part of the evidence chain), and their check.

* :func:`evidence.export.export_bundle`: one station's window as a signed ZIP: the raw
  frames exactly as received, the values parsed from them, alarms, cases, commands,
  clock drift, marks, the window's rates and emissions, the hash-chain links that tie
  the window to the stored archive, a manifest of SHA-256 hashes signed with the
  platform's Ed25519 key, and a report in Chinese (HTML and PDF).
* :func:`evidence.verify.verify_bundle`: checks a bundle with no database: signature,
  hashes, every frame re-parsed by the codec against the exported values, the chain.

Layering: evidence imports storage, rules, reports, protocol and config; only cli
imports evidence (the console calls these functions too).
"""
